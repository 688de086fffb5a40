"""Online self-declaration through the test client: a resident on no roll declares, confirms
the code from the outbox and votes once; every refusal has its status and message."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Cycle, OutboxMessage, Participation, SelfDeclaration
from tests.conftest import csrf_token
from tests.factories import make_cycle

PERSON = {"district": "approval", "given_names": "Ana María", "last_name": "Núñez",
          "street": "12 Calle Mayor", "postcode": "10001", "birth_date": "1990-05-04",
          "contact": "ana@example.org"}


@pytest.fixture
def made(app):
    with app.app_context(), write_intent():
        result = make_cycle()
        db.session.get(Cycle, result.cycle_id).online_self_declaration = True
        db.session.commit()
    return result


def _declare(client, made, **override):
    page = client.get(f"/cycles/{made.slug}/vote/declare/")
    assert page.status_code == 200
    return client.post(f"/cycles/{made.slug}/vote/declare/",
                       data={"csrf_token": csrf_token(page.text), **PERSON, **override})


def _latest_code(app, recipient="ana@example.org") -> str:
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def _confirm(client, made, code):
    page = client.get(f"/cycles/{made.slug}/vote/declare/confirm")
    assert page.status_code == 200
    return client.post(f"/cycles/{made.slug}/vote/declare/confirm",
                       data={"csrf_token": csrf_token(page.text), "code": code})


def _vote(client, made):
    page = client.get(f"/cycles/{made.slug}/vote/ballot")
    assert page.status_code == 200
    submitted = client.post(f"/cycles/{made.slug}/vote/ballot",
                            data={"csrf_token": csrf_token(page.text), "project": ["AP-A"]})
    assert submitted.status_code == 302
    review = client.get(f"/cycles/{made.slug}/vote/review")
    return client.post(f"/cycles/{made.slug}/vote/cast",
                       data={"csrf_token": csrf_token(review.text)})


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Ballot)),
                db.session.scalar(select(func.count()).select_from(Participation)))


def test_a_resident_on_no_roll_declares_confirms_and_votes_once(app, client, made):
    start = client.get(f"/cycles/{made.slug}/vote/")
    assert "/vote/declare/" in start.text
    declared = _declare(client, made)
    assert declared.status_code == 302 and declared.location.endswith("/vote/declare/confirm")
    confirmed = _confirm(client, made, _latest_code(app))
    assert confirmed.status_code == 302 and confirmed.location.endswith("/vote/ballot")
    cast = _vote(client, made)
    assert cast.status_code == 302 and cast.location.endswith("/vote/receipt")
    assert _counts(app) == (1, 1)
    with app.app_context():
        row = db.session.scalar(select(SelfDeclaration))
        participation = db.session.scalar(select(Participation))
        assert participation.identity_hash == row.identity_hash
        assert participation.channel == "online"
        assert row.confirmed and row.code_hash is None and row.code_expires_at is None
        stored = " ".join(str(v) for v in (row.identity_hash, row.contact_hash,
                                          row.address_hash, row.contact_kind))
        for clear in ("Ana", "Núñez", "Mayor", "ana@example.org", "1990"):
            assert clear not in stored
    # the same person again, even with another contact: 409, nothing new stored
    other = app.test_client()
    again = _declare(other, made, contact="ana2@example.org")
    assert again.status_code == 409
    same = _declare(other, made)
    assert same.status_code == 409 and "already voted" in same.text
    assert _counts(app) == (1, 1)


def test_a_phone_gets_its_code_by_sms_in_the_outbox(app, client, made):
    declared = _declare(client, made, contact="+1 (555) 010-2030")
    assert declared.status_code == 302
    code = _latest_code(app, recipient="sms:+15550102030")
    assert _confirm(client, made, code).status_code == 302


def test_wrong_codes_count_and_the_sixth_try_is_gone(app, client, made):
    assert _declare(client, made).status_code == 302
    right = _latest_code(app)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for left in range(4, -1, -1):
        refused = _confirm(client, made, wrong)
        assert refused.status_code == 401
        assert f"Tries left: {left}" in refused.text
    assert _confirm(client, made, right).status_code == 410
    assert _counts(app) == (0, 0)


def test_an_expired_code_is_gone_and_a_used_one_conflicts(app, client, made):
    assert _declare(client, made).status_code == 302
    code = _latest_code(app)
    with app.app_context(), write_intent():
        row = db.session.scalar(select(SelfDeclaration))
        row.code_expires_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    assert _confirm(client, made, code).status_code == 410
    # declaring again sends a new code, which works once
    assert _declare(client, made).status_code == 302
    code = _latest_code(app)
    with client.session_transaction() as session:
        pending = dict(session["declaration"])
    assert _confirm(client, made, code).status_code == 302
    with client.session_transaction() as session:
        session["declaration"] = pending
    reused = _confirm(client, made, code)
    assert reused.status_code == 409 and "already used" in reused.text


@pytest.mark.parametrize(("override", "field"), [
    ({"birth_date": (dt.date.today() - dt.timedelta(days=365 * 10)).isoformat()}, "16 years"),
    ({"contact": "not a contact"}, "phone number"),
    ({"given_names": ""}, "given names"),
    ({"district": "nowhere"}, "district"),
    ({"street": "12 Main\u202eSt"}, "U+202E"),
])
def test_bad_input_is_422_and_stores_nothing(app, client, made, override, field):
    refused = _declare(client, made, **override)
    assert refused.status_code == 422
    assert field in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SelfDeclaration)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_resident_on_the_roll_is_sent_to_the_roll(app, client, made):
    person = made.people["approval"]
    refused = _declare(client, made, last_name=person.last_name,
                       birth_date=person.birth_date.isoformat(), postcode=person.postcode)
    assert refused.status_code == 409 and "roll" in refused.text


def test_one_contact_declares_one_person(app, client, made):
    assert _declare(client, made).status_code == 302
    other = app.test_client()
    refused = _declare(other, made, given_names="Luis", birth_date="1991-01-01")
    assert refused.status_code == 409 and "another declaration" in refused.text


def test_off_by_default_the_pages_do_not_exist(app, client):
    with app.app_context(), write_intent():
        plain = make_cycle(slug="plain")
        db.session.commit()
    assert client.get(f"/cycles/{plain.slug}/vote/declare/").status_code == 404
    assert "/vote/declare/" not in client.get(f"/cycles/{plain.slug}/vote/").text


@pytest.fixture
def limited_app(engine_name, migrated_urls):
    from pbvote import create_app
    from pbvote.infra.extensions import limiter

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     RATELIMIT_ENABLED=True, SELF_DECLARATION_PER_CONTACT="2/hour",
                     SELF_DECLARATION_PER_ADDRESS="3/day", SELF_DECLARATION_PER_NETWORK="5/hour",
                     SELF_DECLARATION_CODES_PER_NETWORK="3/10 minutes")
    limiter.reset()
    yield app
    limiter.reset()
    from tests.conftest import _empty_all_tables

    with app.app_context():
        _empty_all_tables(db)
        db.engine.dispose()


def _limited_made(app):
    with app.app_context(), write_intent():
        result = make_cycle()
        db.session.get(Cycle, result.cycle_id).online_self_declaration = True
        db.session.commit()
    return result


def test_declarations_are_limited_per_contact(limited_app):
    made = _limited_made(limited_app)
    statuses = [_declare(limited_app.test_client(), made, given_names=f"P{n}",
                         street=f"{n} Road").status_code for n in range(3)]
    assert statuses == [302, 409, 429]


def test_declarations_are_limited_per_home_address(limited_app):
    made = _limited_made(limited_app)
    statuses = [_declare(limited_app.test_client(), made, given_names=f"P{n}",
                         contact=f"p{n}@example.org", street="12 calle MAYOR").status_code
                for n in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_declarations_and_codes_are_limited_per_network_address(limited_app):
    made = _limited_made(limited_app)
    statuses = [_declare(limited_app.test_client(), made, given_names=f"P{n}",
                         contact=f"p{n}@example.org", street=f"{n} Road").status_code
                for n in range(6)]
    assert statuses == [302] * 5 + [429]
    client = limited_app.test_client()
    with client.session_transaction() as session:
        session["declaration"] = {"cycle_slug": made.slug, "id": 1, "kind": "email",
                                  "expires": 2 ** 40}
    tries = [_confirm(client, made, "000000").status_code for _ in range(4)]
    assert tries[-1] == 429 and 429 not in tries[:3]


def test_the_demo_lets_a_newcomer_declare_and_vote(app):
    from pbvote.services.demo import DEMO_SLUG, seed_demo

    with app.app_context(), write_intent():
        seed_demo(voters=4)
        db.session.commit()
    client = app.test_client()
    demo = type("Demo", (), {"slug": DEMO_SLUG})
    declared = _declare(client, demo, district="northbank")
    assert declared.status_code == 302
    assert _confirm(client, demo, _latest_code(app)).status_code == 302
    page = client.get(f"/cycles/{DEMO_SLUG}/vote/ballot")
    assert page.status_code == 200 and "Northbank" in page.text


@pytest.mark.parametrize(("language", "title", "refusal"), [
    ("es", "¿No figura en el censo? Declare dónde vive", "Intentos restantes: 4"),
    ("zh_Hans", "不在名册上？申报您的住址", "剩余尝试次数：4"),
])
def test_the_declaration_speaks_the_readers_language(app, client, made, language, title,
                                                      refusal):
    from pbvote.web.i18n import LANGUAGE_COOKIE

    client.set_cookie(LANGUAGE_COOKIE, language)
    assert title in client.get(f"/cycles/{made.slug}/vote/declare/").text
    assert _declare(client, made).status_code == 302
    right = _latest_code(app)
    wrong = _confirm(client, made, f"{(int(right) + 1) % 1000000:06d}")
    assert wrong.status_code == 401 and refusal in wrong.text
