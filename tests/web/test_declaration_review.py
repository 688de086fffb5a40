"""Staff review of online self-declarations: counts per district and status, no name or
ballot on the page, rejecting before use (the resident is shown the reason), refusing once
it voted, auditors reading only, and every action in the cycle's chain."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Ballot, Cycle, LogEntry, SelfDeclaration
from pbvote.services import log
from tests.conftest import csrf_token
from tests.staff_helpers import login, make_account
from tests.web.test_self_declaration import (
    PERSON,
    _confirm,
    _declare,
    _latest_code,
    _vote,
)
from tests.web.test_self_declaration import made as made  # noqa: F401 - the fixture

OTHER = {**PERSON, "given_names": "Luis", "contact": "luis@example.org"}


def _staff_client(app, role="staff"):
    with app.app_context():
        _id, email, password, secret = make_account(role)
    client = app.test_client()
    login(client, email, password, secret)
    return client


def _page(client, made, query=""):
    return client.get(f"/staff/cycles/{made.slug}/declarations{query}")


def _declaration_ids(app) -> list[int]:
    """The declarations' ids, in the order they were made."""
    with app.app_context():
        return list(db.session.scalars(select(SelfDeclaration.id).order_by(SelfDeclaration.id)))


def _chain(app, made) -> list[dict]:
    with app.app_context():
        cycle = db.session.get(Cycle, made.cycle_id)
        assert log.verify_stored_chain(cycle.chain_id).ok
        return [json.loads(text) for text in db.session.scalars(
            select(LogEntry.entry_json).where(LogEntry.chain_id == cycle.chain_id,
                                              LogEntry.kind.like("self_declaration.%"))
            .order_by(LogEntry.position))]


def _reject(client, made, declaration_id, reason, query=""):
    page = _page(client, made, query)
    return client.post(f"/staff/cycles/{made.slug}/declarations/{declaration_id}/reject{query}",
                       data={"csrf_token": csrf_token(page.text), "reason": reason})


def test_staff_see_counts_and_rows_without_names_or_ballots(app, made):
    voter = app.test_client()
    _declare(voter, made)
    _confirm(voter, made, _latest_code(app))
    assert _vote(voter, made).status_code == 302
    _declare(app.test_client(), made, **OTHER)  # a code sent, not confirmed
    staff = _staff_client(app)
    page = _page(staff, made)
    assert page.status_code == 200
    text = page.text
    for private in ("Núñez", "Ana", "Luis", "Calle Mayor", "example.org", "10001"):
        assert private not in text
    with app.app_context():
        ballot = db.session.scalars(select(Ballot)).one()
        assert ballot.id not in text and ballot.receipt not in text
    assert "Used to vote: its ballot cannot be removed." in text
    first, second = _declaration_ids(app)
    assert f'id="declaration-{first}"' in text and f'id="declaration-{second}"' in text
    # both at one home address: the page says so for each
    assert text.count("<strong>2 declarations</strong>") == 2
    pending = _page(staff, made, "?status=pending&district=approval")
    assert f'id="declaration-{second}"' in pending.text
    assert f'id="declaration-{first}"' not in pending.text
    assert "1 declaration matches." in pending.text


def test_a_rejected_declaration_cannot_be_confirmed_and_shows_the_reason(app, made):
    resident = app.test_client()
    _declare(resident, made)
    code = _latest_code(app)
    staff = _staff_client(app)
    (declaration_id,) = _declaration_ids(app)
    assert _reject(staff, made, declaration_id, "").status_code == 422
    control = _reject(staff, made, declaration_id, "Flat\u202e 4")
    assert control.status_code == 422 and 'aria-invalid="true"' in control.text
    assert _chain(app, made) == []  # nothing rejected, nothing logged
    rejected = _reject(staff, made, declaration_id, "Five declarations at one flat",
                       "?status=pending")
    assert rejected.status_code == 303 and rejected.location.endswith("?status=pending")
    assert "Five declarations at one flat" in _page(staff, made, "?status=rejected").text
    refused = _confirm(resident, made, code)
    assert refused.status_code == 403
    assert "Five declarations at one flat" in refused.text
    again = _declare(resident, made)
    assert again.status_code == 403 and "Five declarations at one flat" in again.text
    assert _reject(staff, made, declaration_id, "twice").status_code == 409
    [entry] = _chain(app, made)
    assert entry["kind"] == "self_declaration.rejected"
    assert entry["data"]["reason"] == "Five declarations at one flat"
    assert entry["data"]["declaration"] == declaration_id
    page = _page(staff, made)
    undone = staff.post(f"/staff/cycles/{made.slug}/declarations/{declaration_id}/reinstate",
                        data={"csrf_token": csrf_token(page.text)})
    assert undone.status_code == 303
    assert [e["kind"] for e in _chain(app, made)] == ["self_declaration.rejected",
                                                      "self_declaration.reinstated"]
    assert _declare(resident, made).status_code == 302  # may declare again for a new code


def test_a_confirmed_voter_rejected_before_casting_cannot_cast(app, made):
    resident = app.test_client()
    _declare(resident, made)
    _confirm(resident, made, _latest_code(app))
    (declaration_id,) = _declaration_ids(app)
    staff = _staff_client(app)
    assert _reject(staff, made, declaration_id, "Address does not exist").status_code == 303
    page = resident.get(f"/cycles/{made.slug}/vote/ballot")
    submitted = resident.post(f"/cycles/{made.slug}/vote/ballot",
                              data={"csrf_token": csrf_token(page.text), "project": ["AP-A"]})
    assert submitted.status_code == 302
    review = resident.get(f"/cycles/{made.slug}/vote/review")
    cast = resident.post(f"/cycles/{made.slug}/vote/cast",
                         data={"csrf_token": csrf_token(review.text)})
    assert cast.status_code == 403 and "Address does not exist" in cast.text


def test_a_declaration_that_voted_cannot_be_rejected(app, made):
    resident = app.test_client()
    _declare(resident, made)
    _confirm(resident, made, _latest_code(app))
    _vote(resident, made)
    (declaration_id,) = _declaration_ids(app)
    staff = _staff_client(app)
    refused = _reject(staff, made, declaration_id, "Too late")
    assert refused.status_code == 409
    assert "ballot cannot be removed" in refused.text
    assert _chain(app, made) == []


def test_auditors_read_but_cannot_reject(app, made):
    _declare(app.test_client(), made)
    (declaration_id,) = _declaration_ids(app)
    auditor = _staff_client(app, "auditor")
    page = _page(auditor, made)
    assert page.status_code == 200 and "Read only" in page.text
    assert f"/declarations/{declaration_id}/reject" not in page.text
    assert _reject(auditor, made, declaration_id, "No").status_code == 403
    assert _chain(app, made) == []


@pytest.mark.parametrize("language, words", [("es", "Declaraciones en línea"),
                                             ("zh_Hans", "在线声明")])
def test_the_review_page_speaks_the_staff_language(app, made, language, words):
    from pbvote.web.i18n import LANGUAGE_COOKIE

    staff = _staff_client(app)
    staff.set_cookie(LANGUAGE_COOKIE, language)
    page = _page(staff, made)
    assert page.status_code == 200 and words in page.text
