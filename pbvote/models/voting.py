"""That a person voted, and what was voted: two tables with nothing joining them.

Both use random primary keys and SQLite WITHOUT ROWID, so neither the keys nor the
physical row order tell the order of casting, which could otherwise link the two.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.extensions import db


class Participation(db.Model):
    """That an identity took part in a ballot scope, by which channel, and on which day."""

    __tablename__ = "participation"

    #: random hex, not a sequence
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    identity_hash: Mapped[str] = mapped_column(String(64))
    #: "online", "desk", "paper" or "kiosk"
    channel: Mapped[str] = mapped_column(String(10))
    #: in-person site name, empty online
    site: Mapped[str] = mapped_column(String(120), default="")
    #: the day only: a finer time could be matched against the ballot log
    voted_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("cycle_id", "district_id", "identity_hash"),
        # covering indexes for the per-district and per-channel counts of a whole cycle
        Index("ix_participation_cycle_channel_district_site", "cycle_id", "channel",
              "district_id", "site"),
        Index("ix_participation_cycle_district_channel", "cycle_id", "district_id", "channel"),
        # covering: the turnout cube (district x channel x day, joined to the roll by identity)
        # and the count's inputs digest (per district, channel, site and day)
        Index("ix_participation_cycle_district_channel_day", "cycle_id", "district_id",
              "channel", "voted_on", "site", "identity_hash"),
        {"sqlite_with_rowid": False},
    )


class Ballot(db.Model):
    """What was voted. No voter reference and no timestamp."""

    __tablename__ = "ballot"

    #: random hex; also inside the log entry, which makes receipts unguessable
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: "online", "paper" or "kiosk"
    channel: Mapped[str] = mapped_column(String(10))
    #: canonical JSON of the selections, as written to the log
    selections: Mapped[str] = mapped_column(Text)
    receipt: Mapped[str] = mapped_column(String(11))
    #: position of this ballot's entry in the cycle's chain
    chain_position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("cycle_id", "receipt"),
        UniqueConstraint("cycle_id", "chain_position"),
        # covering: ballots per district and channel, and a district's ballots
        Index("ix_ballot_cycle_district_channel", "cycle_id", "district_id", "channel"),
        {"sqlite_with_rowid": False},
    )


class PendingBallot(db.Model):
    """A filled-in ballot between "review" and "cast", kept on the server so that the
    voter's session cookie (which names the verified identity) never holds the choices.

    Keyed by the SHA-256 of a random token that only the session holds; no identity, and
    deleted when the ballot is cast, left or expires.
    """

    __tablename__ = "pending_ballot"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: canonical JSON of the selections, as they will be cast
    selections: Mapped[str] = mapped_column(Text)
    #: Unix time in seconds: a plain number, read without the ORM (services.pending)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)

    __table_args__ = ({"sqlite_with_rowid": False},)
