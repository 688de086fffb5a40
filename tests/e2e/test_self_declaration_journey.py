"""Journey: a resident on no roll finds "Not on the roll?", declares with a mistake first
(the error summary leads to the field), reads the code in the outbox, confirms and votes;
every page is scanned by axe in en/es/zh at 1280 and 375 px."""
from __future__ import annotations

from playwright.sync_api import expect

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from tests.factories import make_cycle
from tests.proposal_helpers import code_from_outbox


def test_a_resident_on_no_roll_declares_and_votes(app, people, live_server):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.get(Cycle, made.cycle_id).online_self_declaration = True
        db.session.commit()
    resident = people()
    page = resident.page
    page.goto(f"/cycles/{made.slug}/vote/")
    page.get_by_role("link", name="Not on the roll? Declare where you live and vote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Not on the roll? Declare where you live")
    resident.check("self-declaration", screenshots=True)

    page.get_by_label("The district you live in").select_option("approval")
    page.get_by_label("Given names").fill("Ana María")
    page.get_by_label("Last name").fill("Núñez")
    page.get_by_label("Street address").fill("12 Calle Mayor")
    page.get_by_label("Postcode").fill("10001")
    page.get_by_label("Date of birth").fill("1990-05-04")
    page.get_by_label("Email address or phone number").fill("not a contact")
    page.get_by_role("button", name="Send me a code").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#contact")).to_have_attribute("aria-invalid", "true")
    resident.axe("self-declaration refused")  # a 422 stores nothing: sent again per language

    page.get_by_label("Email address or phone number").fill("ana@example.org")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_label("Code", exact=True)).to_be_visible()
    resident.check("self-declaration code")
    page.get_by_label("Code", exact=True).fill(code_from_outbox(app, "ana@example.org"))
    page.get_by_role("button", name="Confirm and go to the ballot").click()
    page.get_by_label("Project A").check()
    page.get_by_role("button", name="Review my ballot").click()
    page.get_by_role("button", name="Cast my ballot").click()
    expect(page.get_by_text("receipt", exact=False).first).to_be_visible()
