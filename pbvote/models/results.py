"""Tally runs (private, staff only), the one published results snapshot per cycle, and the
residents who asked to be emailed when the results are out."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db

TALLY_RUN_STATUSES = ("draft", "requested", "published")


class TallyRun(db.Model):
    """One private count of a closed cycle; staff see it, the public does not."""

    __tablename__ = "tally_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    #: account label ("email (#id)") of who ran the count; text, so it outlives the account
    run_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: canonical JSON of pbvote.services.publication.compute_results(), exactly as hashed
    results_json: Mapped[str] = mapped_column(Text)
    #: SHA-256 hex of results_json (UTF-8)
    results_hash: Mapped[str] = mapped_column(String(64))
    #: "draft", then "requested" by an admin, then "published" once a second admin confirms
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: account label ("email (#id)") of the admin who asked to publish
    requested_by: Mapped[str | None] = mapped_column(String(254))
    #: that admin's account id: the confirming admin must be another account
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: account label of the second admin who confirmed publication
    confirmed_by: Mapped[str | None] = mapped_column(String(254))
    #: the standalone verifier's verdict on this run's bundle, taken when the count was made:
    #: True (every check held), False (see verifier_failure) or None (counted before verdicts
    #: were stored)
    verified_ok: Mapped[bool | None] = mapped_column(Boolean)
    #: "<check>: <detail>" of the first check that failed, when verified_ok is False
    verifier_failure: Mapped[str | None] = mapped_column(Text)
    #: the bundle this run would publish, as the zip the verifier passed when the count was
    #: made (chain_head.txt as it was then); deferred, since only publishing and export read it
    bundle_zip: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: SHA-256 hex of bundle_zip, so altered stored bytes are refused, never published
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    #: pbvote.services.audit.inputs_digest() when the count was made: the ballots, receipts,
    #: participations, roll and codes the bundle and the results were built from
    inputs_digest: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'requested', 'published')", name="known_status"),
    )


class ResultsSnapshot(db.Model):
    """The published results of a cycle: written once, never updated (a trigger refuses it)."""

    __tablename__ = "results_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: one snapshot per cycle, ever
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), unique=True)
    tally_run_id: Mapped[int] = mapped_column(ForeignKey("tally_run.id"))
    #: the confirmed tally run's results_json, copied byte for byte
    results_json: Mapped[str] = mapped_column(Text)
    results_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: account label of the admin who requested publication
    published_by: Mapped[str] = mapped_column(String(254))
    #: account label of the second admin who confirmed it
    confirmed_by: Mapped[str] = mapped_column(String(254))


@event.listens_for(ResultsSnapshot, "before_update")
def _refuse_snapshot_update(_mapper, _connection, target: ResultsSnapshot) -> None:
    raise RuntimeError(f"results snapshot {target.id} is immutable")


RESULTS_SUBSCRIPTION_STATUSES = ("pending", "confirmed", "sent", "unsubscribed")


class ResultsSubscription(db.Model):
    """An email address that asked to be told once when a cycle's results are out (double
    opt-in, no account). The address is deleted once that email is sent or on unsubscribe."""

    __tablename__ = "results_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    #: stored lower-case; NULL once the results email was sent or the resident unsubscribed
    email: Mapped[str | None] = mapped_column(String(254))
    #: the language of the page they subscribed from; every email to them is in it
    locale: Mapped[str] = mapped_column(String(10))
    #: SHA-256 of the confirmation token, until confirmed
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: rounded up to the hour, so the row does not tell when someone (perhaps after voting)
    #: asked
    confirm_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the token in the newest unsubscribe link (the confirmation page and the
    #: results email each carry one)
    unsubscribe_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: "pending", "confirmed", "sent" (the results email went out) or "unsubscribed"
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: the day only, for the same reason as confirm_expires_at
    created_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        # NULL addresses (sent, unsubscribed) never collide
        UniqueConstraint("cycle_id", "email"),
        CheckConstraint("status IN ('pending', 'confirmed', 'sent', 'unsubscribed')",
                        name="known_results_subscription_status"),
    )
