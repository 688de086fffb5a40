from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.infra.db import UTCDateTime, utcnow
from pbvote.infra.extensions import db

ROLES = ("resident", "staff", "auditor", "admin")
#: roles that sign in with a password and must use TOTP
STAFF_ROLES = ("staff", "auditor", "admin")


class Account(UserMixin, db.Model):
    """A person who signs in: a resident, or staff, an auditor or an administrator."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: stored lower-case; unique
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    #: one of ROLES
    role: Mapped[str] = mapped_column(String(20))
    #: argon2 hash; None for residents (email-code sign-in) and for unaccepted invitations
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: base32 TOTP secret, None until enrolment is confirmed (not encrypted at rest yet)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: the last accepted TOTP timecode; a code for it or an earlier one is a replay
    totp_last_timecode: Mapped[int] = mapped_column(Integer, default=0)
    #: consecutive failed password or TOTP attempts, from any address (shown to
    #: administrators; the lockout itself counts per address, StaffSignInFailure)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: the end of the latest lock of one address (shown to administrators); sign-in refuses
    #: only the address that is locked, never the account everywhere
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: False after an administrator deactivates the account
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    #: SHA-256 of the one-time invitation token, until the invitee sets a password
    invitation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: random; part of the signed session cookie and rotated at each sign-in and sign-out,
    #: so a copied cookie stops working once its session ends
    session_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("role IN ('resident', 'staff', 'auditor', 'admin')", name="known_role"),
    )

    invited_by = relationship("Account", remote_side=[id])

    def get_id(self) -> str:
        # Flask-Login stores this in the session; the user loader checks the key part.
        return f"{self.id}:{self.session_key or ''}"

    @property
    def is_staff_member(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def needs_totp(self) -> bool:
        return self.role in STAFF_ROLES

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    @property
    def label(self) -> str:
        """How the audit log names this account."""
        return f"{self.email} (#{self.id})"


class StaffSignInFailure(db.Model):
    """Failed staff sign-ins of one account from one client address: the lockout counts here,
    so anyone who knows a staff member's email can lock out only their own address."""

    __tablename__ = "staff_sign_in_failure"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True)
    #: keyed hash of the client address (as ProxyFix gives it), not the address itself
    client_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: consecutive failures from this address
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: sign-ins of this account from this address are refused until then
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


class RecoveryCode(db.Model):
    """A one-time code that replaces TOTP once; only its keyed hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    #: HMAC-SHA-256 of the normalised code
    code_hash: Mapped[str] = mapped_column(String(64))
    used: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("account_id", "code_hash"),)
