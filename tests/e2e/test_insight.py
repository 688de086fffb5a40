"""The turnout dashboard (staff, live) and its public, suppressed twin, and the results page
with its explanations: axe in every language at 1280 and 375 px, nothing scrolls sideways."""
from __future__ import annotations

from playwright.sync_api import expect

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import publication
from tests.e2e.test_staff_and_auditor import sign_in_staff
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


def test_turnout_dashboard_and_explained_results(app, people):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("closed")
            db.session.commit()
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            db.session.commit()
    clerk = sign_in_staff(app, people, "staff")
    page = clerk.page
    page.goto(f"/staff/cycles/{made.slug}/turnout/")
    expect(page.get_by_role("heading", name="Turnout by age band")).to_be_visible()
    clerk.check("staff turnout dashboard", screenshots=True)

    resident = people()
    page = resident.page
    page.goto(f"/cycles/{made.slug}/turnout")
    expect(page.get_by_text("Every figure of fewer than 10 people is hidden")).to_be_visible()
    resident.check("public turnout", screenshots=True)
    page.goto(f"/cycles/{made.slug}/results")
    page.get_by_text("Who got what").first.scroll_into_view_if_needed()
    for details in page.locator("details.why").all():
        details.locator("summary").click()
    expect(page.get_by_text("The last money it needed went to Project B").first).to_be_visible()
    resident.check("results with explanations", screenshots=True)
