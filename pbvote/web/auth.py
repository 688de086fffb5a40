"""Staff sign-in: password, then TOTP (or enrolment at the first sign-in), re-authentication
for sensitive actions, sign-out and accepting an invitation.

The session only counts as signed in (Flask-Login) once both factors passed; until then
it holds a short-lived PENDING_SIGN_IN marker naming the account and the next step.
"""
from __future__ import annotations

import time

import segno
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from pbvote.infra.extensions import db, limiter, login_manager
from pbvote.models import STAFF_ROLES, Account
from pbvote.rules import sign_in as rules
from pbvote.services import accounts
from pbvote.services.accounts import AccountLocked, InvalidAccountInput, SignInRefused
from pbvote.web.forms.auth import (
    EnrolForm,
    LoginForm,
    ReauthForm,
    SecondFactorForm,
    SetPasswordForm,
)
from pbvote.web.guards import (
    AUTHENTICATED_AT,
    PENDING_SIGN_IN,
    PENDING_SIGN_IN_SECONDS,
    pending_sign_in,
    require_roles,
    set_policy,
)

bp = Blueprint("auth", __name__, url_prefix="/staff")

ENROL_SECRET = "enrol_totp_secret"
_signed_in_staff = require_roles(*STAFF_ROLES)


@login_manager.user_loader
def load_account(user_id: str):
    """user_id is "<account id>:<session key>"; the key is rotated at sign-in and sign-out."""
    account_id, _, key = user_id.partition(":")
    if not account_id.isdigit():
        return None
    # Flask-Login only marks a permanent session "not fresh" when its address or browser
    # changed; we never use remember-me cookies, so such a session is refused outright.
    if not session.get("_fresh"):
        return None
    account = db.session.get(Account, int(account_id))
    if account is None or not account.is_active or not accounts.session_key_matches(account, key):
        return None
    return account


def _policy():
    # Signing in is open to anyone; re-authentication is for a signed-in staff account.
    if request.endpoint == "auth.reauth":
        return _signed_in_staff()
    return None


set_policy(bp.name, _policy)



def _rate_limit() -> str:
    return current_app.config.get("SIGN_IN_RATE_LIMIT", "10/minute")


def _client() -> str:
    """The client's address (ProxyFix applied), which the staff lockout counts per."""
    return request.remote_addr or ""


def _pending_account_key() -> str:
    pending = pending_sign_in()
    if pending is not None:
        return f"account:{pending['account_id']}"
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return "ip:" + (request.remote_addr or "")


def home_for(account) -> str:
    if account.has_role("staff", "admin"):
        return url_for("staff.dashboard")
    if account.has_role("auditor"):
        return url_for("audit.index")
    return url_for("public.index")


def _next_path(value: str | None) -> str | None:
    return rules.safe_next_path(value)


def _refusal_text(refused: SignInRefused) -> str:
    """A locked account is told until when (in UTC, which staff accounts are kept in)."""
    if isinstance(refused, AccountLocked):
        return _("This account is locked after too many failed attempts, until %(until)s UTC. "
                 "Try again after that time, or ask an administrator to unlock it.",
                 until=format_datetime(refused.until, "medium", rebase=False))
    return refused.message


def _start_pending(account_id: int, stage: str) -> None:
    session.clear()  # a new session at sign-in: nothing from before carries over
    session[PENDING_SIGN_IN] = {"account_id": account_id, "stage": stage,
                                "expires": time.time() + PENDING_SIGN_IN_SECONDS}


def _finish_sign_in(account_id: int, second_factor: str):
    account = accounts.complete_sign_in(account_id, second_factor, _client())
    session.clear()
    login_user(account, fresh=True)
    session[AUTHENTICATED_AT] = time.time()
    session.permanent = True  # PERMANENT_SESSION_LIFETIME bounds an idle staff session
    return account


