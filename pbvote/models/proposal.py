"""Residents' ideas (proposals), their history, supports, links to ballot projects, and the
per-cycle intake settings."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db
from pbvote.rules.proposals import DEFAULT_CATEGORIES, STATUSES

_STATUS_CHECK = "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")"


class IntakeSettings(db.Model):
    """How a cycle collects ideas; a cycle without a row uses the defaults."""

    __tablename__ = "intake_settings"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"),
                                          primary_key=True)
    #: JSON list of category labels, in display order
    categories_json: Mapped[str] = mapped_column(Text, default=lambda: json.dumps(
        list(DEFAULT_CATEGORIES)))
    #: ideas one account may send in this cycle; None = no limit
    max_per_person: Mapped[int | None] = mapped_column(Integer)
    #: supports at which a submitted idea enters staff review by itself; None = never
    support_threshold: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("max_per_person IS NULL OR max_per_person > 0",
                                      name="positive_limit"),)

    @property
    def categories(self) -> list[str]:
        return list(json.loads(self.categories_json or "[]"))


class Proposal(db.Model):
    """A resident's idea; its id is the public number ("idea #12")."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    #: None only if staff later deleted the district
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id",
                                                               ondelete="SET NULL"))
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    #: plain text, one line
    title: Mapped[str] = mapped_column(String(120))
    #: plain text with line breaks; escaped when shown, never rendered as HTML
    description: Mapped[str] = mapped_column(Text)
    #: one of the cycle's category labels at the time of submission
    category: Mapped[str] = mapped_column(String(80))
    #: where, in words
    location: Mapped[str] = mapped_column(String(300))
    #: the author's optional guess, whole currency units
    cost_estimate: Mapped[int | None] = mapped_column(BigInteger)
    #: random file name from services.images (re-encoded, no metadata)
    photo_name: Mapped[str | None] = mapped_column(String(64))
    #: one of rules.proposals.STATUSES
    status: Mapped[str] = mapped_column(String(30), default="submitted")
    #: set by staff when they find the idea feasible
    staff_cost_estimate: Mapped[int | None] = mapped_column(BigInteger)
    #: the latest reason or note staff gave with a decision
    feasibility_note: Mapped[str] = mapped_column(Text, default="")
    #: the idea this duplicate was merged into
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"))
    #: moderation, separate from the status (see rules.proposals)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the exact place the author picked, in microdegrees (pbvote.rules.geo); shown to the
    #: author and staff only; the public map shows it snapped to a coarse grid
    lat_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lon_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        CheckConstraint("(lat_e6 IS NULL) = (lon_e6 IS NULL)", name="whole_point"),
        CheckConstraint(_STATUS_CHECK, name="known_status"),
        CheckConstraint("cost_estimate IS NULL OR cost_estimate > 0", name="positive_estimate"),
        CheckConstraint("staff_cost_estimate IS NULL OR staff_cost_estimate > 0",
                        name="positive_staff_estimate"),
        Index("ix_proposal_cycle_status", "cycle_id", "status"),
        Index("ix_proposal_author", "author_id"),
    )

    cycle = relationship("Cycle")
    district = relationship("District")
    author = relationship("Account")
    merged_into = relationship("Proposal", remote_side=[id])
    events: Mapped[list[ProposalEvent]] = relationship(
        back_populates="proposal", order_by="ProposalEvent.id", cascade="all, delete-orphan")


class ProposalEvent(db.Model):
    """One step in an idea's history, shown to its author: status changes with the reason,
    question or answer given, edits, moderation, merging and promotion."""

    __tablename__ = "proposal_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None for the system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    #: "author" or "staff"
    actor_role: Mapped[str] = mapped_column(String(20))
    #: submitted, edited, status, hidden, unhidden, merged, promoted
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    #: the reason, question or answer, as typed (plain text)
    message: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped[Proposal] = relationship(back_populates="events")

    __table_args__ = (Index("ix_proposal_event_proposal", "proposal_id"),)


class ProposalSupport(db.Model):
    """A signed-in resident supports an idea, once per account."""

    __tablename__ = "proposal_support"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalProjectLink(db.Model):
    """A ballot project made from accepted ideas ("from ideas #12 and #17")."""

    __tablename__ = "proposal_project_link"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"),
                                            primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"),
                                             primary_key=True)

    __table_args__ = (UniqueConstraint("proposal_id"),)  # an idea becomes one project
