"""Staff count, ask to publish and confirm through the pages, with CSRF and fresh login."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import ResultsSnapshot, TallyRun
from pbvote.web.guards import AUTHENTICATED_AT
from tests.conftest import csrf_token
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account, reauthenticate

BASE = "/staff/cycles/test-cycle/results"


def _signed_in(app, role):
    with app.app_context():
        account = make_account(role)
    client = app.test_client()
    login(client, *account[1:])
    client.account = account
    return client


@pytest.fixture
def closed(app):
    with app.app_context(), write_intent():
        cycle_with_ballots("closed")
        db.session.commit()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _post(client, page_path, action_path):
    page = client.get(page_path)
    assert page.status_code == 200, page.status_code
    return client.post(action_path, data={"csrf_token": csrf_token(page.text)})


def test_count_ask_and_confirm_with_two_admins(app, closed):
    staff, admin, admin2 = (_signed_in(app, role) for role in ("staff", "admin", "admin"))
    counted = _post(staff, BASE, f"{BASE}/tally")
    assert counted.status_code == 302
    run_path = counted.headers["Location"]
    run_id = int(re.search(r"/runs/(\d+)$", run_path).group(1))

    private = staff.get(run_path)
    assert private.status_code == 200
    assert "Private: these results are not published" in private.text
    assert "Why was this funded / not funded?" in private.text and "<svg" in private.text
    assert "Ask to publish" not in private.text  # staff cannot ask to publish
    assert staff.post(f"{run_path}/request", data={"csrf_token": csrf_token(private.text)}
                      ).status_code == 403
    assert app.test_client().get("/cycles/test-cycle/results").status_code == 404

    asked = _post(admin, run_path, f"{run_path}/request")
    assert asked.status_code == 302
    own = admin.get(run_path)
    assert "Confirm and publish" not in own.text
    refused = admin.post(f"{run_path}/confirm", data={"csrf_token": csrf_token(own.text)})
    assert refused.status_code == 403 and "second administrator" in refused.text
    assert _count(app, ResultsSnapshot) == 0

    confirmed = _post(admin2, run_path, f"{run_path}/confirm")
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith("/cycles/test-cycle/results")
    assert _count(app, ResultsSnapshot) == 1
    public = app.test_client().get("/cycles/test-cycle/results")
    assert public.status_code == 200 and "(RA-C)" in public.text

    again = _post(admin2, run_path, f"{run_path}/confirm")
    assert again.status_code == 409 and "already published" in again.text
    second = _post(staff, BASE, f"{BASE}/tally")  # counting again stays possible, privately
    assert second.status_code == 302
    assert _count(app, TallyRun) == 2 and _count(app, ResultsSnapshot) == 1
    assert f"Run {run_id}" in staff.get(BASE).text


def test_publishing_needs_a_fresh_login(app, closed):
    staff, admin = _signed_in(app, "staff"), _signed_in(app, "admin")
    run_path = _post(staff, BASE, f"{BASE}/tally").headers["Location"]
    with admin.session_transaction() as session:
        session[AUTHENTICATED_AT] -= 3600
    stale = _post(admin, run_path, f"{run_path}/request")
    assert stale.status_code == 302 and "/staff/reauth" in stale.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(TallyRun.status)) == "draft"
    _, email, password, secret = admin.account
    assert reauthenticate(admin, email, password, secret).status_code == 302
    assert _post(admin, run_path, f"{run_path}/request").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(TallyRun.status)) == "requested"


def test_nothing_is_counted_while_voting_is_open(app):
    with app.app_context(), write_intent():
        cycle_with_ballots("open")
        db.session.commit()
    staff = _signed_in(app, "staff")
    page = staff.get(BASE)
    assert page.status_code == 409 and "Voting is still open" in page.text
    # a staff page with the way on (the cycle's set-up, the dashboard), not a dead end
    assert "The count can run from the moment voting closes" in page.text
    assert 'href="/staff/cycles/' in page.text and 'href="/staff/"' in page.text
    assert "Run the count" not in page.text
    token = csrf_token(staff.get("/staff/reauth").text)
    assert staff.post(f"{BASE}/tally", data={"csrf_token": token}).status_code == 409
    assert _count(app, TallyRun) == 0


def test_auditors_do_not_see_private_counts(app, closed):
    auditor = _signed_in(app, "auditor")
    assert auditor.get(BASE).status_code == 403
