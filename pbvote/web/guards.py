"""Access is denied by default: each blueprint registers one policy for all its routes.

A request to a blueprint without a policy is refused, so a new blueprint is closed until
someone decides who may use it. Routes never carry their own access decorators.

Staff blueprints use `set_policy(bp.name, require_roles("staff", "admin"))`. Views of
sensitive actions (importing a roll, opening voting, publishing, managing staff) call
`require_fresh_login()` before changing anything.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from flask import abort, redirect, request, session, url_for
from flask_login import current_user

from pbvote.rules.sign_in import safe_next_path
from pbvote.web.limits import checked_by_form

Policy = Callable[[], object]
_POLICIES: dict[str, Policy] = {}

#: session key: when (Unix time) this session last proved password and second factor
AUTHENTICATED_AT = "authenticated_at"
#: session key: an account that passed the password step and still owes TOTP or enrolment
PENDING_SIGN_IN = "pending_sign_in"
PENDING_SIGN_IN_SECONDS = 5 * 60


def set_policy(blueprint_name: str, policy: Policy) -> None:
    _POLICIES[blueprint_name] = policy


def allow_anyone() -> None:
    return None


def enforce_access():
    refuse_nul_bytes()
    if request.endpoint is None or request.endpoint == "static":
        return None  # routing already answers 404/405; static files are public
    policy = _POLICIES.get(request.blueprint or "")
    if policy is None:
        abort(403)
    return policy()


def refuse_nul_bytes() -> None:
    """400 for a NUL character in the path, query or form: no person types one, and
    PostgreSQL refuses it in text, which would otherwise surface as a server error."""
    values = [request.path, *request.args.values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # a form that shows a control character as its field's error gets to say so itself
        values.extend(value for name, value in request.form.items(multi=True)
                      if not checked_by_form(request.endpoint, name))
    if any("\x00" in value for value in values):
        abort(400)


def pending_sign_in() -> dict | None:
    """{"account_id", "stage": "totp" | "enrol", "expires"} while a sign-in is half done."""
    pending = session.get(PENDING_SIGN_IN)
    if not pending or pending.get("expires", 0) < time.time():
        return None
    return pending


def current_path() -> str:
    """This request's path and query, as a `next` value for after signing in."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def require_roles(*roles: str) -> Policy:
    """A policy: signed in with both factors and holding one of `roles`.

    Anonymous visitors go to the staff sign-in (302); an account part-way through signing in
    goes back to its TOTP or enrolment step; a signed-in account without the role gets 403.
    """
    allowed = frozenset(roles)

    def policy():
        if current_user.is_authenticated:
            if not current_user.has_role(*allowed):
                abort(403)
            return None
        next_path = current_path() if request.method == "GET" else None
        pending = pending_sign_in()
        if pending is not None:
            step = "auth.enrol" if pending["stage"] == "enrol" else "auth.totp"
            return redirect(url_for(step, next=next_path))
        return redirect(url_for("auth.login", next=next_path))

    policy.roles = allowed  # type: ignore[attr-defined]
    return policy


def login_is_fresh(max_age_seconds: int = 600) -> bool:
    signed_at = session.get(AUTHENTICATED_AT)
    return signed_at is not None and time.time() - signed_at <= max_age_seconds


def require_fresh_login(max_age_seconds: int = 600, return_to: str | None = None) -> None:
    """Ask for password and TOTP again unless they were given in the last `max_age_seconds`.

    Call it before changing anything. When the login is stale it ends the request with a
    redirect to re-authentication, which then comes back to `return_to` (a local path;
    by default this page for a GET, or the page the form was on for a POST).
    """
    if current_user.is_authenticated and login_is_fresh(max_age_seconds):
        return None
    from pbvote.infra.extensions import db

    db.session.rollback()
    if return_to is None:
        if request.method == "GET":
            return_to = current_path()
        else:
            referrer = request.referrer or ""
            host = request.host_url.rstrip("/")
            return_to = referrer[len(host):] if referrer.startswith(host + "/") else None
    abort(redirect(url_for("auth.reauth", next=safe_next_path(return_to))))


def scope_to_cycle(blueprint, load_cycle) -> None:
    """Routes under /…/<slug>/…: load the cycle into g.cycle and fill the slug in url_for."""
    from flask import g

    @blueprint.url_value_preprocessor
    def _load_cycle(endpoint, values):
        g.cycle = load_cycle(values.pop("slug"))

    @blueprint.url_defaults
    def _add_slug(endpoint, values):
        if "slug" not in values and "cycle" in g:
            values["slug"] = g.cycle.slug
