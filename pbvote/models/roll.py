from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.infra.extensions import db


class RollEntry(db.Model):
    """An imported voter-roll record. Identity fields are kept only as keyed hashes."""

    __tablename__ = "roll_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: HMAC of last name, birth date and postcode
    postcode_match_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: HMAC of last name, birth date and roll number, when the roll has numbers
    roll_number_match_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: kept in clear for the age rule, which depends on the day of voting
    birth_date: Mapped[dt.date] = mapped_column(Date)
    #: HMAC of this person's identity key for the cycle; participation stores the same
    identity_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC of the import's stable key (normalised roll number, else name|birth date|postcode);
    #: re-imports match rows by it. Empty for entries not made by the roll import.
    roll_key_hash: Mapped[str | None] = mapped_column(String(64))
    #: HMAC of the normalised roll number under the cycle's own, fixed roll_number_key (not
    #: the identity key): a re-import after an identity-key change matches entries by it
    roll_number_key_hash: Mapped[str | None] = mapped_column(String(64))
    #: HMAC of all imported fields, to tell a changed row from an unchanged one on re-import
    details_hash: Mapped[str | None] = mapped_column(String(64))
    #: IN CLEAR on purpose: the name a help-desk clerk reads back to find a resident.
    #: Only filled when the import maps a display_name column.
    display_name: Mapped[str | None] = mapped_column(String(200))

    district = relationship("District")

    __table_args__ = (
        UniqueConstraint("cycle_id", "identity_hash"),
        # a district's entries in roll order: letters for a whole roll walk it in steps
        Index("ix_roll_entry_cycle_district_id", "cycle_id", "district_id", "id"),
        # covering: eligible people per district and age (the count and turnout figures)
        Index("ix_roll_entry_cycle_district_birth_date", "cycle_id", "district_id", "birth_date"),
        # covering: a participant's date of birth by identity (the turnout cube's age bands)
        Index("ix_roll_entry_cycle_identity_birth_date", "cycle_id", "identity_hash",
              "birth_date", "id"),
    )


class AccessCode(db.Model):
    """A one-time code mailed by the city, tied to a district; only its HMAC is stored.

    A code issued for a roll entry votes under that entry's identity, so a resident who is on
    the roll and got a letter still has one vote. A code without an entry is for a person the
    roll does not list and is an identity of its own.
    """

    __tablename__ = "access_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "unused", "used" or "voided"
    status: Mapped[str] = mapped_column(String(10), default="unused")
    #: the roll entry the code was mailed to; a link rather than a copy of its identity hash,
    #: because a roll re-import may rewrite that hash. The roll import voids the code before
    #: it removes the entry; SET NULL only covers deletions outside the import.
    roll_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("roll_entry.id", ondelete="SET NULL"), index=True)

    district = relationship("District")
