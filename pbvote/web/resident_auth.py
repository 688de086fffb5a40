"""Resident sign-in by a one-time code sent by email: /sign-in (address), /sign-in/code,
and sign-out. Open to anyone; rate-limited per address and per network address."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pbvote.infra.extensions import db, limiter
from pbvote.rules import sign_in as sign_in_rules
from pbvote.services import resident_auth
from pbvote.services.resident_auth import CodeRefused, InvalidEmail
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("resident_auth", __name__)
set_policy(bp.name, allow_anyone)

#: session key: the address a code was sent to, where to go after, and until when
PENDING = "resident_sign_in"



def _rate_limit() -> str:
    return current_app.config.get("RESIDENT_SIGN_IN_RATE_LIMIT", "10/minute")


def _email_key() -> str:
    email = request.form.get("email") or (session.get(PENDING) or {}).get("email", "")
    return "resident-email:" + sign_in_rules.normalise_email(email)


def _pending() -> dict | None:
    pending = session.get(PENDING)
    if not pending or pending.get("expires", 0) < time.time():
        return None
    return pending


def home_path() -> str:
    return url_for("my_ideas.index")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, key_func=_email_key, methods=["POST"])
def sign_in():
    next_path = sign_in_rules.safe_next_path(request.values.get("next"))
    if current_user.is_authenticated and current_user.has_role("resident"):
        return redirect(next_path or home_path())
    error, status = None, 200
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            email = resident_auth.request_code(email)
        except InvalidEmail as refused:
            error, status = refused.message, 422
        else:
            session[PENDING] = {"email": email, "next": next_path,
                                "expires": time.time() + 15 * 60}
            return redirect(url_for("resident_auth.code"))
    return render_template("resident_auth/sign_in.html", email=email, error=error,
                           next_path=next_path or ""), status


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
@limiter.limit(_rate_limit, key_func=_email_key, methods=["POST"])
def code():
    pending = _pending()
    if pending is None:
        return redirect(url_for("resident_auth.sign_in"))
    error, status = None, 200
    if request.method == "POST":
        try:
            account = resident_auth.check_code(pending["email"], request.form.get("code", ""))
        except CodeRefused as refused:
            db.session.commit()  # the wrong guess counts towards the cap
            error, status = refused.message, 401
        else:
            session.clear()  # a new session at sign-in: nothing from before carries over
            login_user(account)
            session.permanent = True
            return redirect(sign_in_rules.safe_next_path(pending.get("next")) or home_path())
    return render_template("resident_auth/code.html", email=pending["email"], error=error,
                           next_path=pending.get("next") or ""), status


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated and current_user.has_role("resident"):
        resident_auth.sign_out(current_user._get_current_object())
        logout_user()
        session.clear()
        return redirect(url_for("public.index"))
    return redirect(url_for("public.index"))

