from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.audit.chain import GENESIS_HASH
from pbvote.infra.extensions import db


class Chain(db.Model):
    """The head of one hash chain; its row is the lock that orders appends."""

    __tablename__ = "chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "system" or "cycle:<slug>"
    name: Mapped[str] = mapped_column(String(120), unique=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class LogEntry(db.Model):
    """One appended entry; entry_json is exactly the text that was hashed."""

    __tablename__ = "log_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("chain.id"))
    #: 1-based position in its chain
    position: Mapped[int] = mapped_column(Integer)
    #: "ballot" or a dotted staff action such as "cycle.created"
    kind: Mapped[str] = mapped_column(String(60))
    entry_json: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("chain_id", "position"),
        # a chain's entries of one kind in order (its ballots, at reconciliation and export)
        Index("ix_log_entry_chain_kind_position", "chain_id", "kind", "position"),
    )
