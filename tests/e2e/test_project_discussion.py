"""Issue #17: discussion on a ballot project's page, in a browser. A resident without
JavaScript signs in by email code from the project page and comments; a visitor reports the
comment; staff hide it with a public reason, which the project page then shows. Every page is
scanned by axe (no serious or critical finding) in en/es/zh at 1280 and 375 px, where nothing
may scroll sideways."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.e2e.test_staff_and_auditor import sign_in_staff
from tests.factories import make_cycle
from tests.proposal_helpers import code_from_outbox

PROJECT = "/cycles/test-cycle/projects/AP-A"
COMMENT = ("Could the lights stay on until midnight? The path by the river is dark from 18:00 "
           "in winter, and a very long unbroken word like "
           "Straßenbeleuchtungsverbesserungsvorschlagsliste must wrap on a phone.")


def test_a_project_is_discussed_reported_and_moderated(app, people, live_server):
    with app.app_context(), write_intent():
        make_cycle()
        db.session.commit()

    # A resident, without JavaScript: from the project page to signing in and back.
    resident = people(java_script_enabled=False)
    page = resident.page
    page.goto(PROJECT)
    expect(page.get_by_role("heading", name="Discussion")).to_be_visible()
    resident.check("project page, no comments", screenshots=True)
    page.get_by_role("link", name="Sign in with your email to comment").click()
    email = "river.walker@example.org"
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("Code", exact=True).fill(code_from_outbox(app, email))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(PROJECT)))

    # An empty comment is refused with a message; then the comment is posted.
    page.get_by_role("button", name="Post the comment").click()
    expect(page.locator("#comment-alert")).to_contain_text("Write a comment first.")
    resident.check("project comment refused")
    page.get_by_label("Your comment").fill(COMMENT)
    page.get_by_role("button", name="Post the comment").click()
    expect(page.locator("#comments")).to_contain_text("Your comment is posted.")
    expect(page.locator(".comment .plain-text")).to_have_text(COMMENT)
    resident.check("project page with a comment", screenshots=True)

    # Anyone may report it; the report form opens from <details> (no script needed).
    visitor = people()
    page = visitor.page
    page.goto(PROJECT)
    page.locator(".comment summary").click()
    page.get_by_label("What is wrong with it?").fill("Off topic")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("#comments")).to_contain_text("staff will look at this comment")
    visitor.check("project comment reported")

    # Staff hide it with a public reason; the project page shows the reason instead.
    staff = sign_in_staff(app, people, "staff")
    page = staff.page
    page.goto("/staff/cycles/test-cycle/moderation/")
    expect(page.get_by_role("heading", name="Comment on the ballot project AP-A")).to_be_visible()
    staff.check("moderation queue with a project comment", screenshots=True)
    page.get_by_label("Public reason, if you hide it").fill("Not about this project")
    page.get_by_role("button", name="Hide it").click()
    expect(page.get_by_text("No comment is waiting for a decision.")).to_be_visible()

    resident.page.goto(PROJECT)
    comments = resident.page.locator("#comments")
    expect(comments).to_contain_text("Hidden by staff: Not about this project")
    expect(comments).not_to_contain_text("midnight")
    resident.check("project page with a hidden comment")
