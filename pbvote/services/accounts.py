"""Staff accounts: passwords, TOTP, recovery codes, lockout, invitations and administration.

Every change and every sign-in outcome is recorded in the system chain. Entries name the
account and what happened, never a password, a TOTP code, a recovery code or a token.
Services flush; the request or CLI command commits.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import delete, func, select

from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import STAFF_ROLES, Account, RecoveryCode, StaffSignInFailure
from pbvote.rules import sign_in as rules
from pbvote.services import log
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.keys import keyed_hash

#: the wording for every refused sign-in, so the page does not tell which part was wrong
SIGN_IN_REFUSED = N_("The email or password is not right, or the account is locked after too "
                     "many failed attempts. Try again in 15 minutes or ask an administrator.")
CODE_REFUSED = N_("That code is not right, has already been used, or the account is locked. Use "
                  "the current code from your app, or one of your recovery codes.")


class SignInRefused(DomainError):
    def __init__(self, message: str = SIGN_IN_REFUSED):
        super().__init__(translate(message), 401)


class AccountLocked(SignInRefused):
    """The account is locked until `until` (UTC). Said only to someone who gave the account's
    right password (at the password step, or earlier in this sign-in), so it tells nobody else
    that the account exists; the page says until when."""

    def __init__(self, until: dt.datetime):
        super().__init__(N_("This account is locked after too many failed attempts."))
        self.until = until


class AccountConflict(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 409)


class InvalidAccountInput(DomainError):
    def __init__(self, message: str, reasons: list | None = None):
        super().__init__(message, 422, reasons or [])


# ---------------------------------------------------------------- passwords

def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config.get("ARGON2_TIME_COST", 3),
                          memory_cost=config.get("ARGON2_MEMORY_COST", 65536),
                          parallelism=config.get("ARGON2_PARALLELISM", 4))


_dummy_hashes: dict[tuple, str] = {}


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _password_matches(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None:
        # Same work as a real check, so response time does not reveal unknown accounts.
        params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if params not in _dummy_hashes:
            _dummy_hashes[params] = hasher.hash(secrets.token_hex(16))
        password_hash = _dummy_hashes[params]
        try:
            hasher.verify(password_hash, password)
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- lookups and logging

def system_chain_id() -> int:
    return log.get_or_create_chain(log.SYSTEM_CHAIN).id


def _record(action: str, actor: str, details: dict) -> None:
    log.record_action(system_chain_id(), action, actor, details)


def _public_view(account: Account) -> dict:
    """The fields an audit entry shows as before/after; nothing secret."""
    return {"email": account.email, "display_name": account.display_name, "role": account.role,
            "is_active": account.is_active, "totp_enrolled": account.totp_secret is not None}


def get_account(account_id: int, lock: bool = False) -> Account:
    statement = select(Account).where(Account.id == account_id)
    account = db.session.scalar(for_update(statement) if lock else statement)
    if account is None:
        raise NotFound(_("There is no such account."))
    return account


def find_by_email(email: str, lock: bool = False) -> Account | None:
    statement = select(Account).where(Account.email == rules.normalise_email(email))
    return db.session.scalar(for_update(statement) if lock else statement)


def list_accounts(roles: tuple[str, ...] = STAFF_ROLES) -> list[Account]:
    return list(db.session.scalars(
        select(Account).where(Account.role.in_(roles)).order_by(Account.email)))


def _new_session_key() -> str:
    return secrets.token_hex(32)


# ---------------------------------------------------------------- creating accounts

def _validated_email(email: str) -> str:
    email = rules.normalise_email(email)
    problem = rules.email_problem(email)
    if problem:
        raise InvalidAccountInput(problem)
    if find_by_email(email) is not None:
        raise AccountConflict(_("An account for %(email)s already exists.", email=email))
    return email


def _validated_password(password: str, email: str) -> str:
    problems = rules.password_problems(password, email)
    if problems:
        raise InvalidAccountInput(_("Choose another password."), problems)
    return password


def create_admin(email: str, password: str, display_name: str = "", actor: str = "cli") -> Account:
    """The first administrator (or another, from the command line); TOTP is enrolled at sign-in."""
    email = _validated_email(email)
    _validated_password(password, email)
    account = Account(email=email, display_name=display_name.strip()[:120], role="admin",
                      password_hash=hash_password(password), totp_last_timecode=0,
                      failed_attempts=0, is_active=True)
    db.session.add(account)
    db.session.flush()
    _record("account.created", actor, {"account": account.label, "after": _public_view(account)})
    return account


@dataclass(frozen=True)
class Invitation:
    account_id: int
    email: str
    token: str
    expires_at: dt.datetime


def invite(admin: Account, email: str, role: str, display_name: str = "",
           now: dt.datetime | None = None) -> Invitation:
    """A new staff account with a one-time invitation token, shown once to the administrator."""
    now = now or utcnow()
    if role not in STAFF_ROLES:
        raise InvalidAccountInput(_("Choose the role staff, auditor or admin."))
    email = _validated_email(email)
    token = rules.new_invitation_token()
    account = Account(email=email, display_name=display_name.strip()[:120], role=role,
                      password_hash=None, totp_last_timecode=0, failed_attempts=0,
                      is_active=True, invited_by_id=admin.id,
                      invitation_hash=_token_hash(token),
                      invitation_expires_at=now + rules.INVITATION_LIFETIME)
    db.session.add(account)
    db.session.flush()
    _record("account.invited", admin.label, {
        "account": account.label, "after": _public_view(account),
        "invitation_expires_at": account.invitation_expires_at.isoformat(timespec="seconds")})
    return Invitation(account.id, email, token, account.invitation_expires_at)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_invitation(token: str, now: dt.datetime | None = None, lock: bool = False) -> Account:
    now = now or utcnow()
    statement = select(Account).where(Account.invitation_hash == _token_hash(token))
    account = db.session.scalar(for_update(statement) if lock else statement)
    if account is None or not account.is_active:
        raise NotFound(_("This invitation link is not valid. It may have been used already; ask "
                         "an administrator for a new one."))
    if account.invitation_expires_at is None or account.invitation_expires_at <= now:
        raise DomainError(_("This invitation has expired. Ask an administrator for a new "
                            "one."), 410)
    return account


def accept_invitation(token: str, password: str, now: dt.datetime | None = None) -> Account:
    account = find_invitation(token, now, lock=True)
    _validated_password(password, account.email)
    account.password_hash = hash_password(password)
    account.invitation_hash = None
    account.invitation_expires_at = None
    db.session.flush()
    _record("account.invitation_accepted", account.label, {"account": account.label})
    return account


# ---------------------------------------------------------------- signing in

# The lockout counts failures per account *and client address* (StaffSignInFailure): anyone
# who knows a staff member's email can lock out only their own address, while the staff
# member signs in from theirs. A lock stops new sign-ins only and never ends a session that
# is already signed in. Account.failed_attempts and locked_until only summarise for the
# administrators' page.

def _client_hash(client: str) -> str:
    return keyed_hash("staff-sign-in-client", client or "")


def _failures_from(account: Account, client: str, now: dt.datetime,
                   create: bool = False) -> StaffSignInFailure | None:
    """This address's failure row for the account (locked for update), with an expired lock
    lifted; None when there is none and `create` is false."""
    row = db.session.scalar(for_update(select(StaffSignInFailure).where(
        StaffSignInFailure.account_id == account.id,
        StaffSignInFailure.client_hash == _client_hash(client))))
    if row is None and create:
        row = StaffSignInFailure(account_id=account.id, client_hash=_client_hash(client),
                                 failures=0)
        db.session.add(row)
    if row is not None and row.locked_until is not None and not row.is_locked(now):
        row.locked_until = None
        row.failures = 0
        if account.locked_until is not None and now >= account.locked_until:
            account.locked_until = None
        _record("auth.unlocked", "system", {"account": account.label, "reason": "lock expired"})
    return row


def _locked_from(account: Account, client: str, now: dt.datetime) -> StaffSignInFailure | None:
    row = _failures_from(account, client, now)
    return row if row is not None and row.is_locked(now) else None


def _register_failure(account: Account, stage: str, now: dt.datetime, client: str) -> None:
    row = _failures_from(account, client, now, create=True)
    account.failed_attempts += 1
    row.failures, locked_until = rules.after_failure(row.failures or 0, now)
    _record("auth.login_failed", account.label, {
        "account": account.label, "stage": stage, "consecutive_failures": row.failures})
    if locked_until is not None:
        row.locked_until = locked_until
        account.locked_until = max(account.locked_until or locked_until, locked_until)
        _record("auth.locked", "system", {
            "account": account.label, "until": locked_until.isoformat(timespec="seconds"),
            "after_failures": row.failures, "scope": "this account from one address"})
    db.session.flush()


def _clear_failures(account: Account, client: str | None = None) -> None:
    """Forget the failures from `client` (a successful sign-in), or from everywhere."""
    statement = delete(StaffSignInFailure).where(StaffSignInFailure.account_id == account.id)
    if client is not None:
        statement = statement.where(StaffSignInFailure.client_hash == _client_hash(client))
    db.session.execute(statement)


def check_password(email: str, password: str, now: dt.datetime | None = None,
                   client: str = "") -> Account:
    """The account when the password is right and the account may sign in from `client` (the
    client's address); else SignInRefused.

    The failure is flushed before raising: the caller commits it, so a refused attempt
    still counts towards the lockout and stays in the log.
    """
    now = now or utcnow()
    account = find_by_email(email, lock=True) if email else None
    if account is None or account.password_hash is None or account.role not in STAFF_ROLES:
        _password_matches(None, password)
        _record("auth.login_failed", "anonymous",
                {"stage": "password", "reason": "no such staff account"})
        raise SignInRefused()
    locked = _locked_from(account, client, now)
    if not account.is_active or locked is not None:
        reason = "account deactivated" if not account.is_active else "account locked"
        _record("auth.login_refused", account.label, {"account": account.label, "reason": reason})
        # one hash either way, so timing tells a locked account from no other refusal
        if _password_matches(account.password_hash if account.is_active else None, password) \
                and account.is_active:
            raise AccountLocked(locked.locked_until)
        raise SignInRefused()
    if not _password_matches(account.password_hash, password):
        _register_failure(account, "password", now, client)
        raise SignInRefused()
    if _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    db.session.flush()
    return account


def _usable_for_second_factor(account_id: int, now: dt.datetime, client: str) -> Account:
    account = get_account(account_id, lock=True)
    locked = _locked_from(account, client, now)
    if not account.is_active or locked is not None or account.password_hash is None:
        _record("auth.login_refused", account.label, {
            "account": account.label, "stage": "second factor",
            "reason": "account deactivated" if not account.is_active else "account locked"})
        if account.is_active and locked is not None:
            raise AccountLocked(locked.locked_until)  # the password was right in this sign-in
        raise SignInRefused(CODE_REFUSED)
    return account


def check_second_factor(account_id: int, code: str, at: float | None = None,
                        client: str = "") -> str:
    """Accept a TOTP code (not replayed, ±1 step) or an unused recovery code.

    Returns "totp" or "recovery_code"; raises SignInRefused and counts a failure otherwise.
    """
    at = time.time() if at is None else at
    now = dt.datetime.fromtimestamp(at, dt.UTC)
    account = _usable_for_second_factor(account_id, now, client)
    if account.totp_secret is None:
        raise SignInRefused(
            _("This account has no authenticator app yet; sign in again to set one up."))
    timecode = rules.accepted_timecode(account.totp_secret, code, at, account.totp_last_timecode)
    if timecode is not None:
        account.totp_last_timecode = timecode
        db.session.flush()
        return "totp"
    if rules.looks_like_recovery_code(code):
        recovery = db.session.scalar(for_update(select(RecoveryCode).where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used.is_(False))))
        if recovery is not None:
            recovery.used = True
            db.session.flush()
            _record("auth.recovery_code_used", account.label, {
                "account": account.label, "recovery_codes_left": unused_recovery_codes(account.id)})
            return "recovery_code"
    _register_failure(account, "second factor", now, client)
    locked = _locked_from(account, client, now)
    if locked is not None:
        raise AccountLocked(locked.locked_until)
    raise SignInRefused(CODE_REFUSED)


def _recovery_hash(code: str) -> str:
    return keyed_hash("recovery-code", rules.normalise_code(code))


def unused_recovery_codes(account_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used.is_(False)))


def confirm_enrolment(account_id: int, secret: str, code: str,
                      at: float | None = None, client: str = "") -> list[str]:
    """Store the TOTP secret once the person proves their app shows its codes.

    Returns the new recovery codes in clear, for showing once; only their hashes are kept.
    """
    at = time.time() if at is None else at
    now = dt.datetime.fromtimestamp(at, dt.UTC)
    account = _usable_for_second_factor(account_id, now, client)
    if account.totp_secret is not None:
        raise AccountConflict(_("This account already has an authenticator app."))
    timecode = rules.accepted_timecode(secret, code, at, account.totp_last_timecode)
    if timecode is None:
        _register_failure(account, "enrolment", now, client)
        raise SignInRefused(CODE_REFUSED)
    account.totp_secret = secret
    account.totp_last_timecode = timecode
    codes = _replace_recovery_codes(account)
    _record("auth.totp_enrolled", account.label, {
        "account": account.label, "recovery_codes_issued": len(codes)})
    return codes


def _replace_recovery_codes(account: Account) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [rules.new_recovery_code() for _ in range(rules.RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(account_id=account.id, code_hash=_recovery_hash(code),
                                    used=False) for code in codes)
    db.session.flush()
    return codes


def complete_sign_in(account_id: int, second_factor: str, client: str = "") -> Account:
    """Both factors passed: reset the failure count of this address and start a new session
    key (another address that guessed stays locked)."""
    account = get_account(account_id, lock=True)
    account.failed_attempts = 0
    _clear_failures(account, client)
    account.session_key = _new_session_key()
    db.session.flush()
    _record("auth.login_succeeded", account.label, {"account": account.label,
                                                     "second_factor": second_factor})
    return account


def record_reauthentication(account: Account, second_factor: str, client: str = "") -> None:
    account.failed_attempts = 0
    _clear_failures(account, client)
    db.session.flush()
    _record("auth.reauthenticated", account.label, {"account": account.label,
                                                     "second_factor": second_factor})


def sign_out(account: Account) -> None:
    """Rotating the key makes every copy of the old session cookie useless."""
    account.session_key = None
    db.session.flush()
    _record("auth.logout", account.label, {"account": account.label})


def rotate_session_key(account: Account) -> None:
    """A new key for the account's one session, which the caller signs in again with:
    every earlier copy of its cookie stops working (the kiosk, after each state change
    that an old cookie could undo)."""
    account.session_key = _new_session_key()
    db.session.flush()


def session_key_matches(account: Account, key: str) -> bool:
    return bool(account.session_key) and secrets.compare_digest(account.session_key, key)


# ---------------------------------------------------------------- administration

def _count_active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(Account).where(
        Account.role == "admin", Account.is_active.is_(True)))


def _refuse_self(admin: Account, account: Account, refusal: str) -> None:
    """`refusal`: the whole sentence, translated (N_), so each language can word it."""
    if admin.id == account.id:
        raise AccountConflict(translate(refusal))


def _refuse_removing_last_admin(account: Account) -> None:
    if account.role == "admin" and account.is_active and _count_active_admins() <= 1:
        raise AccountConflict(_("This is the only active administrator; add another one first."))


def _staff_target(account_id: int) -> Account:
    account = get_account(account_id, lock=True)
    if account.role not in STAFF_ROLES:
        raise NotFound(_("There is no such staff account."))
    return account


def deactivate(admin: Account, account_id: int) -> Account:
    account = _staff_target(account_id)
    _refuse_self(admin, account, N_("You cannot deactivate your own account; ask another "
                                     "administrator."))
    if not account.is_active:
        raise AccountConflict(_("%(email)s is already deactivated.", email=account.email))
    _refuse_removing_last_admin(account)
    before = _public_view(account)
    account.is_active = False
    account.session_key = None
    db.session.flush()
    _record("account.deactivated", admin.label, {
        "account": account.label, "before": before, "after": _public_view(account)})
    return account


def reactivate(admin: Account, account_id: int) -> Account:
    account = _staff_target(account_id)
    if account.is_active:
        raise AccountConflict(_("%(email)s is already active.", email=account.email))
    before = _public_view(account)
    account.is_active = True
    db.session.flush()
    _record("account.reactivated", admin.label, {
        "account": account.label, "before": before, "after": _public_view(account)})
    return account


def change_role(admin: Account, account_id: int, role: str) -> Account:
    if role not in STAFF_ROLES:
        raise InvalidAccountInput(_("Choose the role staff, auditor or admin."))
    account = _staff_target(account_id)
    _refuse_self(admin, account, N_("You cannot change the role of your own account; ask "
                                     "another administrator."))
    if account.role == role:
        raise AccountConflict(_("%(email)s already has the role %(role)s.",
                                email=account.email, role=role))
    _refuse_removing_last_admin(account)
    before = _public_view(account)
    account.role = role
    account.session_key = None  # the new role applies from the next sign-in
    db.session.flush()
    _record("account.role_changed", admin.label, {
        "account": account.label, "before": before, "after": _public_view(account)})
    return account


def reset_totp(admin: Account, account_id: int) -> Account:
    """The person enrols a new authenticator app at their next sign-in."""
    account = _staff_target(account_id)
    _refuse_self(admin, account, N_("You cannot reset the authenticator app of your own "
                                     "account; ask another administrator."))
    before = _public_view(account)
    account.totp_secret = None
    account.session_key = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    db.session.flush()
    _record("account.totp_reset", admin.label, {
        "account": account.label, "before": before, "after": _public_view(account)})
    return account


def unlock(admin: Account, account_id: int) -> Account:
    account = _staff_target(account_id)
    if account.locked_until is None and account.failed_attempts == 0 and not db.session.scalar(
            select(func.count()).select_from(StaffSignInFailure)
            .where(StaffSignInFailure.account_id == account.id)):
        raise AccountConflict(_("%(email)s is not locked.", email=account.email))
    before_failures = account.failed_attempts
    account.locked_until = None
    account.failed_attempts = 0
    _clear_failures(account)
    db.session.flush()
    _record("auth.unlocked", admin.label, {"account": account.label, "reason": "administrator",
                                           "failures_before": before_failures})
    return account

