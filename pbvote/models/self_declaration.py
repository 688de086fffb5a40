"""Residents on no roll who declared online that they live in a district (vote/declare).

Identity, contact and address are kept only as keyed hashes; no name, address, birth date
or contact is stored in clear. Once the one-time code is confirmed the row keeps no time at
all (the code's expiry is cleared), so it cannot be lined up with the ballot log.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.db import UTCDateTime
from pbvote.infra.extensions import db


class SelfDeclaration(db.Model):
    """One online self-declaration: one per identity and one per contact in a cycle."""

    __tablename__ = "self_declaration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    #: the district the resident declared they live in
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: HMAC of rules.self_declaration.identity_key (name and birth date); participation
    #: stores the same
    identity_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC of the normalised email address or phone number the code went to
    contact_hash: Mapped[str] = mapped_column(String(64))
    #: "email" or "phone"
    contact_kind: Mapped[str] = mapped_column(String(5))
    #: HMAC of the normalised street address and postcode, so the city can see many
    #: declarations at one address when it reviews them
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: HMAC of the declaration and its current 6-digit code; the code is never stored
    code_hash: Mapped[str | None] = mapped_column(String(64))
    #: when the current code stops working; cleared when it is confirmed
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: wrong guesses of the current code
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: the code was confirmed: this identity may vote (once; participation says if it did)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the day of the (latest) declaration, in the cycle's time zone; no finer time
    declared_on: Mapped[dt.date] = mapped_column(Date)
    #: the person key: HMAC of normalised last name, birth date and postcode, the very hash
    #: a roll entry of that person has as postcode_match_hash, so someone who declared and
    #: is later added to the roll still votes once. Empty for rows declared
    #: before migration 0022_declare_review.
    roll_match_hash: Mapped[str | None] = mapped_column(String(64))
    #: set when staff rejected the declaration: the reason the resident is shown
    rejected_reason: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("cycle_id", "identity_hash"),
        UniqueConstraint("cycle_id", "contact_hash"),
        Index("ix_self_declaration_cycle_roll_match_hash", "cycle_id", "roll_match_hash"),
    )
