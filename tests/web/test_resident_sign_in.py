"""Residents sign in with a one-time email code: 6 digits, 10 minutes, once, 5 guesses,
a resend replaces the code, only a keyed hash is stored, and the log never shows it."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, EmailSignInCode, LogEntry, OutboxMessage
from pbvote.rules.proposals import MAX_CODE_ATTEMPTS
from tests.proposal_helpers import (
    code_from_outbox,
    enter_code,
    make_intake_cycle,
    request_code,
    sign_in_by_email,
)
from tests.staff_helpers import make_account
from tests.summary_helpers import assert_linked_summary

EMAIL = "Ada@Example.org"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_first_sign_in_creates_a_resident_account(app, client, caplog, monkeypatch):
    # Alembic's logging setup (run by the migrations fixture) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("pbvote.services.mail"), "disabled", False)
    caplog.set_level(logging.INFO, logger="pbvote.services.mail")
    response = request_code(client, EMAIL, next_path="/my/ideas")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code")
    code = code_from_outbox(app, "ada@example.org")
    assert "ada@example.org" in caplog.text and "sign-in code" in caplog.text
    assert code not in caplog.text  # the log names recipient and subject, never the body
    response = enter_code(client, code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/ideas")
    assert client.get("/my/ideas").status_code == 200
    with app.app_context():
        account = db.session.scalars(select(Account)).one()
        assert (account.email, account.role, account.password_hash) == \
            ("ada@example.org", "resident", None)
        entries = " ".join(db.session.scalars(select(LogEntry.entry_json)))
        assert "auth.resident_signed_in" in entries and code not in entries
        assert "ada@example.org" not in entries


def test_the_code_is_stored_only_as_a_keyed_hash(app, client):
    request_code(client, EMAIL)
    code = code_from_outbox(app, "ada@example.org")
    with app.app_context():
        row = db.session.scalars(select(EmailSignInCode)).one()
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.expires_at - row.created_at == dt.timedelta(minutes=10)


def test_a_code_works_once(app, client):
    request_code(client, EMAIL)
    code = code_from_outbox(app, "ada@example.org")
    assert enter_code(client, code).status_code == 302
    other = app.test_client()
    with other.session_transaction() as session:
        session["resident_sign_in"] = {"email": "ada@example.org", "next": None,
                                       "expires": 4102444800}
    response = enter_code(other, code)
    assert response.status_code == 401


def test_an_expired_code_is_refused(app, client):
    request_code(client, EMAIL)
    code = code_from_outbox(app, "ada@example.org")
    with app.app_context(), write_intent():
        row = db.session.scalars(select(EmailSignInCode)).one()
        row.expires_at = row.created_at - dt.timedelta(seconds=1)
        db.session.commit()
    response = enter_code(client, code)
    assert response.status_code == 401 and "expired" in response.text
    assert client.get("/my/ideas").status_code == 302


def test_a_resend_replaces_the_old_code(app, client):
    request_code(client, EMAIL)
    first = code_from_outbox(app, "ada@example.org")
    for _ in range(20):  # until the new code differs (one in a million it repeats)
        request_code(client, EMAIL)
        second = code_from_outbox(app, "ada@example.org")
        if second != first:
            break
    assert enter_code(client, first).status_code == 401
    assert enter_code(client, second).status_code == 302


def test_five_wrong_guesses_use_the_code_up(app, client):
    request_code(client, EMAIL)
    code = code_from_outbox(app, "ada@example.org")
    for _ in range(MAX_CODE_ATTEMPTS):
        response = enter_code(client, _wrong(code))
        assert response.status_code == 401
    with app.app_context():
        assert db.session.scalars(select(EmailSignInCode)).one().attempts == MAX_CODE_ATTEMPTS
    response = enter_code(client, code)  # the right code, too late
    assert response.status_code == 401 and "new code" in response.text


def test_staff_addresses_get_no_code(app, client):
    with app.app_context():
        _, email, _, _ = make_account("staff")
    request_code(client, email)
    with app.app_context():
        assert db.session.scalars(select(EmailSignInCode)).first() is None
        message = db.session.scalars(select(OutboxMessage)).one()
        assert "staff" in message.body
    with client.session_transaction() as session:
        session["resident_sign_in"] = {"email": email, "next": None, "expires": 4102444800}
    assert enter_code(client, "123456").status_code == 401


def test_bad_addresses_are_refused(client):
    response = request_code(client, "not an address")
    assert response.status_code == 422 and "email address" in response.text
    # the summary links to the address box, which names the message and keeps what was typed
    checked = assert_linked_summary(response, ["email"])
    assert checked.by_id["email"]["value"] == "not an address"
    assert "email address" in checked.summary_text


def test_a_wrong_code_links_to_the_code_box(app, client):
    request_code(client, EMAIL)
    response = enter_code(client, _wrong(code_from_outbox(app, EMAIL)))
    checked = assert_linked_summary(response, ["code"], status=401)
    assert checked.by_id["code"].get("value") is None  # a code is never shown back


def test_sign_out_ends_the_session(app, client):
    sign_in_by_email(client, EMAIL)
    page = client.get("/my/ideas")
    from tests.conftest import csrf_token

    assert client.post("/sign-out", data={"csrf_token": csrf_token(page.text)}).status_code == 302
    assert client.get("/my/ideas").status_code == 302


def test_the_development_outbox_shows_messages_only_in_development(app, client, engine_name,
                                                                   migrated_urls):
    request_code(client, EMAIL)
    page = client.get("/dev/outbox")
    assert page.status_code == 200 and "Your pbvote sign-in code" in page.text
    from pbvote import create_app

    for overrides in ({"TESTING": False}, {"MAIL_BACKEND": "smtp"},
                      {"SHOW_DEV_OUTBOX": True, "TESTING": False,
                       "REQUIRE_SECRET_FROM_ENVIRONMENT": True, "SECRET_KEY": "x" * 32,
                       "IDENTITY_HMAC_KEY": "y" * 32}):
        other = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                           **overrides)
        assert other.test_client().get("/dev/outbox").status_code == 404, overrides
    shown = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                       TESTING=False, SHOW_DEV_OUTBOX=True)
    assert shown.test_client().get("/dev/outbox").status_code == 200


def test_resident_pages_send_visitors_to_the_email_sign_in(app, client):
    with app.app_context():
        make_intake_cycle()
    response = client.get("/cycles/test-cycle/ideas/new")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]


def test_code_requests_and_guesses_are_rate_limited(engine_name, migrated_urls):
    from pbvote import create_app
    from pbvote.infra.extensions import limiter

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     RATELIMIT_ENABLED=True, RESIDENT_SIGN_IN_RATE_LIMIT="3/minute")
    limiter.reset()
    try:
        client = app.test_client()
        statuses = [request_code(client, f"person{n}@example.org").status_code
                    for n in range(4)]
        assert statuses == [302, 302, 302, 429]
    finally:
        limiter.reset()
        with app.app_context():
            from tests.conftest import _empty_all_tables

            _empty_all_tables(db)
            db.engine.dispose()
