"""Pure sign-in rules: emails, passwords, lockout, TOTP windows, recovery codes, safe redirects.

No Flask or SQLAlchemy here; the services in pbvote.services.accounts apply these rules.
"""
from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from urllib.parse import urlsplit

import pyotp

from pbvote.i18n_hook import _
from pbvote.rules.text import forbidden_character_message, forbidden_in_line

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = dt.timedelta(minutes=15)
PASSWORD_MIN_LENGTH = 12
#: argon2 hashes any length, but a megabyte "password" is a cheap way to burn our CPU
PASSWORD_MAX_LENGTH = 256
TOTP_STEP_SECONDS = 30
#: codes from one step before or after the server's clock are accepted, no more
TOTP_VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: no 0/O or 1/I/L, so a code copied from paper is read back right
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECOVERY_CODE_LENGTH = 10
INVITATION_LIFETIME = dt.timedelta(hours=72)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalise_email(text: str) -> str:
    return text.strip().lower()


def email_problem(email: str) -> str | None:
    """None when `email` (already normalised) looks like an address we can store."""
    if not email:
        return _("Enter an email address.")
    character = forbidden_in_line(email)
    if character is not None:
        return forbidden_character_message(character)
    if len(email) > 254 or not _EMAIL.match(email):
        return _("Enter an email address like name@example.org.")
    return None


def password_problems(password: str, email: str = "") -> list[str]:
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(_("Use at least %(least)s characters; a few unrelated words make a "
                          "good password.", least=PASSWORD_MIN_LENGTH))
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(_("Use at most %(most)s characters.", most=PASSWORD_MAX_LENGTH))
    if email and password.strip().lower() == email.strip().lower():
        problems.append(_("Do not use your email address as your password."))
    return problems


def after_failure(failed_attempts: int, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The failure count after one more failure, and the lock end when that makes it lock."""
    count = failed_attempts + 1
    if count >= MAX_FAILED_ATTEMPTS:
        return count, now + LOCKOUT
    return count, None


def normalise_code(text: str) -> str:
    """Spaces and dashes people type into codes do not matter; case does not either."""
    return re.sub(r"[\s-]", "", text).upper()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer)


def matching_timecode(secret: str, code: str, at: float) -> int | None:
    """The timecode within ±TOTP_VALID_WINDOW steps of `at` whose code is `code`, if any."""
    code = normalise_code(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = totp.timecode(dt.datetime.fromtimestamp(at, dt.UTC))
    for timecode in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(timecode), code):
            return timecode
    return None


def accepted_timecode(secret: str, code: str, at: float, last_timecode: int) -> int | None:
    """The timecode to store when `code` is valid now and not a replay, else None.

    A code whose timecode is at or before the last accepted one was already usable then,
    so it may have been seen over someone's shoulder; it is refused.
    """
    timecode = matching_timecode(secret, code, at)
    if timecode is None or timecode <= last_timecode:
        return None
    return timecode


def looks_like_recovery_code(text: str) -> bool:
    code = normalise_code(text)
    return len(code) == RECOVERY_CODE_LENGTH and all(c in RECOVERY_ALPHABET for c in code)


def new_recovery_code() -> str:
    """Ten characters from a 31-letter alphabet (about 50 bits), shown as XXXXX-XXXXX."""
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


def safe_next_path(value: str | None) -> str | None:
    """`value` when it is a path on this site, else None: no scheme, host or `//` tricks."""
    if not value or len(value) > 2000:
        return None
    if any(ord(c) < 0x21 or c == "\\" for c in value):
        return None  # browsers treat "\" like "/" and drop tabs/newlines: "/\evil" → //evil
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def one_time_code_state(expires_at, attempts: int, used: bool, now, max_attempts: int) -> str:
    """"usable", "used", "expired" or "exhausted" (too many wrong tries), for every one-time
    code a resident types (email sign-in, online self-declaration); no expiry means used."""
    if used or expires_at is None:
        return "used"
    if now >= expires_at:
        return "expired"
    if attempts >= max_attempts:
        return "exhausted"
    return "usable"
