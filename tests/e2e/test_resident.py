"""Journey 1: a resident signs in by email code, sends an idea with a photo, votes a knapsack
ballot (watching the budget meter) and a ranked ballot, keeps the receipts, finds one on the
bulletin board and, after publication, reads the results and why a project was funded."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import publication, setup
from tests.proposal_helpers import code_from_outbox, make_intake_cycle, png_bytes
from tests.staff_helpers import make_account

RECEIPT = re.compile(r"^\w{5}-\w{5}$")


def _open_voting_now(app, cycle_id: int) -> None:
    """Intake is over and voting has started (the phases move, as time would move them)."""
    now = utcnow()
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, cycle_id)
        intake = cycle.phase_window("intake")
        intake.starts_at, intake.ends_at = now - dt.timedelta(days=3), now - dt.timedelta(days=2)
        voting = cycle.phase_window("voting")
        voting.starts_at, voting.ends_at = now - dt.timedelta(hours=1), now + dt.timedelta(days=1)
        setup.store_manifest(cycle)  # staff scheduled voting; only a scheduled cycle opens
        db.session.commit()


def _close_and_publish(app, cycle_id: int) -> None:
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            cycle = db.session.get(Cycle, cycle_id)
            cycle.phase_window("voting").ends_at = utcnow() - dt.timedelta(minutes=1)
            db.session.flush()
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            db.session.commit()


def test_resident_journey(app, people, live_server):
    with app.app_context():
        cycle_id = make_intake_cycle()
        slug = db.session.get(Cycle, cycle_id).slug
    codes = _issued_codes(app, cycle_id)
    resident = people()
    page = resident.page
    email = "resident.e2e@example.org"

    # Sign in by email code.
    page.goto("/sign-in")
    resident.check("sign-in", screenshots=True)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_label("Code", exact=True)).to_be_visible()
    resident.axe("sign-in code")
    page.get_by_label("Code", exact=True).fill(code_from_outbox(app, email))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    resident.axe("my ideas")

    # Send an idea with a photo; first with nothing filled in: the error summary takes the
    # focus and each error leads to its field, which names the error it carries.
    page.goto(f"/cycles/{slug}/ideas/new")
    resident.check("idea form", screenshots=True)
    page.get_by_role("button", name="Send idea").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link").all()
    assert len(links) >= 3, summary.inner_text()
    for link in links:
        field = page.locator(link.get_attribute("href"))
        assert field.get_attribute("aria-invalid") == "true"
        described_by = (field.get_attribute("aria-describedby") or "").split()
        assert any(page.locator(f"#{i}.error-message").count() == 1 for i in described_by)
    links[0].click()
    expect(page.locator(links[0].get_attribute("href"))).to_be_focused()
    resident.check("idea form with errors", screenshots=True)
    page.get_by_label("Title").fill("Brighter crossing on Mill Road")
    page.get_by_label("Description").fill("Add lights and a raised table at the school crossing.")
    page.get_by_label("Category").select_option(index=1)
    page.get_by_label("District").select_option(label="Knapsack")
    page.get_by_label("Where").fill("Mill Road by the primary school")
    page.get_by_label("Photo (optional)").set_input_files(
        files=[{"name": "crossing.png", "mimeType": "image/png", "buffer": png_bytes((64, 48))}])
    page.get_by_role("button", name="Send idea").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Brighter crossing on Mill Road")
    expect(page.locator("img[src*='/photo']")).to_have_count(1)
    resident.check("idea sent", screenshots=True)

    _open_voting_now(app, cycle_id)

    # A wrong access code is refused with a clear message, then the right one is accepted.
    receipts = []
    page.goto(f"/cycles/{slug}/vote/")
    resident.axe("vote start")
    page.get_by_role("link", name="I live in Knapsack").click()
    resident.axe("verify")
    page.get_by_label("Access code").fill("WRONG-CODE-1")
    page.get_by_role("button", name="Use my code").click()
    expect(page.locator("#error-summary")).to_be_focused()
    resident.axe("verify with a wrong code")

    # Knapsack ballot: the budget meter follows every choice and speaks politely.
    _verify(resident, slug, "Knapsack", codes["knapsack"][0])
    meter = page.locator("#budget-meter")
    assert meter.get_attribute("aria-live") == "polite"
    resident.check("knapsack ballot", screenshots=True)
    page.get_by_label(re.compile("Project A")).check()  # 60 of 100
    expect(meter).to_contain_text("60")
    page.get_by_label(re.compile("Project B")).check()  # 100 of 100
    expect(meter).to_contain_text("100")
    page.get_by_label(re.compile("Project C")).check()  # 130: over, said in words
    over_text = meter.inner_text()
    assert re.search(r"over|exceed|too", over_text, re.I), over_text
    resident.axe("knapsack ballot over budget")
    page.get_by_label(re.compile("Project C")).uncheck()
    page.get_by_role("button", name="Review my ballot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    resident.check("knapsack review", screenshots=True)
    page.get_by_role("button", name="Cast my ballot").click()
    receipts.append(page.locator(".receipt-code").inner_text().strip())
    assert RECEIPT.match(receipts[-1]), receipts
    resident.check("receipt", screenshots=True)

    # Ranked ballot.
    _verify(resident, slug, "Ranked", codes["ranked"][0])
    resident.check("ranked ballot", screenshots=True)
    page.get_by_label(re.compile("Project D")).select_option(label="Choice 1")
    page.get_by_label(re.compile("Project B")).select_option(label="Choice 2")
    page.get_by_role("button", name="Review my ballot").click()
    rows = page.locator("table.review tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Project D")
    page.get_by_role("button", name="Cast my ballot").click()
    receipts.append(page.locator(".receipt-code").inner_text().strip())

    # Find the receipt on the bulletin board.
    page.get_by_role("link", name="Check the bulletin board for your code").click()
    page.get_by_label("Is my ballot on the board?").fill(receipts[0].lower().replace("-", ""))
    page.get_by_role("button", name="Check my receipt").click()
    expect(page.get_by_role("status")).to_contain_text(f"receipt {receipts[0]} is on the board")
    resident.check("board check", screenshots=True)
    page.goto(f"/cycles/{slug}/board")
    resident.check("board", screenshots=True)
    response = page.goto(f"/cycles/{slug}/no-such-page")
    assert response.status == 404
    resident.axe("page not found")
    page.goto(f"/cycles/{slug}/board/districts/ranked")
    expect(page.get_by_text(receipts[1])).to_have_count(1)
    resident.check("board district", screenshots=True)

    # After publication: results and why each project was (not) funded.
    _close_and_publish(app, cycle_id)
    page.goto(f"/cycles/{slug}/results")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    why = page.locator("details.why").first
    expect(why).to_be_visible()
    why.locator("summary").click()
    expect(why.locator("p").first).to_be_visible()
    resident.check("results", screenshots=True)


def _issued_codes(app, cycle_id: int) -> dict[str, list[str]]:
    """Fresh access codes for the knapsack and ranked districts (make_cycle keeps its own
    codes in memory only)."""
    from pbvote.services.roll import issue_access_codes

    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, cycle_id)
        issued = {kind: issue_access_codes(cycle, cycle.district_by_slug(kind), 1)
                  for kind in ("knapsack", "ranked")}
        db.session.commit()
    return issued


def _verify(resident, slug: str, district: str, code: str) -> None:
    page = resident.page
    page.goto(f"/cycles/{slug}/vote/")
    page.get_by_role("link", name=f"I live in {district}").click()
    page.get_by_label("Access code").fill(code)
    page.get_by_role("button", name="Use my code").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your ballot")
