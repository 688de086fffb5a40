"""Issue #17: a browser visits the kiosk (language switcher, a receipt the voter closes, axe),
and the results page at phone width (readable charts, a jump to each district)."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, RollEntry
from pbvote.services import in_person
from tests.e2e.test_staff_and_auditor import sign_in_staff
from tests.factories import make_cycle
from tests.web.test_results_page import published  # noqa: F401 (a fixture)


def _kiosk_pass(app, made, site: str) -> None:
    """The desk checks the approval district's resident in and hands out a kiosk pass."""
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        district = cycle.district_by_slug("approval")
        entry_id = db.session.scalar(select(RollEntry.id).where(
            RollEntry.district_id == district.id).order_by(RollEntry.id))
        clerk = db.session.scalar(select(Account).where(Account.role == "staff"))
        in_person.check_in(cycle, entry_id, site=site, id_checked=True, handout="kiosk",
                           actor=clerk)
        db.session.commit()


def test_a_voter_uses_the_kiosk_in_spanish_and_closes_the_receipt(app, people):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=2)
        db.session.commit()
    staff = sign_in_staff(app, people, "staff")
    page = staff.page
    page.goto("/kiosk/")
    page.locator("#cycle").select_option(made.slug)
    page.locator("#site").fill("Library")
    page.locator("#pin").fill("2468")
    page.locator("#pin_again").fill("2468")
    page.get_by_role("button", name="Start kiosk mode").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    _kiosk_pass(app, made, "Library")
    page.reload()
    staff.check("kiosk start screen")
    page.locator("details.kiosk-staff summary").click()
    page.locator("#pin").fill("2468")
    page.get_by_role("button", name="Unlock for the next voter").click()
    # the voter reads the ballot in Spanish: the switcher stays inside the kiosk
    page.get_by_role("link", name="Español").click()
    expect(page).to_have_url(re.compile(r"/kiosk/ballot$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("input[name=project]").first.check()
    page.locator("form.kiosk-ballot button[type=submit], form button.button-primary").first.click()
    page.locator("form[action$='/kiosk/cast'] button").click()
    receipt = page.locator(".receipt-code")
    expect(receipt).to_have_text(re.compile(r"\w{5}-\w{5}"))
    code = receipt.inner_text()
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    page.wait_for_timeout(1500)
    page.reload()  # nothing took it away: the voter decides when they are done
    expect(page.locator(".receipt-code")).to_have_text(code)
    page.locator("form[action$='/kiosk/done'] button").click()
    expect(page).to_have_url(re.compile(r"/kiosk/ready$"))
    assert code not in page.content()


def test_results_on_a_phone_have_readable_charts_and_a_jump_to_each_district(
        people, published):  # noqa: F811
    session = people()
    page = session.page
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/cycles/{published['slug']}/results")
    sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart')]
        .filter(svg => svg.getBoundingClientRect().width > 0)
        .map(svg => Math.min(...[...svg.querySelectorAll('text')]
            .map(t => t.getBoundingClientRect().height)))""")
    assert sizes and min(sizes) >= 12, sizes  # the wide chart, shrunk, drew them at about 7
    links = page.locator("nav.district-jump a")
    first = links.first
    target = first.get_attribute("href")
    first.click()
    expect(page.locator(target)).to_be_in_viewport()
    page.set_viewport_size({"width": 1280, "height": 900})
    session.check("results with a district jump")


def test_the_staff_accounts_page_does_not_scroll_sideways_on_a_phone_in_spanish(app, people):
    from tests.e2e.conftest import WIDER_THAN_THE_SCREEN

    admin = sign_in_staff(app, people, "admin")
    with app.app_context():
        from tests.staff_helpers import make_account

        for role in ("staff", "auditor", "staff"):
            make_account(role)
    page = admin.page
    page.goto("/language?lang=es&next=/admin/accounts")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.set_viewport_size({"width": 375, "height": 800})
    wide = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert wide == [], "; ".join(wide)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_project_how_it_works_and_statement_pages_pass_axe_with_and_without_javascript(
        app, people):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=1)
        db.session.commit()
    for options in ({}, {"java_script_enabled": False}):
        session = people(**options)
        page = session.page
        page.goto(f"/cycles/{made.slug}")
        page.get_by_role("link", name="Project A").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Project A")
        session.check("project page", screenshots=not options)
        page.goto(f"/cycles/{made.slug}")
        page.get_by_role("link", name="How the count works").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("How the count works")
        session.check("how the count works", screenshots=not options)
        for name in ("Accessibility statement", "Privacy notice", "Contact"):
            page.get_by_role("contentinfo").get_by_role("link", name=name).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(name)
            session.check(name)


def test_a_resident_discusses_an_idea_in_the_demo_by_keyboard_and_reports_a_comment(
        app, people, runner):
    assert runner.invoke(args=["demo", "--voters", "6"]).exit_code == 0
    session = people()
    page = session.page
    page.goto("/cycles/safer-streets-2028/ideas")
    page.get_by_role("link", name=re.compile("Walking bus")).click()
    expect(page.locator("#support-progress")).to_have_attribute("max", "5")
    session.check("idea with discussion", screenshots=True)
    # sign in by email code from the development outbox
    page.get_by_role("link", name="Sign in with your email to comment").click()
    page.locator("input[name=email]").fill("walker@example.org")
    page.locator("input[name=email]").press("Enter")
    outbox = session.context.new_page()
    outbox.goto("/dev/outbox")
    code = re.search(r"\b(\d{6})\b", outbox.content().split("walker@example.org", 1)[1])[1]
    outbox.close()
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    page.goto("/cycles/safer-streets-2028/ideas")
    page.get_by_role("link", name=re.compile("Walking bus")).click()
    page.locator("#comment-body").fill("I can help on Mondays.")
    page.locator("#comment-body").press("Tab")
    page.keyboard.press("Enter")  # the "Post the comment" button, by keyboard
    expect(page.get_by_text("Your comment is posted.")).to_be_visible()
    expect(page.locator(".comment").last).to_contain_text("I can help on Mondays.")
    first = page.locator(".comment details.report").first
    first.locator("summary").click()
    first.locator("input[name=reason]").fill("Off topic")
    first.locator("button").click()
    expect(page.get_by_text("Thank you: staff will look at this comment.")).to_be_visible()
    session.check("idea after a comment and a report")
