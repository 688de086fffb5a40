"""Journeys 4 and 5: staff run a cycle from nothing to published results (TOTP sign-in,
set-up, roll import, open, close, count, two administrators publish), and an auditor downloads
the bundle and runs "verify now"."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile

from playwright.sync_api import expect

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import publication, voting
from pbvote.services.cycles import get_cycle
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account, totp_code

SLUG = "lights-2028"
ROLL_CSV = ("Surname,DOB,Postcode,Ward,Number\n"
            "Lee,1980-01-01,AB1,north,R1\n"
            "Kim,1981-02-02,AB2,north,R2\n")


def sign_in_staff(app, people, role: str, check: bool = False):
    """A new browser session signed in with password and TOTP code (computed with pyotp)."""
    with app.app_context():
        _, email, password, secret = make_account(role)
    person = people()
    page = person.page
    page.goto("/staff/login")
    if check:
        person.check("staff sign-in", screenshots=True)
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("input[name=code]")).to_be_visible()
    if check:
        person.axe("staff TOTP step")
    page.locator("input[name=code]").fill(totp_code(app, email, secret))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return person


def _import_roll(staff) -> None:
    """Upload ROLL_CSV, map its columns and apply it, in whatever language the page is in
    (so buttons are found by their place, not their words); the pages are scanned once,
    in English."""
    page, english = staff.page, staff.page.evaluate("document.documentElement.lang") == "en"
    page.goto(f"/staff/cycles/{SLUG}/roll")
    if english:
        staff.check("roll upload")
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "roll.csv", "mimeType": "text/csv", "buffer": ROLL_CSV.encode()}])
    page.locator("form:has(input[name=file]) button[type=submit]").click()
    for index, role in enumerate(("last_name", "birth_date", "postcode", "district",
                                  "roll_number")):
        page.locator(f"select#map-{index}").select_option(role)
    page.locator("form:has(select#map-0) button[type=submit]").click()
    expect(page.locator("input[name=fingerprint]")).to_have_count(1)
    if english:
        staff.axe("roll preview")
        staff.screenshots("roll-preview")
    page.locator("form:has(input[name=fingerprint]) button[type=submit]").click()
    expect(page.locator(".notice-success")).to_be_visible()


def _submit(page, button: str) -> None:
    page.get_by_role("button", name=button).click()


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_staff_run_a_cycle_and_two_admins_publish(app, people):
    staff = sign_in_staff(app, people, "staff", check=True)
    page = staff.page
    page.goto("/staff/")
    staff.check("staff dashboard", screenshots=True)

    # Create the cycle.
    page.goto("/staff/cycles/new")
    staff.check("new cycle form", screenshots=True)
    for name, value in {"slug": SLUG, "name": "Lights 2028", "city_name": "Riverton",
                        "currency": "USD", "total_budget": "1000", "timezone": "UTC",
                        "tie_break_seed": "public-draw", "minimum_age": "16"}.items():
        field = page.locator(f"[name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for method in ("roll", "code"):
        page.locator(f"input[name=allowed_methods][value={method}]").check()
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(f"/staff/cycles/{SLUG}/"))

    # A district, the phases and three projects.
    page.goto(f"/staff/cycles/{SLUG}/districts/new")
    staff.check("new district form")
    for name, value in {"slug": "north", "name": "North", "budget": "600",
                        "max_choices": "2", "min_choices": "0", "min_spend_percent": "0"}.items():
        page.locator(f"[name={name}]").fill(value)
    page.locator("[name=ballot_kind]").select_option("approval")
    page.locator("input[name=tally_rule][value=greedy]").check()
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".error-summary")).to_have_count(0)

    now = utcnow()
    page.goto(f"/staff/cycles/{SLUG}/phases")
    staff.check("phases form")
    page.locator("[name=review_starts_at]").fill(_local(now - dt.timedelta(days=3)))
    page.locator("[name=review_ends_at]").fill(_local(now - dt.timedelta(days=1)))
    page.locator("[name=voting_starts_at]").fill(_local(now + dt.timedelta(days=1)))
    page.locator("[name=voting_ends_at]").fill(_local(now + dt.timedelta(days=6)))
    _submit(page, "Save the phases")
    expect(page.locator(".error-summary")).to_have_count(0)

    for code, cost in (("N-1", "300"), ("N-2", "200"), ("N-3", "100")):
        page.goto(f"/staff/cycles/{SLUG}/districts/north/projects/new")
        if code == "N-1":
            staff.check("new project form")
        page.locator("[name=code]").fill(code)
        page.locator("[name=title]").fill(f"Project {code}")
        page.locator("[name=cost]").fill(cost)
        page.locator("main form button[type=submit]").last.click()
        expect(page.locator(".error-summary")).to_have_count(0)
    staff.check("projects")

    # Import the roll from a CSV file, mapping its columns.
    _import_roll(staff)
    expect(page.get_by_text("Voter roll imported")).to_be_visible()
    staff.axe("roll imported", repeatable=False)
    # That page answers a POST that must not be sent twice: import the same file again
    # (nothing changes) in each other language, chosen with the language switcher.
    for language in ("es", "zh-Hans"):
        page.locator(f".language-switcher a[hreflang={language}]").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        _import_roll(staff)
        staff.axe("roll imported", repeatable=False)
    staff.context.clear_cookies(name="pbvote_lang")  # back to the browser's English

    # Open voting by hand.
    page.goto(f"/staff/cycles/{SLUG}/")
    staff.check("cycle overview", screenshots=True)
    page.locator("#open-confirm").check()
    _submit(page, "Open voting now")
    with app.app_context():
        assert get_cycle(SLUG).voting_open(utcnow())
        with write_intent():
            cycle = get_cycle(SLUG)
            voter = voting.verify_by_roll(cycle, cycle.district_by_slug("north"), "Lee",
                                          dt.date(1980, 1, 1), "AB1")
            voting.cast_ballot(voter, ("N-2", "N-3"))
            db.session.commit()

    # Close, count.
    page.goto(f"/staff/cycles/{SLUG}/")
    page.locator("#close-confirm").check()
    _submit(page, "Close voting now")
    with app.app_context():
        assert not get_cycle(SLUG).voting_open(utcnow())
    page.goto(f"/staff/cycles/{SLUG}/results")
    staff.check("staff results")
    _submit(page, "Run the count")
    expect(page.get_by_text("Private: these results are not published")).to_be_visible()
    staff.check("tally run", screenshots=True)
    run_url = page.url

    # One administrator asks, a second confirms.
    admin = sign_in_staff(app, people, "admin")
    admin.page.goto(run_url)
    _submit(admin.page, "Ask to publish this count")
    expect(admin.page.get_by_role("button", name="Ask to publish this count")).to_have_count(0)
    admin.axe("tally run, publication asked")
    admin2 = sign_in_staff(app, people, "admin")
    admin2.page.goto(run_url)
    admin2.check("tally run awaiting confirmation")
    _submit(admin2.page, "Confirm and publish")
    expect(admin2.page).to_have_url(re.compile(f"/cycles/{SLUG}/results$"))
    expect(admin2.page.get_by_text("Project N-2").first).to_be_visible()
    admin2.check("published results", screenshots=True)


def test_auditor_downloads_the_bundle_and_verifies(app, people, tmp_path):
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
    auditor = sign_in_staff(app, people, "auditor")
    page = auditor.page
    page.goto("/audit/")
    auditor.check("audit index", screenshots=True)

    page.goto(f"/cycles/{made.slug}/results")
    auditor.axe("results, signed in as auditor")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the ballot bundle (zip)").click()
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    assert any(name.endswith("SHA256SUMS") for name in zipfile.ZipFile(bundle).namelist())
    checked = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(bundle)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    page.goto(f"/audit/cycles/{made.slug}")
    auditor.check("audit cycle", screenshots=True)
    _submit(page, "Verify now")
    expect(page.get_by_role("status")).to_contain_text("Every check passed")
    expect(page.get_by_text("FAIL", exact=True)).to_have_count(0)
    auditor.axe("verify now report")
    auditor.screenshots("verify-now")