@bp.route("/login", methods=["GET", "POST"])
# Per address only: a limit per email would let anyone who knows a staff member's address
# keep them from signing in (issue #21 item 5); the lockout counts per account and address.
@limiter.limit(_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated and current_user.needs_totp:
        return redirect(_next_path(request.args.get("next")) or home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = _next_path(request.args.get("next")) or ""
    error, status = None, 200
    if form.validate_on_submit():
        try:
            account = accounts.check_password(form.email.data, form.password.data,
                                              client=_client())
        except SignInRefused as refused:
            db.session.commit()  # the failure counts towards the lockout and stays logged
            error, status = _refusal_text(refused), 401
        else:
            stage = "totp" if account.totp_secret else "enrol"
            _start_pending(account.id, stage)
            step = "auth.totp" if stage == "totp" else "auth.enrol"
            return redirect(url_for(step, next=_next_path(form.next.data)))
    elif request.method == "POST":
        error, status = _("Enter your email address and password."), 422
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error,
                           signed_out=request.args.get("signed_out") == "1"), status


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, key_func=_pending_account_key, methods=["POST"])
def totp():
    pending = pending_sign_in()
    if pending is None or pending["stage"] != "totp":
        return redirect(url_for("auth.login", next=_next_path(request.args.get("next"))))
    form = SecondFactorForm()
    if request.method == "GET":
        form.next.data = _next_path(request.args.get("next")) or ""
    error, status = None, 200
    if form.validate_on_submit():
        try:
            second_factor = accounts.check_second_factor(pending["account_id"], form.code.data,
                                                         client=_client())
        except SignInRefused as refused:
            db.session.commit()  # the failure counts towards the lockout and stays logged
            error, status = _refusal_text(refused), 401
        else:
            account = _finish_sign_in(pending["account_id"], second_factor)
            return redirect(_next_path(form.next.data) or home_for(account))
    elif request.method == "POST":
        error, status = _("Enter the code from your authenticator app."), 422
    form.code.data = ""  # a code is a one-time secret: not shown back
    return render_template("auth/totp.html", form=form, error=error), status


@bp.route("/enrol", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, key_func=_pending_account_key, methods=["POST"])
def enrol():
    pending = pending_sign_in()
    if pending is None or pending["stage"] != "enrol":
        return redirect(url_for("auth.login"))
    account = accounts.get_account(pending["account_id"])
    saved = session.get(ENROL_SECRET)
    if not saved or saved.get("account_id") != account.id:
        saved = {"account_id": account.id, "secret": rules.new_totp_secret()}
        session[ENROL_SECRET] = saved
    secret = saved["secret"]
    form = EnrolForm()
    if request.method == "GET":
        form.next.data = _next_path(request.args.get("next")) or ""
    error, status = None, 200
    if form.validate_on_submit():
        try:
            codes = accounts.confirm_enrolment(account.id, secret, form.code.data,
                                               client=_client())
        except SignInRefused as refused:
            db.session.commit()  # the failure counts towards the lockout and stays logged
            error, status = _refusal_text(refused), 401
        else:
            account = _finish_sign_in(account.id, "totp")
            # Shown once, in this response; only their hashes are stored.
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_to=_next_path(form.next.data) or home_for(account))
    elif request.method == "POST":
        error, status = _("Enter the code from your authenticator app."), 422
    form.code.data = ""  # a code is a one-time secret: not shown back
    uri = rules.totp_uri(secret, account.email, current_app.config.get("TOTP_ISSUER", "pbvote"))
    # bandit B704 is a false positive: segno writes the QR code as path geometry and escapes
    # the title itself.
    qr_svg = Markup(segno.make(uri, error="m").svg_inline(  # nosec B704
        scale=5, dark="#000", light="#fff", omitsize=True,
        title=_("QR code for your authenticator app")))
    return render_template("auth/enrol.html", form=form, error=error, qr_svg=qr_svg,
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           email=account.email), status


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, key_func=_pending_account_key, methods=["POST"])
def reauth():
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = _next_path(request.args.get("next")) or ""
    error, status = None, 200
    if form.validate_on_submit():
        account = current_user._get_current_object()
        try:
            accounts.check_password(account.email, form.password.data, client=_client())
            second_factor = accounts.check_second_factor(account.id, form.code.data,
                                                         client=_client())
        except SignInRefused as refused:
            db.session.commit()  # the failure counts towards the lockout and stays logged
            error, status = _refusal_text(refused), 401
        else:
            accounts.record_reauthentication(account, second_factor, _client())
            session[AUTHENTICATED_AT] = time.time()
            return redirect(_next_path(form.next.data) or home_for(account))
    elif request.method == "POST":
        error, status = _("Enter your password and a code."), 422
    form.password.data = form.code.data = ""
    return render_template("auth/reauth.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    # CSRFProtect has already checked the token: a third-party page cannot sign anyone out.
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login", signed_out="1"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def accept_invitation(token: str):
    account = accounts.find_invitation(token)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            account = accounts.accept_invitation(token, form.password.data)
        except InvalidAccountInput as refused:
            # the rules refuse the password itself: the summary links there
            form.password.errors = list(refused.reasons or [refused.message])
            status = 422
        else:
            _start_pending(account.id, "enrol")
            return redirect(url_for("auth.enrol"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/accept_invitation.html", form=form, account=account), status
