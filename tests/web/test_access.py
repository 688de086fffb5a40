"""Deny by default: every route in app.url_map, for each kind of visitor."""
from __future__ import annotations

import pytest
from flask import Blueprint

from pbvote.db import write_intent
from pbvote.extensions import db
from tests.factories import make_cycle

#: endpoint → expected GET status for an anonymous visitor and for a verified resident
EXPECTED = {
    "static": (200, 200),
    "public.index": (200, 200),
    "public.cycle": (200, 200),
    "vote.start": (200, 200),
    "vote.verify": (200, 200),
    "vote.ballot": (302, 200),
    "vote.review": (302, 302),  # nothing pending yet: back to the ballot
    "vote.receipt": (302, 302),  # no receipt in this session
    "vote.cast": (405, 405),
    "vote.leave": (405, 405),
    "board.index": (200, 200),
    "board.district": (200, 200),
    "board.receipts_text": (200, 200),
    "board.check": (200, 200),
    "board.bundle": (404, 404),  # not published
    "api.cycles": (200, 200),
    "api.cycle": (200, 200),
    "api.projects": (200, 200),
    "api.board": (200, 200),
    "api.receipt": (200, 200),  # a well-formed receipt that is not on the board
    "api.results": (404, 404),  # not published
}
# CSRF is checked before access, so a tokenless POST is 400 for everyone.
POST_ONLY_EXPECTED = {"vote.cast": (400, 400), "vote.leave": (400, 400)}
VALUES = {"slug": "test-cycle", "district_slug": "approval", "filename": "css/pbvote.css",
          "receipt": "ABCDE-12345"}


def _url(app, rule) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{arg: VALUES[arg] for arg in rule.arguments})


@pytest.fixture
def visitor_clients(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    anonymous = app.test_client()
    resident = app.test_client()
    person = made.people["approval"]
    from tests.conftest import csrf_token

    page = resident.get("/cycles/test-cycle/vote/approval/verify")
    assert resident.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code == 302
    return {"anonymous": anonymous, "resident": resident}


@pytest.mark.parametrize("who", [0, 1], ids=["anonymous", "resident"])
def test_every_route_answers_as_expected(app, visitor_clients, who):
    client = visitor_clients[["anonymous", "resident"][who]]
    rules = list(app.url_map.iter_rules())
    unknown = sorted({r.endpoint for r in rules} - set(EXPECTED))
    assert not unknown, f"add these endpoints to the access table: {unknown}"
    for rule in rules:
        url = _url(app, rule)
        response = client.get(url)
        assert response.status_code == EXPECTED[rule.endpoint][who], (rule.endpoint, url)
        if rule.endpoint in POST_ONLY_EXPECTED:
            posted = client.post(url, data={})
            assert posted.status_code == POST_ONLY_EXPECTED[rule.endpoint][who], rule.endpoint


def test_a_blueprint_without_a_policy_is_closed(engine_name, migrated_urls):
    from pbvote import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name))
    forgotten = Blueprint("forgotten", __name__)
    forgotten.add_url_rule("/forgotten", "page", lambda: "secret")
    app.register_blueprint(forgotten)
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.text
