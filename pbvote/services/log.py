"""Appending to the hash-chained log."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update

from pbvote.audit.chain import ChainEntry, canonical_json, entry_hash, verify_chain
from pbvote.infra.db import for_update
from pbvote.infra.extensions import db
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
    """Append one entry under a lock on the chain's head row, so appends never fork.

    Staff actions go through the ORM; ballots take the shorter path of claim_position and
    write_claimed below. Both build the entry with ClaimedPosition.entry.
    """
    chain = db.session.scalar(for_update(select(Chain).where(Chain.id == chain_id)))
    claimed = ClaimedPosition(chain.id, chain.length + 1, chain.head_hash)
    text, digest = claimed.entry(kind, data)
    entry = LogEntry(chain_id=chain.id, position=claimed.position, kind=kind, entry_json=text,
                     previous_hash=chain.head_hash, entry_hash=digest)
    chain.length = claimed.position
    chain.head_hash = digest
    db.session.add(entry)
    db.session.flush()
    return entry


# --- the ballot path: Core statements, each one round trip, under the chain's head lock

_CHAIN = Chain.__table__
_CLAIM_POSITION = (update(_CHAIN).where(_CHAIN.c.id == bindparam("chain_id"))
                   .values(length=_CHAIN.c.length + 1)
                   .returning(_CHAIN.c.length, _CHAIN.c.head_hash))
_SET_HEAD = (update(_CHAIN).where(_CHAIN.c.id == bindparam("chain_id"))
             .values(head_hash=bindparam("head_hash")))
_INSERT_ENTRY = insert(LogEntry.__table__)


@dataclass(frozen=True)
class ClaimedPosition:
    """A chain position taken by claim_position: the head row stays locked until commit."""

    chain_id: int
    position: int
    previous_hash: str

    def entry(self, kind: str, data: dict) -> tuple[str, str]:
        """(entry_json, entry_hash) of an entry at this position."""
        text = canonical_json({"position": self.position, "kind": kind, "data": data})
        return text, entry_hash(self.previous_hash, text)


def claim_position(chain_id: int) -> ClaimedPosition:
    """Lock the chain's head row and take the next position, in one statement.

    The UPDATE takes the row lock that orders appends (SQLite's write lock is already held
    by a writing request), and RETURNING gives the new length and the head hash it follows.
    Each statement from here to the commit holds up every other append to this chain, so
    the ballot path writes its rows with Core statements, one round trip each, instead of
    an ORM flush after a select. Whatever the session has staged is flushed first, so an
    ORM append earlier in the transaction comes before this one.
    """
    db.session.flush()
    position, previous = db.session.connection().execute(
        _CLAIM_POSITION, {"chain_id": chain_id}).one()
    return ClaimedPosition(chain_id, position, previous)


def write_claimed(claimed: ClaimedPosition, kind: str, text: str, digest: str) -> None:
    """Store the entry at a claimed position and make it the chain's head."""
    connection = db.session.connection()
    connection.execute(_INSERT_ENTRY, {
        "chain_id": claimed.chain_id, "position": claimed.position, "kind": kind,
        "entry_json": text, "previous_hash": claimed.previous_hash, "entry_hash": digest})
    connection.execute(_SET_HEAD, {"chain_id": claimed.chain_id, "head_hash": digest})
    # a Chain object this session loaded earlier no longer matches its row
    loaded = db.session.identity_map.get(db.session.identity_key(Chain, claimed.chain_id))
    if loaded is not None:
        db.session.expire(loaded)


def record_action(chain_id: int, action: str, actor: str, details: dict) -> LogEntry:
    """An administrative change: who did what, with before/after where it applies."""
    from pbvote.infra.db import utcnow

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
