"""Appending to and verifying the hash chain; any edit to a stored entry breaks it."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from pbvote.audit.chain import GENESIS_HASH, canonical_json, entry_hash
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Chain, LogEntry
from pbvote.services import log


def _chain_with_entries(count: int = 5) -> int:
    with write_intent():
        chain_id = log.get_or_create_chain("cycle:chain-test").id
        for number in range(count):
            log.record_action(chain_id, "test.action", "tester", {"n": number, "text": "héllo"})
        db.session.commit()
    return chain_id


def test_append_links_each_entry_to_the_previous(app_context):
    chain_id = _chain_with_entries(3)
    entries = db.session.scalars(select(LogEntry).where(LogEntry.chain_id == chain_id)
                                 .order_by(LogEntry.position)).all()
    assert [e.position for e in entries] == [1, 2, 3]
    assert entries[0].previous_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:]):
        assert after.previous_hash == before.entry_hash
    for entry in entries:
        assert entry.entry_hash == entry_hash(entry.previous_hash, entry.entry_json)
    chain = db.session.get(Chain, chain_id)
    assert chain.head_hash == entries[-1].entry_hash and chain.length == 3
    report = log.verify_stored_chain(chain_id)
    assert report.ok and report.verified_length == 3


TAMPERS = {
    "payload": "UPDATE log_entry SET entry_json = REPLACE(entry_json, 'tester', 'mallory') "
               "WHERE position = 3",
    "entry_hash": "UPDATE log_entry SET entry_hash = '{fake}' WHERE position = 2",
    "previous_hash": "UPDATE log_entry SET previous_hash = '{fake}' WHERE position = 4",
    "position": "UPDATE log_entry SET position = 9 WHERE position = 5",
    "delete_middle": "DELETE FROM log_entry WHERE position = 3",
    "delete_last": "DELETE FROM log_entry WHERE position = 5",
    "head": "UPDATE chain SET head_hash = '{fake}'",
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_any_edit_of_a_stored_entry_breaks_verification(app_context, tamper):
    chain_id = _chain_with_entries(5)
    fake = "f" * 64
    with db.engine.begin() as connection:
        connection.execute(text(TAMPERS[tamper].format(fake=fake)))
    db.session.expire_all()
    report = log.verify_stored_chain(chain_id)
    assert not report.ok, tamper
    assert report.problem


def test_an_inserted_entry_with_a_consistent_hash_still_breaks_the_links(app_context):
    chain_id = _chain_with_entries(3)
    forged_json = canonical_json({"position": 4, "kind": "test.action", "data": {"forged": True}})
    first = db.session.scalar(select(LogEntry).where(LogEntry.position == 1))
    # A forger appends an entry that hashes correctly but without updating the head.
    db.session.add(LogEntry(chain_id=chain_id, position=4, kind="test.action",
                            entry_json=forged_json, previous_hash=first.entry_hash,
                            entry_hash=entry_hash(first.entry_hash, forged_json)))
    db.session.commit()
    report = log.verify_stored_chain(chain_id)
    assert not report.ok
    assert "entry 4" in report.problem


def test_claimed_and_orm_appends_interleave_in_one_transaction(app_context):
    """The ballot path writes its entry with Core statements after claim_position; ORM
    appends staged before it must land first, and a Chain object loaded earlier must not
    hand a later ORM append a stale head."""
    with write_intent():
        chain_id = log.get_or_create_chain("cycle:interleave").id
        log.record_action(chain_id, "test.before", "tester", {})  # staged through the ORM
        loaded = db.session.get(Chain, chain_id)
        claimed = log.claim_position(chain_id)
        text_, digest = claimed.entry("ballot", {"ballot_id": "b1"})
        log.write_claimed(claimed, "ballot", text_, digest)
        assert loaded.length == 2 and loaded.head_hash == digest  # reloaded, not stale
        log.record_action(chain_id, "test.after", "tester", {})
        db.session.commit()
    kinds = db.session.scalars(select(LogEntry.kind).where(LogEntry.chain_id == chain_id)
                               .order_by(LogEntry.position)).all()
    assert kinds == ["test.before", "ballot", "test.after"]
    report = log.verify_stored_chain(chain_id)
    assert report.ok and report.verified_length == 3
