"""Work every request used to do for nothing, and the guarantees that survive its removal.

The load benchmark (benchmarks/cast_load.py) measures the gain; these tests pin what must
still hold: rate limits still count, session cookies still follow the secret key, and a
voting page that needs only the cycle opens no ORM session yet still sees every change.
"""
from __future__ import annotations

import pytest
from itsdangerous import BadSignature
from sqlalchemy import event

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db, limiter
from pbvote.models import Cycle
from tests.web.test_resident_path import BALLOT_FORMS, _submit_ballot, _verify_by_roll

pytestmark = pytest.mark.db


def test_no_rate_limit_check_runs_before_every_request(engine_name, migrated_urls):
    # every limit is on a decorated view (test_resident_path and the sign-in tests show
    # they still count); the app-wide hook had nothing to check
    from pbvote import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     RATELIMIT_ENABLED=True)
    assert limiter.enabled
    assert not [hook for hook in app.before_request_funcs.get(None, [])
                if hook == limiter._check_request_limit]


def test_the_session_serializer_is_built_once_and_follows_the_secret_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    cookie = first.dumps({"voter": "someone"})

    app.secret_key = "a-rotated-secret"
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first
    with pytest.raises(BadSignature):
        rotated.loads(cookie)


def _orm_transactions_during(app, request):
    begun: list[object] = []

    def count(connection):
        begun.append(connection)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "begin", count)
    try:
        response = request()
    finally:
        event.remove(engine, "begin", count)
    return len(begun), response


def test_voting_pages_that_need_only_the_cycle_open_no_orm_session(app, client, made):
    assert _verify_by_roll(client, made, "approval").status_code == 302
    assert _submit_ballot(client, made, BALLOT_FORMS["approval"]).status_code == 302
    for page in ("ballot", "review"):
        transactions, response = _orm_transactions_during(
            app, lambda page=page: client.get(f"/cycles/{made.slug}/vote/{page}"))
        assert response.status_code == 200
        assert transactions == 0, page

    # …and still show a change committed a moment before
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        project = cycle.district_by_slug("approval").projects[0]
        project.title = "Brighter crossings, renamed"
        db.session.commit()
    # (the reload's own session begins a transaction: only the page's text is checked here)
    _, response = _orm_transactions_during(
        app, lambda: client.get(f"/cycles/{made.slug}/vote/ballot"))
    assert "Brighter crossings, renamed" in response.text


def test_form_labels_are_translated_through_the_request_catalogue(app, client, made):
    from pbvote.web.forms.vote import RollCheckForm
    from pbvote.web.i18n import LANGUAGE_COOKIE

    for locale, label in (("es", "Apellido"), ("en", "Last name")):
        client.set_cookie(LANGUAGE_COOKIE, locale)
        page = client.get(f"/cycles/{made.slug}/vote/approval/verify").text
        assert f">{label}</label>" in page, locale
    # outside a request a lazy label reads in the original English
    assert str(RollCheckForm.last_name.args[0]) == "Last name"
