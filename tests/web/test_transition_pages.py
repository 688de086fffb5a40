"""The cycle's steps on the web: readiness on the overview with links that fix each blocker,
refusals as 409/422 with the reason on the page and nothing written, scheduling and
extending voting, notes on reconciliation differences, and public pages that always tell
the truth after publication (issue 15, defects 2, 3, 6, 7 and 8)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Account, Cycle, District, LogEntry, RollEntry
from pbvote.services import publication
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.results_helpers import cycle_with_ballots
from tests.security.helpers import changed_tables, fingerprint
from tests.staff_helpers import login, make_account

BASE = "/staff/cycles"


def _signed_in(app, role):
    with app.app_context():
        account = make_account(role)
    client = app.test_client()
    login(client, *account[1:])
    return client


@pytest.fixture
def staff(app):
    return _signed_in(app, "staff")


@pytest.fixture
def admin(app):
    return _signed_in(app, "admin")


def _post(client, path, data, page=None):
    page = page or client.get(f"{BASE}/test-cycle/")
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data})


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_blockers_are_listed_with_links_and_a_refused_opening_writes_nothing(app, staff):
    with app.app_context(), write_intent():
        made = make_cycle(voting="not_yet")
        db.session.execute(District.__table__.update().where(District.slug == "approval")
                           .values(budget=50))  # below project AP-A's cost (defect 2)
        ranked = db.session.scalar(select(District.id).where(District.slug == "ranked"))
        db.session.execute(AccessCode.__table__.delete().where(AccessCode.district_id == ranked))
        db.session.execute(RollEntry.__table__.delete().where(RollEntry.district_id == ranked))
        db.session.commit()  # ranked: nobody could vote (defect 3)
    page = staff.get(f"{BASE}/{made.slug}/")
    assert page.status_code == 200
    html = page.text
    assert f'href="/staff/cycles/{made.slug}/districts/approval"' in html
    assert "Approval: project AP-A costs more than the district&#39;s budget" in html
    assert "Ranked: nobody could vote" in html
    assert f'href="/staff/cycles/{made.slug}/roll"' in html
    before = fingerprint(app)
    for action in ("open", "schedule"):
        response = _post(staff, f"{BASE}/{made.slug}/voting/{action}", {"confirm": "y"}, page)
        assert response.status_code == 422
        assert "Ranked: nobody could vote" in response.text
    assert not changed_tables(before, fingerprint(app))


def test_schedule_then_the_overview_says_when_it_opens_and_manifest_is_public(app, staff,
                                                                              client):
    with app.app_context(), write_intent():
        made = make_cycle(voting="not_yet")
        db.session.commit()
    assert client.get(f"/cycles/{made.slug}/manifest.json").status_code == 404
    response = _post(staff, f"{BASE}/{made.slug}/voting/schedule", {"confirm": "y"})
    assert response.status_code == 302
    overview = staff.get(f"{BASE}/{made.slug}/").text
    assert "Voting is scheduled: it opens by itself at" in overview
    assert client.get(f"/cycles/{made.slug}/manifest.json").status_code == 200
    again = _post(staff, f"{BASE}/{made.slug}/voting/schedule", {"confirm": "y"})
    assert again.status_code == 409 and "already scheduled or open" in again.text


def test_an_admin_extends_voting_and_the_public_page_says_so(app, admin, staff, client):
    with app.app_context(), write_intent():
        made = make_cycle(voting="open")
        db.session.commit()
        end = db.session.get(Cycle, made.cycle_id).phase_window("voting").ends_at
    assert "Extend voting" not in staff.get(f"{BASE}/{made.slug}/").text  # admins only
    page = admin.get(f"{BASE}/{made.slug}/")
    assert "Extend voting" in page.text
    earlier = (end - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    refused = _post(admin, f"{BASE}/{made.slug}/voting/extend",
                    {"ends_at": earlier, "reason": "storm", "confirm": "y"}, page)
    assert refused.status_code == 422
    assert "never shortened" in refused.text
    later = (end + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert _post(admin, f"{BASE}/{made.slug}/voting/extend",
                 {"ends_at": later, "reason": "A storm closed the library.", "confirm": "y"},
                 page).status_code == 302
    public = _text(client.get(f"/cycles/{made.slug}").text)
    assert "Voting was extended" in public and "A storm closed the library." in public


def test_after_publication_every_public_page_says_so_and_links_the_results(app, client):
    with app.app_context():
        staff_id, admin_id, admin2_id = (make_account(r)[0] for r in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            start = cycle.phase_window("voting").ends_at + dt.timedelta(days=30)
            cycle.phases.append(type(cycle.phases[0])(kind="published", starts_at=start,
                                                      ends_at=start + dt.timedelta(days=9)))
            db.session.commit()
        closed_vote = client.get(f"/cycles/{made.slug}/vote/")
        assert closed_vote.status_code == 403
        assert "The votes are being counted" in closed_vote.text
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff_id))
            publication.request_publication(cycle, run, db.session.get(Account, admin_id))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2_id))
            db.session.commit()
    results = f'href="/cycles/{made.slug}/results"'
    page = client.get(f"/cycles/{made.slug}").text
    text = _text(page)
    assert "Between phases" not in text
    assert "Current phase: Results published" in text
    assert "The results are published." in text and results in page
    timeline = text[text.index("Timeline"):text.index("Times are shown")]
    published = timeline[timeline.index("Results published"):]
    assert "since" in published and "–" not in published  # no end date
    home = client.get("/").text
    assert "Results published" in _text(home) and results in home
    vote = client.get(f"/cycles/{made.slug}/vote/")
    assert vote.status_code == 403 and results in vote.text


def test_a_reconciliation_note_is_logged_and_unblocks_the_count(app, staff):
    from pbvote.services import in_person, setup, transitions
    from pbvote.services.in_person import reading

    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        with write_intent():
            made = make_cycle()
            cycle = db.session.get(Cycle, made.cycle_id)
            approval = cycle.district_by_slug("approval")
            batch = in_person.print_serials(cycle, "approval", "Library", 1,
                                            db.session.get(Account, first))
            [serial] = [r.serial for r in in_person.batch_serials(cycle, batch)]
            setup.close_voting(cycle, "staff")
            for who in (first, second):
                in_person.enter_paper_ballot(cycle, serial, reading(approval, "valid", ("AP-A",)),
                                             db.session.get(Account, who))
            db.session.commit()
    page = staff.get(f"{BASE}/{made.slug}/")
    assert f'href="/staff/cycles/{made.slug}/reconciliation"' in page.text
    notes = staff.get(f"{BASE}/{made.slug}/reconciliation")
    assert "1 paper ballots returned but only 0 handed out" in notes.text
    empty = staff.post(f"{BASE}/{made.slug}/reconciliation", data={
        "csrf_token": csrf_token(notes.text), "site": "Library", "district": "approval",
        "note": ""})
    assert empty.status_code == 422
    saved = staff.post(f"{BASE}/{made.slug}/reconciliation", data={
        "csrf_token": csrf_token(notes.text), "site": "Library", "district": "approval",
        "note": "A test sheet was entered."})
    assert saved.status_code == 302
    with app.app_context():
        cycle = db.session.get(Cycle, made.cycle_id)
        assert transitions.readiness_of(cycle, "count").ready
        entry = db.session.scalar(select(LogEntry.entry_json).where(
            LogEntry.kind == "reconciliation.explained"))
        assert "A test sheet was entered." in entry


def test_a_refused_count_says_why_on_the_page_with_links_and_counts_nothing(app, staff):
    from pbvote.models import TallyRun
    from pbvote.services import in_person, setup
    from pbvote.services.in_person import reading

    with app.app_context():
        first = make_account("staff")[0]
        with write_intent():
            made = make_cycle()
            cycle = db.session.get(Cycle, made.cycle_id)
            batch = in_person.print_serials(cycle, "approval", "Library", 1,
                                            db.session.get(Account, first))
            [serial] = [r.serial for r in in_person.batch_serials(cycle, batch)]
            setup.close_voting(cycle, "staff")
            in_person.enter_paper_ballot(cycle, serial, reading(
                cycle.district_by_slug("approval"), "valid", ("AP-A",)),
                db.session.get(Account, first))
            db.session.commit()
    page = staff.get(f"/staff/cycles/{made.slug}/results")
    assert "wait for the second entry" in page.text
    before = fingerprint(app)
    refused = staff.post(f"/staff/cycles/{made.slug}/results/tally",
                         data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 409
    assert "Run the count is not possible yet" in refused.text
    assert f'href="/staff/cycles/{made.slug}/paper/enter"' in refused.text
    assert not changed_tables(before, fingerprint(app))
    with app.app_context():
        assert db.session.scalar(select(TallyRun.id)) is None


def test_the_verdict_shows_before_asking_and_a_failing_count_cannot_be_put_forward(app, admin):
    """Issue 15: the overview shows the verifier's verdict on the count's bundle before anyone
    asks to publish; a failing count's button is disabled with the reason, and a forced POST
    is refused with nothing written."""
    from pbvote.models import TallyRun
    from pbvote.services import in_person, setup, transitions
    from pbvote.services.in_person import reading

    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        with write_intent():
            made = make_cycle()
            cycle = db.session.get(Cycle, made.cycle_id)
            approval = cycle.district_by_slug("approval")
            batch = in_person.print_serials(cycle, "approval", "Library", 1,
                                            db.session.get(Account, first))
            [serial] = [r.serial for r in in_person.batch_serials(cycle, batch)]
            setup.close_voting(cycle, "staff")
            for who in (first, second):  # a paper ballot nobody was checked in for
                in_person.enter_paper_ballot(cycle, serial, reading(approval, "valid", ("AP-A",)),
                                             db.session.get(Account, who))
            transitions.explain_imbalance(cycle, "Library", "approval", "A test sheet.", "staff")
            run = publication.run_tally(cycle, db.session.get(Account, first))
            run_id = run.id
            db.session.commit()
    overview = _text(admin.get(f"{BASE}/{made.slug}/").text)
    assert f"Count {run_id}, checked by the standalone verifier" in overview
    assert "verifier: failed at counts:" in overview
    assert f"When count {run_id} was made, the bundle it would publish failed" in overview
    listing = _text(admin.get(f"{BASE}/{made.slug}/results").text)
    assert "verifier: failed at counts:" in listing
    page = admin.get(f"{BASE}/{made.slug}/results/runs/{run_id}")
    assert re.search(r'<button type="button"[^>]*disabled[^>]*>\s*Ask to publish', page.text)
    assert "This count cannot be published" in page.text
    assert f"/results/runs/{run_id}/request" not in page.text
    before = fingerprint(app)
    forced = admin.post(f"{BASE}/{made.slug}/results/runs/{run_id}/request",
                        data={"csrf_token": csrf_token(page.text)})
    assert forced.status_code == 409
    assert "counts:" in _text(forced.text)
    assert not changed_tables(before, fingerprint(app))
    with app.app_context():
        assert db.session.get(TallyRun, run_id).status == "draft"


def test_a_count_that_verifies_shows_a_pass_and_an_enabled_button(app, admin):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("closed")
        run = publication.run_tally(db.session.get(Cycle, made.cycle_id),
                                    db.session.get(Account, make_account("staff")[0]))
        run_id = run.id
        db.session.commit()
    assert "verifier: passed" in _text(admin.get(f"{BASE}/{made.slug}/").text)
    page = admin.get(f"{BASE}/{made.slug}/results/runs/{run_id}")
    assert "verifier: passed" in _text(page.text)
    assert f'action="/staff/cycles/{made.slug}/results/runs/{run_id}/request"' in page.text
