"""Administrators manage staff: invite, deactivate, reactivate, role, TOTP reset, unlock.
Each change is logged with who, what and before/after. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Chain, LogEntry
from pbvote.services.log import SYSTEM_CHAIN
from tests.conftest import csrf_token
from tests.staff_helpers import login, make_account


def _system_entries(app, kind: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(LogEntry.entry_json).join(Chain, Chain.id == LogEntry.chain_id)
            .where(Chain.name == SYSTEM_CHAIN, LogEntry.kind == kind)
            .order_by(LogEntry.position))
        return [json.loads(text)["data"] for text in rows]


def _account(app, account_id) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def _token(client) -> str:
    return csrf_token(client.get("/admin/accounts").text)


@pytest.fixture
def signed_in_admin(app):
    with app.app_context():
        admin = make_account("admin", email="chief@example.org")
    client = app.test_client()
    login(client, *admin[1:])
    return admin, client


@pytest.fixture
def colleague(app):
    """A signed-in staff member: (account tuple, client)."""
    with app.app_context():
        staff = make_account("staff", email="colleague@example.org")
    client = app.test_client()
    login(client, *staff[1:])
    return staff, client


def test_invitation_from_link_to_dashboard(app, signed_in_admin):
    (admin_id, *_), admin_client = signed_in_admin
    page = admin_client.get("/admin/accounts/invite")
    bad = admin_client.post("/admin/accounts/invite", data={
        "csrf_token": csrf_token(page.text), "email": "not an email", "role": "staff"})
    assert bad.status_code == 422 and "name@example.org" in bad.text
    taken = admin_client.post("/admin/accounts/invite", data={
        "csrf_token": csrf_token(page.text), "email": "Chief@Example.org", "role": "staff"})
    assert taken.status_code == 409 and "already exists" in taken.text
    made = admin_client.post("/admin/accounts/invite", data={
        "csrf_token": csrf_token(page.text), "email": "New.Person@Example.org",
        "display_name": "New Person", "role": "auditor"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    link = re.search(r'<code class="invitation-link">([^<]+)</code>', made.text).group(1)
    path = urlsplit(link).path
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        invited = db.session.scalar(
            select(Account).where(Account.email == "new.person@example.org"))
        assert invited.role == "auditor" and invited.password_hash is None
        assert invited.invited_by_id == admin_id and invited.invitation_hash != token
        remaining = invited.invitation_expires_at - utcnow()
        assert dt.timedelta(hours=71) < remaining <= dt.timedelta(hours=72)
        invited_id = invited.id

    newcomer = app.test_client()
    assert _path(newcomer.get("/audit/")) == "/staff/login"
    page = newcomer.get(path)
    assert page.status_code == 200 and "new.person@example.org" in page.text
    short = newcomer.post(path, data={"csrf_token": csrf_token(page.text),
                                      "password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    differ = newcomer.post(path, data={"csrf_token": csrf_token(page.text),
                                       "password": "a long new password", "confirm": "another"})
    assert differ.status_code == 422 and "differ" in differ.text
    accepted = newcomer.post(path, data={"csrf_token": csrf_token(page.text),
                                         "password": "a long new password",
                                         "confirm": "a long new password"})
    assert _path(accepted) == "/staff/enrol"
    enrol = newcomer.get("/staff/enrol")
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', enrol.text).group(1)
    done = newcomer.post("/staff/enrol", data={
        "csrf_token": csrf_token(enrol.text), "code": pyotp.TOTP(secret.replace(" ", "")).now()})
    assert done.status_code == 200 and "recovery codes" in done.text
    assert newcomer.get("/audit/").status_code == 200
    assert newcomer.get("/staff/").status_code == 403  # an auditor, not staff

    assert app.test_client().get(path).status_code == 404  # the link worked once
    invited_entry = _system_entries(app, "account.invited")[0]
    assert invited_entry["actor"] == f"chief@example.org (#{admin_id})"
    assert invited_entry["after"]["role"] == "auditor"
    assert _system_entries(app, "account.invitation_accepted")[0]["account"].endswith(
        f"(#{invited_id})")
    with app.app_context():
        every_entry = " ".join(db.session.scalars(select(LogEntry.entry_json)))
    assert token not in every_entry and "a long new password" not in every_entry


def test_an_expired_invitation_is_refused(app, signed_in_admin):
    _, admin_client = signed_in_admin
    page = admin_client.get("/admin/accounts/invite")
    made = admin_client.post("/admin/accounts/invite", data={
        "csrf_token": csrf_token(page.text), "email": "late@example.org", "role": "staff"})
    path = urlsplit(re.search(r'<code class="invitation-link">([^<]+)</code>',
                              made.text).group(1)).path
    with app.app_context(), write_intent():
        account = db.session.scalar(select(Account).where(Account.email == "late@example.org"))
        account.invitation_expires_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    assert app.test_client().get(path).status_code == 410


def test_deactivation_ends_the_session_and_blocks_sign_in(app, signed_in_admin, colleague):
    (admin_id, *_), admin_client = signed_in_admin
    (staff_id, email, password, secret), staff_client = colleague
    assert staff_client.get("/staff/").status_code == 200
    response = admin_client.post(f"/admin/accounts/{staff_id}/deactivate",
                                 data={"csrf_token": _token(admin_client), "confirm": "y"})
    assert response.status_code == 302
    assert "colleague@example.org is deactivated" in admin_client.get("/admin/accounts").text
    assert not _account(app, staff_id).is_active
    assert _path(staff_client.get("/staff/")) == "/staff/login"
    page = staff_client.get("/staff/login")
    refused = staff_client.post("/staff/login", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password})
    assert refused.status_code == 401
    entry = _system_entries(app, "account.deactivated")[0]
    assert entry["before"]["is_active"] is True and entry["after"]["is_active"] is False
    assert entry["actor"] == f"chief@example.org (#{admin_id})"

    again = admin_client.post(f"/admin/accounts/{staff_id}/deactivate",
                              data={"csrf_token": _token(admin_client)})
    assert again.status_code == 409
    back = admin_client.post(f"/admin/accounts/{staff_id}/reactivate",
                             data={"csrf_token": _token(admin_client)})
    assert back.status_code == 302 and _account(app, staff_id).is_active
    login(staff_client, email, password, secret)
    assert staff_client.get("/staff/").status_code == 200


def test_an_admin_cannot_deactivate_or_demote_themselves(app, signed_in_admin):
    (admin_id, *_), admin_client = signed_in_admin
    own = admin_client.post(f"/admin/accounts/{admin_id}/deactivate",
                            data={"csrf_token": _token(admin_client)})
    assert own.status_code == 409 and "your own account" in own.text
    demote = admin_client.post(f"/admin/accounts/{admin_id}/role",
                               data={"csrf_token": _token(admin_client), "role": "staff"})
    assert demote.status_code == 409
    assert _account(app, admin_id).is_active and _account(app, admin_id).role == "admin"
    assert _system_entries(app, "account.deactivated") == []


def test_a_role_change_applies_at_once_and_is_logged(app, signed_in_admin, colleague):
    _, admin_client = signed_in_admin
    (staff_id, email, password, secret), staff_client = colleague
    changed = admin_client.post(f"/admin/accounts/{staff_id}/role",
                                data={"csrf_token": _token(admin_client), "role": "auditor"})
    assert changed.status_code == 302 and _account(app, staff_id).role == "auditor"
    assert _path(staff_client.get("/staff/")) == "/staff/login"  # signed out by the change
    login(staff_client, email, password, secret)
    assert staff_client.get("/staff/").status_code == 403
    assert staff_client.get("/audit/").status_code == 200
    entry = _system_entries(app, "account.role_changed")[0]
    assert (entry["before"]["role"], entry["after"]["role"]) == ("staff", "auditor")
    unknown = admin_client.post(f"/admin/accounts/{staff_id}/role",
                                data={"csrf_token": _token(admin_client), "role": "resident"})
    assert unknown.status_code == 422


def test_a_totp_reset_makes_the_person_enrol_again(app, signed_in_admin, colleague):
    _, admin_client = signed_in_admin
    (staff_id, email, password, secret), staff_client = colleague
    reset = admin_client.post(f"/admin/accounts/{staff_id}/reset-totp",
                              data={"csrf_token": _token(admin_client), "confirm": "y"})
    assert reset.status_code == 302 and _account(app, staff_id).totp_secret is None
    assert _path(staff_client.get("/staff/")) == "/staff/login"
    page = staff_client.get("/staff/login")
    response = staff_client.post("/staff/login", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password})
    assert _path(response) == "/staff/enrol"
    entry = _system_entries(app, "account.totp_reset")[0]
    assert entry["before"]["totp_enrolled"] is True and entry["after"]["totp_enrolled"] is False
    assert secret not in json.dumps(entry)


def test_an_admin_unlocks_a_locked_account(app, signed_in_admin):
    _, admin_client = signed_in_admin
    with app.app_context():
        staff_id, email, password, secret = make_account("staff")
    client = app.test_client()
    for _ in range(5):
        page = client.get("/staff/login")
        client.post("/staff/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                          "password": "wrong wrong wrong"})
    assert _account(app, staff_id).locked_until is not None
    assert "Locked after failed attempts" in admin_client.get("/admin/accounts").text
    unlocked = admin_client.post(f"/admin/accounts/{staff_id}/unlock",
                                 data={"csrf_token": _token(admin_client)})
    assert unlocked.status_code == 302
    assert _account(app, staff_id).locked_until is None
    login(client, email, password, secret)
    entry = _system_entries(app, "auth.unlocked")[0]
    assert entry["reason"] == "administrator" and entry["failures_before"] == 5


def test_account_actions_need_a_fresh_login(app, signed_in_admin, colleague):
    _, admin_client = signed_in_admin
    (staff_id, *_), _ = colleague
    with admin_client.session_transaction() as session:
        session["authenticated_at"] -= 601
    response = admin_client.post(f"/admin/accounts/{staff_id}/deactivate",
                                 data={"csrf_token": _token(admin_client)},
                                 headers={"Referer": "http://localhost/admin/accounts"})
    assert _path(response) == "/staff/reauth"
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/admin/accounts"]
    assert _account(app, staff_id).is_active


def _path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def test_the_helper_codes_never_replay(app):
    """tests/staff_helpers.totp_code: several sign-ins in one 30-second step all work."""
    with app.app_context():
        staff = make_account("staff")
    client = app.test_client()
    for _ in range(5):
        login(client, *staff[1:])
        assert client.get("/staff/").status_code == 200
