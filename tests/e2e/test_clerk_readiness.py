"""Journey: a clerk opens a cycle's overview, sees what blocks opening voting, follows each
blocker's link to the page that fixes it (a district budget below a project's cost, a phase
that already ended, a district nobody could vote in), and then opens voting."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Phase, Project
from pbvote.services import log
from pbvote.services.cycles import get_cycle
from tests.e2e.test_staff_and_auditor import SLUG, _import_roll, _local, sign_in_staff


def _cycle_with_three_blockers() -> None:
    now = utcnow()
    chain = log.get_or_create_chain(log.chain_name_for_cycle(SLUG))
    cycle = Cycle(slug=SLUG, name="Lights 2028", total_budget=1000, timezone="UTC",
                  tie_break_seed="public-draw", chain_id=chain.id,
                  allowed_methods="code,roll")
    # The voting phase ended yesterday (stored before a clerk noticed): it blocks opening.
    cycle.phases = [Phase(kind="voting", starts_at=now - dt.timedelta(days=3),
                          ends_at=now - dt.timedelta(days=1))]
    # A budget of 100 below project N-1's cost of 300; and no roll entry nor access code.
    north = District(slug="north", name="North", budget=100, ballot_kind="approval",
                     max_choices=2, tally_params=canonical_json({}))
    north.projects = [Project(cycle=cycle, code=code, title=f"Project {code}", cost=cost,
                              position=i)
                      for i, (code, cost) in enumerate((("N-1", 300), ("N-2", 60), ("N-3", 40)))]
    cycle.districts.append(north)
    db.session.add(cycle)
    db.session.flush()


def test_clerk_fixes_each_blocker_from_the_overview_then_opens_voting(app, people):
    with app.app_context(), write_intent():
        _cycle_with_three_blockers()
        db.session.commit()
    clerk = sign_in_staff(app, people, "staff")
    page = clerk.page
    page.goto(f"/staff/cycles/{SLUG}/")
    blockers = page.locator("#ready-open ul.blockers li a")
    expect(blockers).to_have_count(3)
    clerk.check("overview with blockers", screenshots=True)

    # 1. The budget: the link leads to the district form.
    page.locator("#ready-open ul.blockers a", has_text="N-1").click()
    expect(page).to_have_url(re.compile(f"/staff/cycles/{SLUG}/districts/north$"))
    page.locator("[name=budget]").fill("600")
    page.get_by_role("button", name="Save the district").click()
    expect(page.locator(".error-summary")).to_have_count(0)
    page.goto(f"/staff/cycles/{SLUG}/")
    expect(blockers).to_have_count(2)

    # 2. The phase that already ended: the link leads to the phases form.
    page.locator("#ready-open ul.blockers a", has_text="already past").click()
    expect(page).to_have_url(re.compile(f"/staff/cycles/{SLUG}/phases$"))
    now = utcnow()
    page.locator("[name=voting_starts_at]").fill(_local(now - dt.timedelta(hours=1)))
    page.locator("[name=voting_ends_at]").fill(_local(now + dt.timedelta(days=5)))
    page.get_by_role("button", name="Save the phases").click()
    expect(page.locator(".error-summary")).to_have_count(0)
    page.goto(f"/staff/cycles/{SLUG}/")
    expect(blockers).to_have_count(1)

    # 3. Nobody could vote: the link leads to the voter roll; import one.
    page.locator("#ready-open ul.blockers a", has_text="nobody could vote").click()
    expect(page).to_have_url(re.compile(f"/staff/cycles/{SLUG}/roll$"))
    _import_roll(clerk)

    # Ready: open voting.
    page.goto(f"/staff/cycles/{SLUG}/")
    expect(blockers).to_have_count(0)
    expect(page.locator("#ready-open-title")).to_contain_text("ready")
    clerk.check("overview ready to open", screenshots=True)
    page.locator("#open-confirm").check()
    page.get_by_role("button", name="Open voting now").click()
    expect(page.locator("#ready-close-title")).to_contain_text("ready")
    with app.app_context():
        cycle = get_cycle(SLUG)
        assert cycle.voting_open(utcnow()) and cycle.manifest_json

    # An administrator sees the form to extend voting; a later end with a reason is published.
    admin = sign_in_staff(app, people, "admin")
    admin.page.goto(f"/staff/cycles/{SLUG}/")
    expect(admin.page.locator("form.extend-voting")).to_be_visible()
    admin.check("overview while voting is open (admin)", screenshots=True)
    admin.page.locator("[name=ends_at]").fill(_local(utcnow() + dt.timedelta(days=9)))
    admin.page.locator("[name=reason]").fill("The library was closed for two days.")
    admin.page.locator("#extend-confirm").check()
    admin.page.locator("form.extend-voting button[type=submit]").click()
    expect(admin.page.get_by_text("The library was closed for two days.")).to_be_visible()
    admin.page.goto(f"/cycles/{SLUG}")
    expect(admin.page.get_by_text("Voting was extended")).to_be_visible()
    admin.check("public cycle page after an extension")
