"""Appending to the hash-chained log."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from pbvote.audit.chain import ChainEntry, canonical_json, entry_hash, verify_chain
from pbvote.db import for_update
from pbvote.extensions import db
from pbvote.models import Chain, LogEntry

SYSTEM_CHAIN = "system"


def chain_name_for_cycle(slug: str) -> str:
    return f"cycle:{slug}"


def get_or_create_chain(name: str) -> Chain:
    chain = db.session.scalar(select(Chain).where(Chain.name == name))
    if chain is None:
        chain = Chain(name=name, length=0)
        db.session.add(chain)
        db.session.flush()
    return chain


def append(chain_id: int, kind: str, data: dict) -> LogEntry:
    """Append one entry under a lock on the chain's head row, so appends never fork."""
    entry = stage_append(chain_id, kind, data)
    db.session.flush()
    return entry


#: built once: every ballot cast runs it
_LOCK_CHAIN_HEAD = for_update(select(Chain).where(Chain.id == bindparam("chain_id")))


def stage_append(chain_id: int, kind: str, data: dict) -> LogEntry:
    """As append, but unflushed: the caller flushes the entry with the rows that go with it.

    The head row is locked here all the same, and stays locked until commit; what is staged
    can be taken back with withdraw_staged before that flush.
    """
    chain = db.session.scalar(_LOCK_CHAIN_HEAD, {"chain_id": chain_id})
    position = chain.length + 1
    text = canonical_json({"position": position, "kind": kind, "data": data})
    digest = entry_hash(chain.head_hash, text)
    entry = LogEntry(chain_id=chain.id, position=position, kind=kind, entry_json=text,
                     previous_hash=chain.head_hash, entry_hash=digest)
    chain.length = position
    chain.head_hash = digest
    db.session.add(entry)
    return entry


def withdraw_staged(entry: LogEntry) -> None:
    """Take back the last entry stage_append gave, before it was flushed."""
    chain = db.session.get(Chain, entry.chain_id)  # in the identity map: no query
    if chain.length != entry.position:
        raise ValueError("only the chain's last staged entry can be withdrawn")
    chain.length = entry.position - 1
    chain.head_hash = entry.previous_hash
    db.session.expunge(entry)


def record_action(chain_id: int, action: str, actor: str, details: dict) -> LogEntry:
    """An administrative change: who did what, with before/after where it applies."""
    from pbvote.db import utcnow

    return append(chain_id, action, {"actor": actor, "at": utcnow().isoformat(timespec="seconds"),
                                     **details})


def stored_entries(chain_id: int):
    rows = db.session.execute(
        select(LogEntry.position, LogEntry.entry_json, LogEntry.previous_hash, LogEntry.entry_hash)
        .where(LogEntry.chain_id == chain_id).order_by(LogEntry.position)
    )
    for position, text, previous, digest in rows:
        yield ChainEntry(position, text, previous, digest)


def verify_stored_chain(chain_id: int):
    chain = db.session.get(Chain, chain_id)
    return verify_chain(stored_entries(chain_id), expected_head=chain.head_hash)
