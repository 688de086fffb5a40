"""The resident's whole path through the test client, with CSRF on, for every ballot kind."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Participation
from tests.conftest import csrf_token
from tests.factories import make_cycle

BALLOT_FORMS = {
    "approval": {"project": ["AP-A", "AP-B"]},
    "knapsack": {"project": ["KN-A", "KN-B"]},
    "ranked": {"rank_RA-C": "1", "rank_RA-A": "2", "rank_RA-B": "", "rank_RA-D": ""},
    "cumulative": {"points_CU-A": "6", "points_CU-D": "4", "points_CU-B": ""},
}


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Ballot)),
                db.session.scalar(select(func.count()).select_from(Participation)))


def _verify_by_roll(client, made, kind, **override):
    page = client.get(f"/cycles/{made.slug}/vote/{kind}/verify")
    assert page.status_code == 200
    person = made.people[kind]
    data = {"method": "roll", "roll-csrf_token": csrf_token(page.text),
            "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
            "roll-postcode_or_roll": person.postcode}
    data.update(override)
    return client.post(f"/cycles/{made.slug}/vote/{kind}/verify", data=data)


def _verify_by_code(client, made, kind, code):
    page = client.get(f"/cycles/{made.slug}/vote/{kind}/verify")
    return client.post(f"/cycles/{made.slug}/vote/{kind}/verify",
                       data={"method": "code", "code-csrf_token": csrf_token(page.text),
                             "code-code": code})


def _submit_ballot(client, made, form):
    page = client.get(f"/cycles/{made.slug}/vote/ballot")
    assert page.status_code == 200
    return client.post(f"/cycles/{made.slug}/vote/ballot",
                       data={"csrf_token": csrf_token(page.text), **form})


def _cast(client, made):
    review = client.get(f"/cycles/{made.slug}/vote/review")
    assert review.status_code == 200
    assert "Cast my ballot" in review.text
    return client.post(f"/cycles/{made.slug}/vote/cast",
                       data={"csrf_token": csrf_token(review.text)})


@pytest.mark.parametrize("kind", list(BALLOT_FORMS))
def test_resident_votes_and_gets_a_receipt(app, client, made, kind):
    cycle_page = client.get(f"/cycles/{made.slug}")
    assert cycle_page.status_code == 200 and "Vote" in cycle_page.text

    verified = _verify_by_roll(client, made, kind)
    assert verified.status_code == 302 and verified.location.endswith("/vote/ballot")

    submitted = _submit_ballot(client, made, BALLOT_FORMS[kind])
    assert submitted.status_code == 302 and submitted.location.endswith("/vote/review")
    assert _counts(app) == (0, 0), "nothing is stored before the voter confirms"

    cast = _cast(client, made)
    assert cast.status_code == 302 and cast.location.endswith("/vote/receipt")
    receipt_page = client.get(cast.location)
    assert receipt_page.status_code == 200
    with app.app_context():
        receipt = db.session.scalar(select(Ballot.receipt))
    assert receipt in receipt_page.text
    assert _counts(app) == (1, 1)

    again = _verify_by_roll(client, made, kind)
    assert again.status_code == 409
    assert "already" in again.text


def test_access_code_path(app, client, made):
    code = made.codes["approval"][0]
    assert _verify_by_code(client, made, "approval", code).status_code == 302
    assert _submit_ballot(client, made, BALLOT_FORMS["approval"]).status_code == 302
    assert _cast(client, made).status_code == 302
    assert _verify_by_code(client, made, "approval", code).status_code == 409
    assert _counts(app) == (1, 1)


@pytest.mark.parametrize("kind, form, code", [
    ("approval", {"project": ["AP-A", "AP-B", "AP-C"]}, "too_many"),
    ("knapsack", {"project": ["KN-A", "KN-B", "KN-C"]}, "over_budget"),
    ("knapsack", {"project": ["KN-D"]}, "under_min_spend"),
    ("ranked", {"rank_RA-A": "1", "rank_RA-B": "3"}, "ranks_not_consecutive"),
    ("cumulative", {"points_CU-A": "6", "points_CU-B": "6"}, "points_exceeded"),
    ("approval", {"project": ["XX-Z"]}, "unknown_project"),
])
def test_broken_ballot_rules_are_shown_beside_the_form(app, client, made, kind, form, code):
    _verify_by_roll(client, made, kind)
    response = _submit_ballot(client, made, form)
    assert response.status_code == 422
    assert "Your ballot cannot be accepted yet" in response.text
    assert 'role="alert"' in response.text
    assert _counts(app) == (0, 0)


def test_refusals_are_clear_4xx(app, client, made):
    wrong = _verify_by_roll(client, made, "approval", **{"roll-last_name": "Nobody"})
    assert wrong.status_code == 403 and "could not find" in wrong.text.lower()
    district = _verify_by_roll(client, made, "approval")
    assert district.status_code == 302
    other = _verify_by_code(client, made, "knapsack", made.codes["approval"][1])
    assert other.status_code == 403
    unknown = _verify_by_code(client, made, "approval", "ZZZZ-ZZZZ-ZZZZ")
    assert unknown.status_code == 403
    assert _counts(app) == (0, 0)


@pytest.mark.parametrize("typed, message", [
    ("27/03/1984", "Not a valid date: write it like the example."),  # month 27 in US order
    ("", "This field is required."),
])
def test_a_birth_date_typed_wrong_says_why(client, made, typed, message):
    refused = _verify_by_roll(client, made, "approval", **{"roll-birth_date": typed})
    assert refused.status_code == 422
    assert message in refused.text
    other = "This field is required." if typed else "Not a valid date"
    assert other not in refused.text


def test_an_unreadable_birth_date_is_explained_in_spanish(client, made):
    from pbvote.web.i18n import LANGUAGE_COOKIE

    client.set_cookie(LANGUAGE_COOKIE, "es")
    refused = _verify_by_roll(client, made, "approval", **{"roll-birth_date": "1984-13-45"})
    assert refused.status_code == 422
    assert "No es una fecha válida: escríbala como en el ejemplo." in refused.text


def test_ballot_pages_need_verification(client, made):
    for path in ("ballot", "review"):
        response = client.get(f"/cycles/{made.slug}/vote/{path}")
        assert response.status_code == 302 and response.location.endswith("/vote/")


def test_post_without_csrf_token_is_refused(app, client, made):
    _verify_by_roll(client, made, "approval")
    response = client.post(f"/cycles/{made.slug}/vote/ballot", data=BALLOT_FORMS["approval"])
    assert response.status_code == 400
    cast = client.post(f"/cycles/{made.slug}/vote/cast", data={})
    assert cast.status_code == 400
    assert _counts(app) == (0, 0)


def test_tampered_session_ballot_is_refused(app, client, made):
    _verify_by_roll(client, made, "approval")
    _submit_ballot(client, made, BALLOT_FORMS["approval"])
    review = client.get(f"/cycles/{made.slug}/vote/review")
    with client.session_transaction() as session:
        # the session holds a token for choices kept on the server, never the choices
        session["pending"] = ["AP-A", "AP-B", "AP-C", "AP-D"]
    cast = client.post(f"/cycles/{made.slug}/vote/cast",
                       data={"csrf_token": csrf_token(review.text)})
    assert cast.status_code == 302 and cast.headers["Location"].endswith("/vote/ballot")
    assert _counts(app) == (0, 0)


def test_closed_voting_is_refused(app, client):
    with app.app_context(), write_intent():
        closed = make_cycle(slug="closed-cycle", voting="closed")
        db.session.commit()
    assert client.get(f"/cycles/{closed.slug}/vote/").status_code == 403
    response = client.get(f"/cycles/{closed.slug}/vote/approval/verify")
    assert response.status_code == 403
    assert "not open" in response.text


def test_unknown_cycle_and_district_are_404(client, made):
    assert client.get("/cycles/nope").status_code == 404
    assert client.get(f"/cycles/{made.slug}/vote/atlantis/verify").status_code == 404


def test_security_headers_and_no_cache_on_ballot_pages(client, made):
    response = client.get(f"/cycles/{made.slug}/vote/approval/verify")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_failed_voter_checks_are_rate_limited_per_person_and_per_address(engine_name,
                                                                          migrated_urls):
    """Guessing a neighbour's birth date: after the limit, even the right date is refused
    for that name and postcode, while other residents still get through."""
    from pbvote import create_app
    from pbvote.infra.extensions import limiter

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     RATELIMIT_ENABLED=True, VOTER_CHECK_FAILURES_PER_PERSON="3/hour",
                     VOTER_CHECK_FAILURES_PER_ADDRESS="8/hour")
    limiter.reset()
    try:
        with app.app_context(), write_intent():
            made = make_cycle()
            db.session.commit()
        target, other = made.people["approval"], made.people["ranked"]

        def check(client, district, person, birth_date):
            url = f"/cycles/{made.slug}/vote/{district}/verify"
            page = client.get(url).get_data(as_text=True)
            return client.post(url, data={
                "method": "roll", "roll-csrf_token": csrf_token(page),
                "roll-last_name": person.last_name, "roll-birth_date": birth_date.isoformat(),
                "roll-postcode_or_roll": person.postcode}).status_code

        guesses = [check(app.test_client(), "approval", target, dt.date(1970, 1, day))
                   for day in range(1, 5)]
        assert guesses == [403, 403, 403, 429]
        assert check(app.test_client(), "approval", target, target.birth_date) == 429
        # another person from the same address is let through: successes are not counted
        assert check(app.test_client(), "ranked", other, other.birth_date) == 302
        # the address limit counts guesses only, not the two refused as too many: 3 so
        # far, so 5 more for names nobody has tried, then refused
        strangers = [SimpleNamespace(last_name=f"Stranger{n}", postcode=other.postcode)
                     for n in range(6)]
        statuses = [check(app.test_client(), "ranked", stranger, dt.date(1970, 2, 1))
                    for stranger in strangers]
        assert statuses == [403, 403, 403, 403, 403, 429]
    finally:
        limiter.reset()
        with app.app_context():
            from tests.conftest import _empty_all_tables

            _empty_all_tables(db)
            db.engine.dispose()
