"""Residents' comments on ideas, and reports of comments that staff moderate."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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


class Comment(db.Model):
    """A signed-in resident's plain-text comment on an idea or on a ballot project (exactly
    one of the two, by a CHECK)."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    #: the idea discussed, or None for a comment on a project
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    #: the ballot project discussed, or None for a comment on an idea
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    #: plain text as cleaned by pbvote.rules.discussion (shown escaped, line breaks kept)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: hidden by staff; the text stays stored (nothing is lost), the public sees the reason
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the public reason staff gave when hiding it
    hidden_reason: Mapped[str] = mapped_column(String(300), default="")

    author = relationship("Account")
    project = relationship("Project")

    __table_args__ = (
        Index("ix_comment_author_created", "author_id", "created_at"),
        CheckConstraint("(proposal_id IS NULL AND project_id IS NOT NULL) "
                        "OR (proposal_id IS NOT NULL AND project_id IS NULL)",
                        name="one_target"),
    )


class CommentReport(db.Model):
    """Someone's report of a comment; open until staff decide."""

    __tablename__ = "comment_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"))
    #: keyed hash of who reported (the account, or the network address when signed out):
    #: one report per person per comment, without storing an address
    reporter_key: Mapped[str] = mapped_column(String(64))
    #: what the reporter said is wrong
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)

    comment = relationship("Comment")

    __table_args__ = (UniqueConstraint("comment_id", "reporter_key"),)
