"""After the vote: who may edit delivery, survey rounds and anonymous answers, and follow
subscriptions. The delivery record itself is not here: it lives only in the cycle's delivery
chain (pbvote.audit.delivery), where nothing is edited in place."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db


class DeliveryEditor(db.Model):
    """A staff account an administrator allowed to record delivery for one cycle."""

    __tablename__ = "delivery_editor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    #: account label of the administrator who granted it
    granted_by: Mapped[str] = mapped_column(String(254))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("cycle_id", "account_id"),)


class SurveyRound(db.Model):
    """One round (baseline or follow-up) of the perception survey in one district."""

    __tablename__ = "survey_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id", ondelete="CASCADE"))
    #: short public name, unique in the cycle, used in the delivery chain
    key: Mapped[str] = mapped_column(String(40))
    #: e.g. "Baseline, spring 2026"
    label: Mapped[str] = mapped_column(String(120))
    question: Mapped[str] = mapped_column(String(300))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("cycle_id", "key"),)


class SurveyResponse(db.Model):
    """What was answered: no account, no roll entry, no time finer than the day."""

    __tablename__ = "survey_response"

    #: random hex, not a sequence
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"),
                                          index=True)
    #: 1 (very unsafe) to 5 (very safe)
    answer: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: "none", "pending" (awaiting moderation), "published" or "rejected"
    comment_status: Mapped[str] = mapped_column(String(10), default="none")
    answered_on: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("answer BETWEEN 1 AND 5", name="answer_scale"),
        CheckConstraint("comment_status IN ('none', 'pending', 'published', 'rejected')",
                        name="known_comment_status"),
        {"sqlite_with_rowid": False},
    )


class SurveyAnswered(db.Model):
    """Only that a resident answered a round (as participation is for ballots)."""

    __tablename__ = "survey_answered"

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"),
                                          primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


class FollowSubscription(db.Model):
    """An email address that asked for a funded project's updates (no account needed)."""

    __tablename__ = "follow_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    project_code: Mapped[str] = mapped_column(String(40))
    #: stored lower-case
    email: Mapped[str] = mapped_column(String(254))
    #: SHA-256 of the confirmation token, until confirmed
    confirm_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the token in every message's unsubscribe link
    unsubscribe_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "pending", "confirmed" or "unsubscribed"
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("cycle_id", "project_code", "email"),
        CheckConstraint("status IN ('pending', 'confirmed', 'unsubscribed')",
                        name="known_follow_status"),
    )
