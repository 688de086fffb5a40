"""Staff accounts for tests, signed in through the real password and TOTP steps.

    with app.app_context():
        account_id, email, password, secret = make_account("staff")
    client = app.test_client()
    login(client, email, password, secret)
    client.get("/staff/")  # 200

For a sensitive action after more than 10 minutes (or in a fresh-login test) use
`reauthenticate(client, password, secret)`. `totp_code(app, email, secret)` gives a code the
server has not seen yet, so calling login or reauthenticate several times in one 30-second
step never trips the replay rule.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account
from pbvote.rules.sign_in import TOTP_STEP_SECONDS
from pbvote.services import accounts
from tests.conftest import csrf_token

DEFAULT_PASSWORD = "correct horse battery"
_counter = {"n": 0}


def make_account(role: str, email: str | None = None, password: str = DEFAULT_PASSWORD,
                 enrolled: bool = True) -> tuple[int, str, str, str | None]:
    """A committed account; call inside an app context. Returns (id, email, password, secret).

    `secret` is the TOTP secret when `enrolled`, else None (the account enrols at sign-in).
    Residents get no password.
    """
    _counter["n"] += 1
    email = (email or f"{role}{_counter['n']}@example.org").lower()
    secret = pyotp.random_base32() if enrolled and role != "resident" else None
    with write_intent():
        account = Account(
            email=email, display_name=f"Test {role}", role=role,
            password_hash=accounts.hash_password(password) if role != "resident" else None,
            totp_secret=secret, totp_last_timecode=0, failed_attempts=0, is_active=True)
        db.session.add(account)
        db.session.flush()
        account_id = account.id  # read before the commit expires the object
        db.session.commit()
    return account_id, email, password, secret


def totp_code(app, email: str, secret: str) -> str:
    """A valid code whose timecode is after the last one the server accepted for `email`."""
    if time.time() % TOTP_STEP_SECONDS > TOTP_STEP_SECONDS - 2:
        time.sleep(2.1)  # not right at a step boundary, or current-1 may age out in flight
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = int(time.time() // TOTP_STEP_SECONDS)
    with app.app_context():
        last = db.session.scalar(select(Account.totp_last_timecode).where(Account.email == email))
        if last is not None and last >= current + 1:
            # Three codes (current-1, current, current+1) were used within one step: let the
            # last accepted one be older, as if the test had waited 30 seconds.
            with write_intent():
                account = db.session.scalar(select(Account).where(Account.email == email))
                account.totp_last_timecode = current - 2
                db.session.commit()
            last = current - 2
    timecode = max(current - 1, (last or 0) + 1)
    return totp.generate_otp(timecode)


def login(client, email: str, password: str, totp_secret: str) -> None:
    """Sign in with the password and TOTP steps, as a browser would; asserts it worked."""
    page = client.get("/staff/login")
    assert page.status_code in (200, 302), page.status_code
    if page.status_code == 302:  # already signed in: start over so the test gets a new session
        client.post("/staff/logout", data={"csrf_token": _token_from_any_page(client)})
        page = client.get("/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password})
    assert response.status_code == 302, response.status_code
    assert urlsplit(response.headers["Location"]).path == "/staff/login/totp", \
        response.headers["Location"]
    page = client.get("/staff/login/totp")
    response = client.post("/staff/login/totp", data={
        "csrf_token": csrf_token(page.text),
        "code": totp_code(client.application, email, totp_secret)})
    assert response.status_code == 302, (response.status_code, response.text[:500])


def reauthenticate(client, email: str, password: str, totp_secret: str,
                   next_path: str = "") -> object:
    """Give password and code again on /staff/reauth; returns the response (302 on success)."""
    page = client.get("/staff/reauth", query_string={"next": next_path} if next_path else None)
    assert page.status_code == 200, page.status_code
    return client.post("/staff/reauth", data={
        "csrf_token": csrf_token(page.text), "password": password, "next": next_path,
        "code": totp_code(client.application, email, totp_secret)})


def sign_in_resident(client, account_id: int) -> None:
    """Residents sign in by email code (a later issue); until then tests set the session."""
    from flask_login import login_user

    app = client.application
    with app.app_context():
        with write_intent():
            account = db.session.get(Account, account_id)
            account.session_key = "resident-test-session"
            db.session.commit()
        account = db.session.get(Account, account_id)
        with app.test_request_context(environ_base=client.environ_base):
            login_user(account)
            from flask import session

            values = dict(session)
    with client.session_transaction() as session:
        session.update(values)


def _token_from_any_page(client) -> str:
    for path in ("/staff/reauth", "/staff/login"):
        page = client.get(path)
        if page.status_code == 200:
            return csrf_token(page.text)
    raise AssertionError("no page with a CSRF token")
