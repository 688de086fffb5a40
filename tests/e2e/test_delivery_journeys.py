"""After the vote, in the browser: a delivery editor posts an update with a photo, a resident
who follows the project gets it in the outbox, a resident answers the perception survey once
(the second attempt is refused), and the public "What we funded" pages pass axe in en, es and
zh at 1280 and 375 px, with and without JavaScript."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, OutboxMessage
from pbvote.services.delivery import records, survey
from tests.delivery_helpers import funded_codes, published_cycle
from tests.proposal_helpers import code_from_outbox, png_bytes
from tests.staff_helpers import make_account, totp_code


def _tracked(app) -> dict:
    with app.app_context(), write_intent():
        cycle = published_cycle()
        admin = db.session.get(Account, make_account("admin")[0])
        editor = make_account("staff")
        records.grant_editor(cycle, admin, editor[1])
        records.open_delivery(cycle, admin)
        round_ = survey.open_round(cycle, admin, cycle.districts[0].slug, "Baseline 2027")
        code = funded_codes(cycle)[0]
        db.session.commit()
        return {"slug": cycle.slug, "code": code, "editor": editor, "round": round_.id,
                "district": cycle.districts[0].slug}


def _sign_in_editor(app, people, account):
    _, email, password, secret = account
    person = people()
    page = person.page
    page.goto("/staff/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=code]").fill(totp_code(app, email, secret))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return person


def _last_mail(app, recipient: str) -> str:
    with app.app_context():
        return db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id.desc())).first()


def test_editor_posts_an_update_with_a_photo_and_a_follower_receives_it(app, people, tmp_path):
    made = _tracked(app)
    slug, code = made["slug"], made["code"]

    # A resident, with no account, follows the project and confirms by email.
    resident = people()
    page = resident.page
    page.goto("/")
    page.get_by_role("link", name="What we funded: see how the projects are going").first.click()
    resident.check("what we funded", screenshots=True)
    page.get_by_role("link", name=re.compile("Project")).first.click()
    resident.check("funded project", screenshots=True)
    page.get_by_label("Your email address").fill("not an address")
    page.get_by_role("button", name="Follow").click()
    expect(page.locator("#error-summary")).to_be_focused()
    resident.axe("follow refused")
    page.get_by_label("Your email address").fill("neighbour@example.org")
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("status")).to_contain_text("Check your email")
    link = re.search(r"http\S+/follow/confirm\?token=\S+", _last_mail(app, "neighbour@example.org"))
    page.goto(link.group(0))
    resident.check("confirm following")
    page.get_by_role("button", name="Yes, send me updates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You follow this project")

    # The delivery editor posts news with a photo.
    editor = _sign_in_editor(app, people, made["editor"])
    staff_page = editor.page
    staff_page.goto(f"/staff/cycles/{slug}/delivery")
    editor.check("delivery overview (staff)", screenshots=True)
    staff_page.goto(f"/staff/cycles/{slug}/delivery/projects/{code}")
    editor.check("delivery project (staff)", screenshots=True)
    photo = tmp_path / "site.png"
    photo.write_bytes(png_bytes((64, 48)))
    staff_page.get_by_label("What happened, in plain words").fill("The new lamps are up.")
    staff_page.get_by_label("Photo (JPEG or PNG, up to 5 MB; optional)").set_input_files(
        str(photo))
    staff_page.get_by_role("button", name="Publish the news").click()
    expect(staff_page.get_by_text("The new lamps are up.").first).to_be_visible()

    body = _last_mail(app, "neighbour@example.org")
    assert "The new lamps are up." in body and "/unsubscribe?token=" in body

    page.goto(f"/cycles/{slug}/delivery/projects/{code}")
    expect(page.get_by_text("The new lamps are up.")).to_be_visible()
    expect(page.locator("img.idea-photo")).to_have_count(1)
    resident.check("funded project with news", screenshots=True)

    # One click (after opening the link) stops the emails.
    page.goto(re.search(r"http\S+/unsubscribe\?token=\S+", body).group(0))
    resident.check("unsubscribe")
    page.get_by_role("button", name="Stop the emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You will get no more emails")


def test_a_resident_answers_the_survey_once(app, people):
    made = _tracked(app)
    resident = people()
    page = resident.page
    email = "answers@example.org"
    page.goto(f"/cycles/{made['slug']}/delivery/survey/{made['round']}")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("Code", exact=True).fill(code_from_outbox(app, email))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Survey")
    resident.check("survey", screenshots=True)
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator("#error-summary")).to_be_focused()
    page.get_by_label("Safe", exact=True).check()
    page.get_by_label("Anything you want to add? (optional)").fill("Better since the lights.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")
    page.goto(f"/cycles/{made['slug']}/delivery/survey/{made['round']}")
    expect(page.get_by_text("You have already answered this survey round")).to_be_visible()
    resident.axe("survey already answered")
    # the same form sent again from another tab is refused too
    answered = page.request.post(
        f"/cycles/{made['slug']}/delivery/survey/{made['round']}",
        form={"csrf_token": _csrf(page), "answer": "2"})
    assert answered.status == 409


def _csrf(page) -> str:
    html = page.request.get(page.url).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return match.group(1)


def test_what_we_funded_without_javascript(app, people):
    made = _tracked(app)
    reader = people(java_script_enabled=False)
    page = reader.page
    page.goto(f"/cycles/{made['slug']}/delivery/districts/{made['district']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What we funded in")
    reader.check("what we funded in a district, no JavaScript", screenshots=True)
    page.goto(f"/cycles/{made['slug']}/delivery/projects/{made['code']}")
    reader.check("funded project, no JavaScript")
