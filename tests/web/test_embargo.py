"""Embargo: while voting is open, no page, document or command of any role shows a count.

Ballots are cast with distinctive per-project point totals: 138 and 137 in the cumulative
district, larger than any ballot count or chain position the pages may show (the board lists
receipts, the audit log numbers its entries). Every GET route in app.url_map is then visited
as every kind of visitor, and no response may contain those totals or a results page's
wording; the results and tally endpoints must refuse.
"""
from __future__ import annotations

import re

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.conftest import csrf_token
from tests.factories import project_code
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account, sign_in_resident
from tests.web.test_access import ROLES, _url, _voter_session


def _cumulative(points: dict[str, int]) -> tuple:
    return tuple(sorted((project_code("cumulative", letter), n) for letter, n in points.items()))


# CU-A 23*6 = 138, CU-B 23*1 + 19*6 = 137, CU-C 19*4 = 76, CU-D 23*3 = 69
# AP-A 31 approvals, AP-B 29, AP-C 4, AP-D 6 (35 ballots: the board may show that number)
EMBARGO_BALLOTS = {
    "cumulative": [_cumulative({"A": 6, "D": 3, "B": 1})] * 23
                  + [_cumulative({"C": 4, "B": 6})] * 19,
    "approval": [(project_code("approval", "A"), project_code("approval", "B"))] * 29
                + [(project_code("approval", "A"), project_code("approval", "D"))] * 2
                + [(project_code("approval", "C"), project_code("approval", "D"))] * 4,
}
SECRET_TOTALS = ("138", "137")
RESULTS_WORDING = ("Why was this funded", "Funded projects, in the order", "Turnout by district",
                   "\"scores\"", "\"outcome\"", "\"selected\"")
#: endpoints that show or compute counts: they must refuse while voting is open
COUNTING_ENDPOINTS = {"results.page", "results.document", "api.results", "board.bundle",
                      "staff_results.overview", "staff_results.run", "audit.trace"}
#: the status a refusal may have: 302 to sign-in, 403 no access, 404 nothing published,
#: 405 POST-only, 409 the embargo itself
REFUSALS = {302, 403, 404, 405, 409}


@pytest.fixture
def open_cycle_with_ballots(app):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("open", ballots=EMBARGO_BALLOTS)
        db.session.commit()
    return made


def _client_for(app, role, made):
    with app.app_context():
        account = make_account(role) if role not in ("anonymous", "voter") else None
    client = app.test_client()
    if role == "voter":
        _voter_session(client, made)
    elif role == "resident":
        sign_in_resident(client, account[0])
    elif account is not None:
        login(client, account[1], account[2], account[3])
    return client


def _leaks(body: str) -> list[str]:
    found = [total for total in SECRET_TOTALS
             if re.search(rf"(?<![\w.:/#-]){total}(?![\w.:/%-])", body)]
    return found + [words for words in RESULTS_WORDING if words in body]


@pytest.mark.parametrize("role", ROLES)
def test_no_count_is_visible_anywhere_while_voting_is_open(app, open_cycle_with_ballots, role):
    client = _client_for(app, role, open_cycle_with_ballots)
    problems = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = _url(app, rule)
        response = client.get(url)
        body = response.get_data(as_text=True) if response.mimetype.startswith(
            ("text/", "application/json")) else ""
        leaks = _leaks(body)
        if leaks:
            problems.append(f"{rule.endpoint} {url} ({response.status_code}) shows {leaks}")
        if rule.endpoint in COUNTING_ENDPOINTS and response.status_code not in REFUSALS:
            problems.append(f"{rule.endpoint} {url} answered {response.status_code}")
    assert not problems, f"as {role}:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_cannot_run_the_count_while_voting_is_open(app, open_cycle_with_ballots, role):
    client = _client_for(app, role, open_cycle_with_ballots)
    token = csrf_token(client.get("/staff/reauth").text)
    response = client.post("/staff/cycles/test-cycle/results/tally", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Voting is still open" in response.text
    assert not _leaks(response.text)


def test_the_secret_totals_are_real(app, open_cycle_with_ballots):
    """Guard against a vacuous test: the seeded ballots do give the totals looked for."""
    from pbvote.models import Cycle
    from pbvote.services.tally import district_election

    with app.app_context():
        cycle = db.session.get(Cycle, open_cycle_with_ballots.cycle_id)
        cumulative = district_election(cycle.district_by_slug("cumulative")).profile.scores()
        approval = district_election(cycle.district_by_slug("approval")).profile.scores()
    assert cumulative == {"CU-A": 138, "CU-B": 137, "CU-C": 76, "CU-D": 69}
    assert approval == {"AP-A": 31, "AP-B": 29, "AP-C": 4, "AP-D": 6}
