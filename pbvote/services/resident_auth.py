"""Residents sign in with a one-time 6-digit code sent by email; no password.

A code lives 10 minutes, works once, stops after 5 wrong guesses, and a resend replaces
it. Only an HMAC (IDENTITY_HMAC_KEY) of address and code is stored: a database copy
without the key cannot be brute-forced offline over the million possible codes. Guessing
online is bounded by the attempt cap and the rate limits on the sign-in forms.

An address that belongs to a staff account gets no code: staff sign in with password and
TOTP, and an email code must never stand in for those.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select

from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, EmailSignInCode
from pbvote.rules import proposals as rules
from pbvote.rules import sign_in as sign_in_rules
from pbvote.services import log, mail
from pbvote.services.errors import DomainError
from pbvote.services.keys import keyed_hash

CODE_REFUSED = N_("That code is not right, has expired or was already used. Check the latest "
                  "email we sent, or ask for a new code.")


class CodeRefused(DomainError):
    def __init__(self, message: str | None = None):
        super().__init__(message or translate(CODE_REFUSED), 401)


class InvalidEmail(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 422)


def resident_label(account: Account) -> str:
    """How logs name a resident: by number, not address (cycle chains can be published)."""
    return f"resident #{account.id}"


def _code_hash(email: str, code: str) -> str:
    return keyed_hash("email-sign-in-code", f"{email}\n{code}")


def _system_chain_id() -> int:
    return log.get_or_create_chain(log.SYSTEM_CHAIN).id


def request_code(email_text: str, now=None) -> str:
    """Send a new code to the address (replacing any earlier one); returns the normalised
    address. The answer is the same whether or not an account exists."""
    now = now or utcnow()
    email = sign_in_rules.normalise_email(email_text or "")
    problem = sign_in_rules.email_problem(email)
    if problem:
        raise InvalidEmail(problem)
    account = db.session.scalar(select(Account).where(Account.email == email))
    if account is not None and account.role != "resident":
        mail.send(email, _("Sign in to pbvote as staff"),
                  _("Someone asked for a resident sign-in code for this address. It belongs to "
                    "a staff account, which signs in with its password and authenticator app "
                    "on the staff sign-in page instead. If this was not you, you can ignore "
                    "this email."))
        return email
    code = rules.new_sign_in_code()
    row = db.session.scalar(for_update(select(EmailSignInCode).where(
        EmailSignInCode.email == email)))
    if row is None:
        row = EmailSignInCode(email=email)
        db.session.add(row)
    row.code_hash = _code_hash(email, code)
    row.expires_at = now + rules.CODE_LIFETIME
    row.attempts = 0
    row.created_at = now
    db.session.flush()
    minutes = int(rules.CODE_LIFETIME.total_seconds() // 60)
    # In the language the resident is reading the site in (English outside a request).
    mail.send(email, _("Your pbvote sign-in code"),
              _("Your sign-in code is %(code)s\n\nIt works once, for %(minutes)s minutes. If "
                "you did not ask for it, ignore this email: nobody can sign in without the "
                "code.", code=code, minutes=minutes))
    return email


def check_code(email_text: str, code_text: str, now=None) -> Account:
    """The resident account for a right code (created at the first sign-in); the code is
    used up. A wrong code counts against the cap and raises CodeRefused; the caller commits
    so the count sticks."""
    now = now or utcnow()
    email = sign_in_rules.normalise_email(email_text or "")
    row = db.session.scalar(for_update(select(EmailSignInCode).where(
        EmailSignInCode.email == email)))
    if row is None:
        raise CodeRefused()
    state = rules.code_state(row.expires_at, row.attempts, False, now)
    if state != "usable":
        raise CodeRefused(_("That code has expired or had too many wrong tries. Ask for a new "
                            "code.") if state in ("expired", "exhausted") else None)
    code = rules.normalise_sign_in_code(code_text)
    if code is None or not secrets.compare_digest(row.code_hash, _code_hash(email, code)):
        row.attempts += 1
        db.session.flush()
        raise CodeRefused()
    db.session.delete(row)  # single use
    account = db.session.scalar(for_update(select(Account).where(Account.email == email)))
    if account is None:
        account = Account(email=email, display_name="", role="resident", password_hash=None,
                          totp_last_timecode=0, failed_attempts=0, is_active=True)
        db.session.add(account)
        db.session.flush()
        log.record_action(_system_chain_id(), "account.created", resident_label(account),
                          {"account": resident_label(account), "after": {"role": "resident"},
                           "how": "first email-code sign-in"})
    elif account.role != "resident" or not account.is_active:
        db.session.flush()
        raise CodeRefused(_("This address cannot sign in here. Staff use the staff sign-in "
                            "page."))
    account.session_key = secrets.token_hex(32)
    db.session.flush()
    log.record_action(_system_chain_id(), "auth.resident_signed_in", resident_label(account),
                      {"account": resident_label(account)})
    return account


def sign_out(account: Account) -> None:
    account.session_key = None
    db.session.flush()
    log.record_action(_system_chain_id(), "auth.resident_signed_out", resident_label(account),
                      {"account": resident_label(account)})
