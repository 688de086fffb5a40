"""Staff sign-in through the test client: password, TOTP, enrolment, recovery codes, lockout,
rate limits, fresh login, redirects and sessions. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import func, select, update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Chain, LogEntry, RecoveryCode, StaffSignInFailure
from pbvote.services import accounts
from pbvote.services.log import SYSTEM_CHAIN, verify_stored_chain
from pbvote.web.guards import AUTHENTICATED_AT
from tests.conftest import csrf_token
from tests.staff_helpers import login, make_account, reauthenticate, totp_code

WRONG_PASSWORD = "not the right password at all"


def _post_password(client, email, password, next_path=None):
    page = client.get("/staff/login", query_string={"next": next_path} if next_path else None)
    data = {"csrf_token": csrf_token(page.text), "email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/staff/login", data=data)


def _post_code(client, code, next_path=None):
    page = client.get("/staff/login/totp")
    data = {"csrf_token": csrf_token(page.text), "code": code}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/staff/login/totp", data=data)


def _system_log(app) -> list[tuple[str, str]]:
    """(kind, entry_json) of the system chain, oldest first; the chain must verify."""
    with app.app_context():
        chain = db.session.scalar(select(Chain).where(Chain.name == SYSTEM_CHAIN))
        if chain is None:
            return []
        assert verify_stored_chain(chain.id).ok
        return list(db.session.execute(select(LogEntry.kind, LogEntry.entry_json)
                                       .where(LogEntry.chain_id == chain.id)
                                       .order_by(LogEntry.position)))


def _account(app, account_id) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def _path(response) -> str:
    return urlsplit(response.headers["Location"]).path


@pytest.fixture
def staff(app):
    with app.app_context():
        return make_account("staff")


@pytest.fixture
def admin(app):
    with app.app_context():
        return make_account("admin")


def test_password_then_totp_opens_the_dashboard(app, client, staff):
    account_id, email, password, secret = staff
    assert _path(client.get("/staff/")) == "/staff/login"
    response = _post_password(client, email.upper(), password)  # email case does not matter
    assert response.status_code == 302 and _path(response) == "/staff/login/totp"
    # Half signed in: staff pages send the person back to the TOTP step, not in.
    assert _path(client.get("/staff/")) == "/staff/login/totp"
    response = _post_code(client, totp_code(app, email, secret))
    assert response.status_code == 302 and _path(response) == "/staff/"
    dashboard = client.get("/staff/")
    assert dashboard.status_code == 200 and "Staff dashboard" in dashboard.text
    assert "Sign out" in dashboard.text
    kinds = [kind for kind, _ in _system_log(app)]
    assert kinds == ["auth.login_succeeded"]


def test_wrong_password_and_unknown_email_get_the_same_refusal(app, client, staff):
    account_id, email, password, secret = staff
    wrong = _post_password(client, email, WRONG_PASSWORD)
    unknown = _post_password(client, "nobody@example.org", WRONG_PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert accounts.SIGN_IN_REFUSED in wrong.text and accounts.SIGN_IN_REFUSED in unknown.text
    assert _account(app, account_id).failed_attempts == 1
    entries = _system_log(app)
    assert [kind for kind, _ in entries] == ["auth.login_failed", "auth.login_failed"]
    assert email in entries[0][1] and '"stage":"password"' in entries[0][1]
    assert "nobody@example.org" not in entries[1][1]  # a mistyped name may be a password
    assert client.get("/staff/").status_code == 302


def test_five_failures_lock_the_account_and_the_log_keeps_no_secret(app, client, staff):
    account_id, email, password, secret = staff
    for attempt in range(5):
        assert _post_password(client, email, f"{WRONG_PASSWORD} {attempt}").status_code == 401
    account = _account(app, account_id)
    assert account.failed_attempts == 5
    remaining = account.locked_until - utcnow()
    assert dt.timedelta(minutes=14) < remaining <= dt.timedelta(minutes=15)
    # Locked: a wrong password gets the same words as any failure (nothing tells a guesser
    # that the account exists), but the right one is told the account is locked, until when.
    guess = _post_password(client, email, WRONG_PASSWORD)
    assert guess.status_code == 401 and accounts.SIGN_IN_REFUSED in guess.text
    refused = _post_password(client, email, password)
    assert refused.status_code == 401 and accounts.SIGN_IN_REFUSED not in refused.text
    until = account.locked_until.strftime("%-I:%M:%S")
    assert "This account is locked after too many failed attempts, until" in refused.text
    assert until in refused.text and "UTC" in refused.text
    kinds = [kind for kind, _ in _system_log(app)]
    assert kinds == ["auth.login_failed"] * 5 + ["auth.locked"] + ["auth.login_refused"] * 2

    # Once the lock has run out, the right password works again and the unlock is logged.
    with app.app_context(), write_intent():
        db.session.execute(update(StaffSignInFailure).where(
            StaffSignInFailure.account_id == account_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    assert _path(_post_password(client, email, password)) == "/staff/login/totp"
    code = totp_code(app, email, secret)
    assert _post_code(client, code).status_code == 302
    entries = _system_log(app)
    assert [kind for kind, _ in entries][-2:] == ["auth.unlocked", "auth.login_succeeded"]
    assert _account(app, account_id).failed_attempts == 0
    secrets_used = [password, WRONG_PASSWORD, secret, code]
    for _, text in entries:
        for secret_text in secrets_used:
            assert secret_text not in text


def test_wrong_totp_codes_count_towards_the_lockout(app, client, staff):
    account_id, email, password, secret = staff
    assert _path(_post_password(client, email, password)) == "/staff/login/totp"
    good = totp_code(app, email, secret)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(4):
        refused = _post_code(client, wrong)
        assert refused.status_code == 401 and accounts.CODE_REFUSED in refused.text
    # the fifth locks the account, and this person (who gave the right password) is told so
    locked = _post_code(client, wrong)
    assert locked.status_code == 401 and "locked after too many failed attempts, until" \
        in locked.text
    assert _account(app, account_id).locked_until is not None
    again = _post_code(client, good)  # locked: the right code is refused, saying why
    assert again.status_code == 401 and "is locked" in again.text
    assert client.get("/staff/").status_code == 302
    kinds = [kind for kind, _ in _system_log(app)]
    assert kinds.count("auth.login_failed") == 5 and "auth.locked" in kinds
    for _, text in _system_log(app):
        assert good not in text and wrong not in text


def test_sign_in_posts_are_rate_limited_per_address(app, engine_name, migrated_urls):
    from pbvote import create_app

    limited = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                         RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="10/minute")
    per_address = limited.test_client()
    statuses = [_post_password(per_address, f"someone{i}@example.org", WRONG_PASSWORD).status_code
                for i in range(11)]
    assert statuses == [401] * 10 + [429]
    assert "Too many attempts" in _post_password(per_address, "x@example.org", "y").text
    # No limit per email: that one would let anyone keep a staff member from signing in
    # (tests/web/test_lockouts.py); the lockout per account and address slows a guesser.


def test_first_sign_in_enrols_totp_with_a_local_svg_qr_code(app, client):
    with app.app_context():
        account_id, email, password, _ = make_account("staff", enrolled=False)
    response = _post_password(client, email, password)
    assert _path(response) == "/staff/enrol"
    assert _path(client.get("/staff/")) == "/staff/enrol"
    page = client.get("/staff/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text and "<script" not in page.text and "style=" not in page.text
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page.text).group(1)
    secret = secret.replace(" ", "")
    assert client.get("/staff/enrol").text.count(secret[:4]) >= 1  # same secret on reload

    wrong = client.post("/staff/enrol", data={"csrf_token": csrf_token(page.text),
                                              "code": "000000"})
    assert wrong.status_code == 401 and _account(app, account_id).totp_secret is None
    done = client.post("/staff/enrol", data={
        "csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", done.text)
    assert len(set(codes)) == 10
    assert _account(app, account_id).totp_secret == secret
    with app.app_context():
        stored = list(db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.account_id == account_id)))
    assert len(stored) == 10 and not set(stored) & {c.replace("-", "") for c in codes}
    assert client.get("/staff/").status_code == 200
    assert "auth.totp_enrolled" in [kind for kind, _ in _system_log(app)]
    # The codes were shown once; enrolment is over.
    assert _path(client.get("/staff/enrol")) == "/staff/login"


def test_a_code_already_used_is_refused(app, client, staff):
    account_id, email, password, secret = staff
    _post_password(client, email, password)
    code = totp_code(app, email, secret)
    assert _post_code(client, code).status_code == 302
    client.post("/staff/logout", data={"csrf_token": csrf_token(client.get("/staff/reauth").text)})
    _post_password(client, email, password)
    replay = _post_code(client, code)
    assert replay.status_code == 401 and accounts.CODE_REFUSED in replay.text


def test_codes_one_step_away_are_accepted_two_steps_away_refused(app, staff):
    account_id, email, password, secret = staff
    totp = pyotp.TOTP(secret)
    now = time.time()
    step = int(now // 30)
    with app.app_context(), write_intent():
        for offset in (-2, 2):
            with pytest.raises(accounts.SignInRefused):
                accounts.check_second_factor(account_id, totp.generate_otp(step + offset), now)
        for offset in (-1, 0, 1):  # each newer than the last, so none is a replay
            assert accounts.check_second_factor(
                account_id, totp.generate_otp(step + offset), now) == "totp"
        assert db.session.get(Account, account_id).totp_last_timecode == step + 1
        db.session.rollback()


def test_a_recovery_code_replaces_totp_once(app, client, staff):
    account_id, email, password, secret = staff
    code = totp_code(app, email, secret)
    with app.app_context(), write_intent():
        account = db.session.get(Account, account_id)
        account.totp_secret = None
        codes = accounts.confirm_enrolment(account_id, secret, code)
        db.session.commit()
    _post_password(client, email, password)
    assert _post_code(client, codes[3].lower()).status_code == 302
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout", data={"csrf_token": csrf_token(client.get("/staff/reauth").text)})
    _post_password(client, email, password)
    assert _post_code(client, codes[3]).status_code == 401
    assert _post_code(client, codes[4]).status_code == 302
    entries = [text for kind, text in _system_log(app) if kind == "auth.recovery_code_used"]
    assert len(entries) == 2 and '"recovery_codes_left":8' in entries[1]
    for _, text in _system_log(app):
        assert not any(code in text or code.replace("-", "") in text for code in codes)


def test_a_sensitive_action_asks_for_a_fresh_login(app, client, admin):
    account_id, email, password, secret = admin
    login(client, email, password, secret)
    assert client.get("/admin/accounts/invite").status_code == 200
    with client.session_transaction() as session:
        session[AUTHENTICATED_AT] = time.time() - 601
    stale = client.get("/admin/accounts/invite")
    assert stale.status_code == 302 and _path(stale) == "/staff/reauth"
    assert parse_qs(urlsplit(stale.headers["Location"]).query)["next"] == ["/admin/accounts/invite"]
    # A POST is refused the same way and nothing is created.
    posted = client.post("/admin/accounts/invite", data={
        "csrf_token": csrf_token(client.get("/staff/reauth").text),
        "email": "new@example.org", "role": "staff"})
    assert _path(posted) == "/staff/reauth"
    with app.app_context():
        assert accounts.find_by_email("new@example.org") is None

    wrong = reauthenticate(client, email, WRONG_PASSWORD, secret, "/admin/accounts/invite")
    assert wrong.status_code == 401
    back = reauthenticate(client, email, password, secret, "/admin/accounts/invite")
    assert back.status_code == 302 and _path(back) == "/admin/accounts/invite"
    assert client.get("/admin/accounts/invite").status_code == 200
    assert "auth.reauthenticated" in [kind for kind, _ in _system_log(app)]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_next_never_leaves_the_site(app, client, staff, target):
    account_id, email, password, secret = staff
    page = client.get("/staff/login", query_string={"next": target})
    assert "evil" not in page.text and "javascript" not in page.text
    response = _post_password(client, email, password, next_path=target)
    assert "evil" not in response.headers["Location"]
    done = _post_code(client, totp_code(app, email, secret), next_path=target)
    assert done.headers["Location"] == "/staff/"
    back = reauthenticate(client, email, password, secret, target)
    assert back.status_code == 302 and back.headers["Location"] == "/staff/"


def test_a_local_next_path_is_followed(app, client, admin):
    account_id, email, password, secret = admin
    first = client.get("/audit/")
    assert _path(first) == "/staff/login"
    assert parse_qs(urlsplit(first.headers["Location"]).query)["next"] == ["/audit/"]
    _post_password(client, email, password, next_path="/audit/")
    done = _post_code(client, totp_code(app, email, secret), next_path="/audit/")
    assert done.headers["Location"] == "/audit/"


def test_signing_in_starts_a_new_session(app, client, staff):
    account_id, email, password, secret = staff
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    _post_password(client, email, password)
    with client.session_transaction() as session:
        assert "planted" not in session
    login(client, email, password, secret)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_signing_out_makes_the_old_cookie_useless(app, client, staff):
    account_id, email, password, secret = staff
    login(client, email, password, secret)
    old_cookie = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", old_cookie)
    assert copy.get("/staff/").status_code == 200  # the copy works while the session lives
    out = client.post("/staff/logout",
                      data={"csrf_token": csrf_token(client.get("/staff/reauth").text)})
    assert out.status_code == 302 and _path(out) == "/staff/login"
    assert "You have signed out" in client.get(out.headers["Location"]).text
    assert client.get("/staff/").status_code == 302
    replayed = app.test_client()
    replayed.set_cookie("session", old_cookie)
    assert _path(replayed.get("/staff/")) == "/staff/login"
    assert "auth.logout" in [kind for kind, _ in _system_log(app)]


def test_a_session_from_another_browser_is_dropped(app, client, staff):
    account_id, email, password, secret = staff
    login(client, email, password, secret)
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    stolen.environ_base["HTTP_USER_AGENT"] = "Another browser"
    assert _path(stolen.get("/staff/")) == "/staff/login"


def test_a_logout_without_token_is_refused(app, client, staff):
    account_id, email, password, secret = staff
    login(client, email, password, secret)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200


def test_staff_pages_are_not_cached(app, client, staff):
    account_id, email, password, secret = staff
    login(client, email, password, secret)
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"


def test_auditors_land_on_the_audit_area(app, client):
    with app.app_context():
        account_id, email, password, secret = make_account("auditor")
    _post_password(client, email, password)
    done = _post_code(client, totp_code(app, email, secret))
    assert done.headers["Location"] == "/audit/"
    assert client.get("/staff/").status_code == 403


def test_a_half_finished_sign_in_expires(app, client, staff):
    account_id, email, password, secret = staff
    _post_password(client, email, password)
    with client.session_transaction() as session:
        session["pending_sign_in"]["expires"] = time.time() - 1
        session.modified = True
    assert _path(client.get("/staff/login/totp")) == "/staff/login"
    late = client.post("/staff/login/totp", data={
        "csrf_token": csrf_token(client.get("/staff/login").text),
        "code": totp_code(app, email, secret)})
    assert _path(late) == "/staff/login"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LogEntry)) == 0


def test_every_refusal_costs_one_password_hash(app, staff, monkeypatch):
    """Unknown, deactivated and locked accounts hash a dummy, so timing does not tell them apart."""
    from argon2 import PasswordHasher

    account_id, email, password, secret = staff
    calls = []
    real_verify = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify",
                        lambda self, hash_, text: calls.append(1) or real_verify(self, hash_, text))
    with app.app_context():
        with write_intent():
            inactive = make_account("staff", enrolled=False)
            db.session.get(Account, inactive[0]).is_active = False
            locked = make_account("staff")
            db.session.add(StaffSignInFailure(
                account_id=locked[0], client_hash=accounts._client_hash(""), failures=5,
                locked_until=utcnow() + dt.timedelta(minutes=5)))
            db.session.commit()
        for who in (email, "nobody@example.org", inactive[1], locked[1]):
            calls.clear()
            with write_intent(), pytest.raises(accounts.SignInRefused):
                accounts.check_password(who, WRONG_PASSWORD)
            db.session.rollback()
            assert len(calls) == 1, who


def test_the_dashboard_lists_cycles_with_links_to_their_staff_pages(app, client, staff):
    from tests.factories import make_cycle

    with app.app_context(), write_intent():
        make_cycle()
        db.session.commit()
    login(client, *staff[1:])
    page = client.get("/staff/")
    assert "Cycle test-cycle" in page.text and 'href="/cycles/test-cycle"' in page.text
    from pbvote.web.staff import CYCLE_LINKS

    assert {"staff_setup.overview", "review.queue", "staff_results.overview"} <= {
        endpoint for endpoint, _ in CYCLE_LINKS}
    for endpoint, _ in CYCLE_LINKS:  # a renamed endpoint would silently drop its link
        assert endpoint in app.view_functions, endpoint
        with app.test_request_context():
            from flask import url_for

            assert f'href="{url_for(endpoint, slug="test-cycle")}"' in page.text
    assert 'href="/staff/cycles/new"' in page.text
