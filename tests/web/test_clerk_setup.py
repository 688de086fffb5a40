"""A set-up a clerk can use (issue #15): plain-language counting rules with a recommended
default and labelled settings, a time-zone picker, web names made from names, refusals in
the screen's words, "Saved" after each save, and drafts that can be archived or deleted."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, LogEntry, RollEntry
from pbvote.services.cycles import get_cycle
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account

BASE = "/staff/cycles"
CYCLE_FORM = {"name": "Safer Streets 2030", "city_name": "Riverton", "currency": "USD",
              "total_budget": "1000", "timezone": "America/Chicago", "tie_break_seed": "draw",
              "minimum_age": "16", "allowed_methods": ["roll", "code"]}


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def post(client, path, data, page=None):
    token = csrf_token(client.get(page or path).text)
    return client.post(path, data={"csrf_token": token, **data})


def test_the_new_cycle_form_has_a_time_zone_picker_and_makes_the_web_name(app, staff):
    page = staff.get(f"{BASE}/new")
    assert re.search(r'<select[^>]*id="timezone"', page.text)
    assert '<option value="America/Chicago">America/Chicago</option>' in page.text
    assert '<option value="Asia/Shanghai">' in page.text
    created = post(staff, f"{BASE}/new", CYCLE_FORM)
    assert created.status_code == 302 and created.headers["Location"].endswith(
        "/staff/cycles/safer-streets-2030/")
    overview = staff.get(created.headers["Location"])
    assert "Saved." in overview.text  # the save is confirmed on the next page
    with app.app_context():
        assert get_cycle("safer-streets-2030").timezone == "America/Chicago"
    unknown = post(staff, f"{BASE}/new", {**CYCLE_FORM, "name": "Other", "timezone": "Mars/Base"})
    assert unknown.status_code == 422


def test_counting_rules_are_chosen_by_plain_name_with_labelled_settings(app, staff):
    assert post(staff, f"{BASE}/new", CYCLE_FORM).status_code == 302
    path = f"{BASE}/safer-streets-2030/districts/new"
    page = staff.get(path)
    assert "Most votes first" in page.text
    assert "Equal Shares (proportional), spending the whole budget" in page.text
    assert "Recommended for knapsack ballots" in page.text
    assert not re.search(r'name="tally_rule"[^>]* checked', page.text)  # none preselected
    assert "JSON" not in page.text and "{&#34;" not in page.text and '{"' not in page.text
    assert 'name="tally_params"' not in page.text
    assert '<label for="param-1-min_score">Fewest votes (or points) a project needs' in page.text
    # a knapsack district with no rule chosen gets the recommended one; settings are fields
    response = post(staff, path, {
        "name": "Old Town", "budget": "600", "ballot_kind": "knapsack", "min_spend_percent": "0",
        "min_choices": "0", "tally_rule": "equalshares/add1",
        "param.equalshares/add1.utilities": "cardinality",
        "param.equalshares/add1.utilitarian_completion": "true"})
    assert response.status_code == 302, response.text
    with app.app_context():
        district = db.session.scalar(select(District).where(District.slug == "old-town"))
        assert district.tally_rule == "equalshares/add1"
        assert district.tally_parameters == {"utilities": "cardinality",
                                             "utilitarian_completion": True}
    edit = staff.get(f"{BASE}/safer-streets-2030/districts/old-town")
    assert re.search(r'<option value="cardinality" selected>', edit.text)
    # no rule chosen: the one recommended for the ballot type
    bare = post(staff, path, {"name": "North", "budget": "100", "ballot_kind": "knapsack",
                              "min_spend_percent": "0", "min_choices": "0"})
    assert bare.status_code == 302
    with app.app_context():
        north = db.session.scalar(select(District).where(District.slug == "north"))
        assert north.tally_rule == "equalshares/add1"


def test_frozen_refusals_use_the_names_on_the_screen(app, staff):
    with app.app_context(), write_intent():
        make_cycle("frozen")
        db.session.commit()
    response = post(staff, f"{BASE}/frozen/districts/approval/projects/new",
                    {"code": "AP-Z", "title": "Z", "cost": "5"})
    assert response.status_code == 409
    assert "Projects can&#39;t change after voting opened." in response.text
    assert "is frozen" not in response.text and "projects is" not in response.text
    budget = post(staff, f"{BASE}/frozen/districts/approval", {
        "slug": "approval", "name": "Approval", "budget": "90", "ballot_kind": "approval",
        "max_choices": "2", "min_choices": "0", "min_spend_percent": "0",
        "tally_rule": "greedy"})
    assert budget.status_code == 409 and "Budget can&#39;t change after voting opened" \
        in budget.text
    assert "total_budget" not in budget.text


def test_a_draft_can_be_archived_and_deleted_and_leaves_the_home_page(app, staff):
    with app.app_context(), write_intent():
        make_cycle("draft-one", voting="not_yet")
        make_cycle("opened")
        db.session.commit()
    home = app.test_client().get("/")
    assert "Cycle draft-one" in home.text
    overview = f"{BASE}/draft-one/"
    refused = post(staff, f"{BASE}/draft-one/archive", {}, page=overview)
    assert refused.status_code == 422
    archived = post(staff, f"{BASE}/draft-one/archive", {"confirm": "y"}, page=overview)
    assert archived.status_code == 302
    assert "Archived" in staff.get(overview).text
    assert "Cycle draft-one" not in app.test_client().get("/").text
    api = app.test_client().get("/api/v1/cycles").get_json()
    assert "draft-one" not in [c["slug"] for c in api["cycles"]]
    assert "archived" in staff.get("/staff/").text
    # a cycle whose voting opened can be neither
    for action in ("archive", "delete"):
        response = post(staff, f"{BASE}/opened/{action}", {"confirm": "y"},
                        page=f"{BASE}/opened/")
        assert response.status_code == 409 and "Voting has opened" in response.text
    deleted = post(staff, f"{BASE}/draft-one/delete", {"confirm": "y"}, page=overview)
    assert deleted.status_code == 302
    assert "Deleted the cycle" in staff.get(deleted.headers["Location"]).text
    with app.app_context():
        assert db.session.scalar(select(Cycle.id).where(Cycle.slug == "draft-one")) is None
        assert db.session.scalar(select(Cycle.id).where(Cycle.slug == "opened")) is not None
        assert db.session.scalar(select(RollEntry.id).join(Cycle).where(
            Cycle.slug == "opened")) is not None
        kinds = list(db.session.scalars(select(LogEntry.kind).where(
            LogEntry.kind.in_(["cycle.archived", "cycle.deleted"]))))
        assert sorted(kinds) == ["cycle.archived", "cycle.deleted"]


def test_once_voting_opened_frozen_controls_are_disabled_with_the_reason(app, staff):
    with app.app_context(), write_intent():
        make_cycle("frozen-form")
        db.session.commit()
    base = f"{BASE}/frozen-form"
    district = staff.get(f"{base}/districts/approval")
    assert "Can't change after voting opened." in html.unescape(district.text)
    assert re.search(r'<input[^>]*disabled[^>]*id="budget"|<input[^>]*id="budget"[^>]*disabled',
                     district.text)
    assert "Delete this district" not in district.text
    assert 'name="tally_rule" id="rule-' not in district.text  # no rule to pick any more
    # the name still saves: the frozen values travel along unchanged
    token = csrf_token(district.text)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             district.text))
    renamed = staff.post(f"{base}/districts/approval", data={
        **fields, "csrf_token": token, "name": "Approval Ward", "description": "New text"})
    assert renamed.status_code == 302, renamed.text
    with app.app_context():
        saved = get_cycle("frozen-form").district_by_slug("approval")
        assert (saved.name, saved.budget) == ("Approval Ward", 100)
    settings = staff.get(f"{base}/settings")
    assert "Can't change after voting opened." in html.unescape(settings.text)
    token = csrf_token(settings.text)
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', settings.text)
    data = {"csrf_token": token, "name": "Renamed", "city_name": "", "description": ""}
    for name, value in hidden:
        if name != "csrf_token":
            data.setdefault(name, [])
            data[name] = data[name] + [value] if isinstance(data[name], list) else [value]
    assert staff.post(f"{base}/settings", data=data).status_code == 302
    phases = staff.get(f"{base}/phases")
    assert "Save the phases" not in phases.text
    assert "can't change any more" in html.unescape(phases.text)
    new_project = staff.get(f"{base}/districts/approval/projects/new")
    assert "Projects can't be added after voting opened." in html.unescape(new_project.text)
    assert "Save the project" not in new_project.text
