"""Residents' one-time email sign-in codes and the development outbox."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db


class EmailSignInCode(db.Model):
    """The current sign-in code for one email address; a resend replaces it."""

    __tablename__ = "email_sign_in_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: normalised (lower-case); one live code per address
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: HMAC-SHA-256 (IDENTITY_HMAC_KEY) of email and code; the code itself is never stored
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: wrong guesses so far; at rules.proposals.MAX_CODE_ATTEMPTS the code stops working
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMessage(db.Model):
    """An email written by the "outbox" mail backend (development and tests) instead of sent."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
