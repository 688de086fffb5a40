"""Rate limits that hold behind a proxy and cannot lock the real person out (issue #21,
items 4 and 5), on both engines.

- Behind a reverse proxy (TRUSTED_PROXIES=1) each resident is counted at their own address
  from X-Forwarded-For; without a configured proxy the header is ignored, so it cannot be
  forged to escape the limit.
- Only guesses count: "already voted", a form with a missing field, or a refusal by the
  limit itself never use up an address's allowance.
- A neighbour guessing a resident's birth date from their own address slows only
  themselves: the real person, from another address, still gets through.
- A staff lockout, which anyone who knows the address can cause, stops new sign-ins only:
  the staff member's open session carries on.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.services import voting
from pbvote.services.cycles import get_cycle
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account


@pytest.fixture
def limited_app(engine_name, migrated_urls):
    from pbvote import create_app
    from pbvote.infra.extensions import limiter

    def build(**config):
        settings = {"RATELIMIT_ENABLED": True, "VOTER_CHECK_FAILURES_PER_PERSON": "3/hour",
                    "VOTER_CHECK_FAILURES_PER_ADDRESS": "5/hour", **config}
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                         **settings)
        limiter.reset()
        built.append(app)
        return app

    built: list = []
    yield build
    if built:
        limiter.reset()
    from tests.conftest import _empty_all_tables

    for app in built:
        with app.app_context():
            _empty_all_tables(db)
            db.engine.dispose()


def _made(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    return made


def _check(app, made, district, person, birth_date, address="127.0.0.1",
           forwarded: str | None = None) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    url = f"/cycles/{made.slug}/vote/{district}/verify"
    page = client.get(url, headers=headers).get_data(as_text=True)
    return client.post(url, headers=headers, data={
        "method": "roll", "roll-csrf_token": csrf_token(page),
        "roll-last_name": person.last_name, "roll-birth_date": birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code


def _strangers(made, n):
    other = made.people["ranked"]
    return [SimpleNamespace(last_name=f"Stranger{i}", postcode=other.postcode)
            for i in range(n)]


def test_behind_a_proxy_each_resident_has_their_own_allowance(limited_app):
    app = limited_app(TRUSTED_PROXIES=1)
    made = _made(app)
    proxy = "10.0.0.1"
    statuses = [_check(app, made, "ranked", s, dt.date(1970, 2, 1), proxy, "203.0.113.7")
                for s in _strangers(made, 6)]
    assert statuses == [403] * 5 + [429]
    # before: everyone behind the proxy shared its address, and this resident got 429
    other = made.people["ranked"]
    assert _check(app, made, "ranked", other, other.birth_date, proxy, "198.51.100.4") == 302


def test_without_a_configured_proxy_the_header_is_not_trusted(limited_app):
    app = limited_app(TRUSTED_PROXIES=0)
    made = _made(app)
    statuses = [_check(app, made, "ranked", s, dt.date(1970, 2, 1), "10.0.0.9",
                       f"203.0.113.{i}") for i, s in enumerate(_strangers(made, 6))]
    assert statuses == [403] * 5 + [429]


def test_already_voted_and_incomplete_forms_are_not_guesses(limited_app):
    app = limited_app()
    made = _made(app)
    voter = made.people["approval"]
    with app.app_context(), write_intent():
        cycle = get_cycle(made.slug)
        checked = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"),
                                        voter.last_name, voter.birth_date, voter.postcode)
        voting.cast_ballot(checked, ["AP-A"])
        db.session.commit()
    # before: each "already voted" counted, and after five the address was refused
    for _ in range(8):
        assert _check(app, made, "approval", voter, voter.birth_date) == 409
    other = made.people["ranked"]
    assert _check(app, made, "ranked", other, other.birth_date) == 302


def test_a_neighbour_cannot_lock_the_real_person_out(limited_app):
    app = limited_app(VOTER_CHECK_FAILURES_PER_ADDRESS="100/hour")
    made = _made(app)
    target = made.people["approval"]
    guesses = [_check(app, made, "approval", target, dt.date(1970, 1, day), "192.0.2.66")
               for day in range(1, 6)]
    assert guesses == [403, 403, 403, 429, 429]
    # the neighbour is slowed, even with the right date...
    assert _check(app, made, "approval", target, target.birth_date, "192.0.2.66") == 429
    # ...but the real person, at home, votes (before: 429 for about 50 minutes)
    assert _check(app, made, "approval", target, target.birth_date, "198.51.100.20") == 302


def _staff_password(client, email, password, address):
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"csrf_token": csrf_token(page.text),
                                              "email": email, "password": password})


def test_a_staff_lockout_does_not_end_the_open_session(app):
    with app.app_context():
        account = make_account("staff")
    _, email, password, secret = account
    signed_in = app.test_client()
    login(signed_in, email, password, secret)
    attacker = app.test_client()
    for _ in range(6):
        _staff_password(attacker, email, "wrong password, wrong", "192.0.2.66")
    from pbvote.models import Account, StaffSignInFailure
    with app.app_context():
        locked = db.session.scalar(db.select(Account).where(Account.email == email))
        assert locked.locked_until is not None
        rows = db.session.scalars(db.select(StaffSignInFailure)
                                  .where(StaffSignInFailure.account_id == locked.id)).all()
        assert len(rows) == 1 and rows[0].locked_until is not None
    # before: the lock also ended this session
    assert signed_in.get("/staff/").status_code == 200


def test_a_stranger_who_knows_the_email_locks_out_only_their_own_address(app):
    with app.app_context():
        _, email, password, secret = make_account("staff")
    attacker = app.test_client()
    for _ in range(20):  # far past the five that lock
        assert _staff_password(attacker, email, "wrong password, wrong",
                               "192.0.2.66").status_code == 401
    # the attacker's address is locked, even with the right password
    refused = _staff_password(attacker, email, password, "192.0.2.66")
    assert refused.status_code == 401 and "is locked" in refused.text
    # the staff member, from their own address, signs in (before: locked for 15 minutes,
    # and again after each further five guesses, for as long as anyone kept guessing)
    staff = app.test_client()
    staff.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    login(staff, email, password, secret)
    assert staff.get("/staff/").status_code == 200
    # and that sign-in does not unlock the attacker's address
    assert "is locked" in _staff_password(attacker, email, password, "192.0.2.66").text


def test_no_sign_in_limit_per_email_from_many_addresses(limited_app):
    """Before, /staff/login was also limited per email address: guesses from eleven addresses
    took the staff member's own attempts away (429)."""
    app = limited_app(SIGN_IN_RATE_LIMIT="10/minute")
    with app.app_context():
        _, email, password, secret = make_account("staff")
    for i in range(12):
        guesser = app.test_client()
        assert _staff_password(guesser, email, "wrong password, wrong",
                               f"10.0.0.{i + 1}").status_code == 401
    staff = app.test_client()
    staff.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    login(staff, email, password, secret)
    assert staff.get("/staff/").status_code == 200
