"""Cycle set-up through the staff pages, on both engines: the wizard, field errors, frozen
configuration, opening and closing by hand, projects and images, roll import, access codes."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, LogEntry, Project, RollEntry
from pbvote.rules.eligibility import access_code_is_well_formed, normalise_access_code
from pbvote.services import voting
from pbvote.services.cycles import get_cycle, manifest_hash
from pbvote.services.errors import AlreadyVoted, NotEligible
from pbvote.web.guards import AUTHENTICATED_AT
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account, reauthenticate
from tests.summary_helpers import assert_linked_summary

BASE = "/staff/cycles"


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    client.account = account
    return client


@pytest.fixture
def open_cycle(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    return made


def post(client, path, data, **kwargs):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)


def local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


CYCLE_FORM = {"slug": "lights-2028", "name": "Lights 2028", "city_name": "Riverton",
              "currency": "USD", "total_budget": "1000", "timezone": "UTC",
              "tie_break_seed": "public-draw", "minimum_age": "16",
              "allowed_methods": ["roll", "code"]}
DISTRICT_FORM = {"slug": "north", "name": "North", "budget": "600", "ballot_kind": "approval",
                 "max_choices": "2", "min_choices": "0", "min_spend_percent": "0",
                 "tally_rule": "greedy", "tally_params": ""}


def make_setup_cycle(client, app, voting_in_days=1):
    """A complete cycle through the pages, voting not yet open."""
    assert post(client, f"{BASE}/new", CYCLE_FORM).status_code == 302
    slug = CYCLE_FORM["slug"]
    assert post(client, f"{BASE}/{slug}/districts/new", DISTRICT_FORM).status_code == 302
    now = utcnow()
    assert post(client, f"{BASE}/{slug}/phases", {
        "review_starts_at": local(now - dt.timedelta(days=3)),
        "review_ends_at": local(now - dt.timedelta(days=1)),
        "voting_starts_at": local(now + dt.timedelta(days=voting_in_days)),
        "voting_ends_at": local(now + dt.timedelta(days=voting_in_days + 5))}).status_code == 302
    for code, cost in (("N-1", "300"), ("N-2", "200"), ("N-3", "100")):
        response = post(client, f"{BASE}/{slug}/districts/north/projects/new",
                        {"code": code, "title": f"Project {code}", "cost": cost})
        assert response.status_code == 302, response.text
    assert post(client, f"{BASE}/{slug}/codes", {"district": "north", "count": "3"}) \
        .status_code == 200
    return slug


def test_wizard_happy_path_then_open_voting_by_hand(app, staff):
    slug = make_setup_cycle(staff, app)
    overview = staff.get(f"{BASE}/{slug}/")
    assert overview.status_code == 200
    assert re.search(r"Open voting:\s*<span class=\"badge badge-ok\">ready", overview.text)
    assert "Open voting now" in overview.text and "Schedule voting" in overview.text
    page = staff.get(f"{BASE}/{slug}/")
    response = staff.post(f"{BASE}/{slug}/voting/open",
                          data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        cycle = get_cycle(slug)
        assert cycle.voting_open(utcnow())
        assert cycle.manifest_hash == manifest_hash(cycle)
        assert hashlib.sha256(cycle.manifest_json.encode()).hexdigest() == cycle.manifest_hash
        review = cycle.phase_window("review")
        assert review.ends_at <= cycle.phase_window("voting").starts_at
        kinds = [e.kind for e in db.session.scalars(
            select(LogEntry).where(LogEntry.chain_id == cycle.chain_id)
            .order_by(LogEntry.position))]
        assert kinds[0] == "cycle.created" and kinds[-1] == "voting.opened"
        assert {"district.created", "phases.updated", "project.created"} <= set(kinds)
        digest = cycle.manifest_hash
        created = db.session.scalar(select(LogEntry.entry_json).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "cycle.created"))
        assert '"before":null' in created and '"total_budget":1000' in created
        assert "(#" in created  # the actor is the signed-in account
    public = app.test_client().get(f"/cycles/{slug}")
    assert digest in public.text
    manifest = app.test_client().get(f"/cycles/{slug}/manifest.json")
    assert manifest.status_code == 200
    assert hashlib.sha256(manifest.data).hexdigest() == digest


@pytest.mark.parametrize("changes, field, text", [
    ({"timezone": "Mars/Olympus"}, "timezone", "not a known time zone"),
    ({"currency": "dollars"}, "currency", "three-letter"),
    ({"slug": "Not A Slug"}, "slug", "lower-case letters"),
    ({"total_budget": "0"}, "total_budget", "more than zero"),
    ({"minimum_age": "300"}, "minimum_age", "between 0 and"),
    # a group of boxes: the summary links to its first box
    ({"allowed_methods": ["self_declared"]}, "allowed_methods-0", "not switched on"),
])
def test_cycle_form_puts_each_error_on_its_field(app, staff, changes, field, text):
    response = post(staff, f"{BASE}/new", {**CYCLE_FORM, **changes})
    assert_linked_summary(response, [field])
    assert text in response.text
    with app.app_context():
        assert db.session.scalar(select(Cycle.id)) is None


@pytest.mark.parametrize("changes, field, text", [
    ({"budget": "0"}, "budget", "more than zero"),
    ({"budget": "1001"}, "budget", "more than the cycle"),
    ({"ballot_kind": "knapsack", "max_choices": "", "min_spend_percent": "101"},
     "min_spend_percent", "between 0 and 100"),
    # the counting rules are radios: the summary links to the first one
    ({"ballot_kind": "ranked", "tally_rule": "phragmen"}, "rule-1", "cannot count ranked"),
    ({"param.greedy.min_score": "lots"}, "param-1-min_score", "whole number"),
    ({"param.greedy.ties": "coin"}, "param-1-ties", "choose one of the options"),
    ({"ballot_kind": "cumulative", "max_choices": ""}, "points", "points to spread"),
])
def test_district_form_errors(app, staff, changes, field, text):
    assert post(staff, f"{BASE}/new", CYCLE_FORM).status_code == 302
    response = post(staff, f"{BASE}/lights-2028/districts/new", {**DISTRICT_FORM, **changes})
    assert_linked_summary(response, [field])
    assert text in response.text


def test_k_larger_than_the_projects_and_overlapping_phases(app, staff):
    slug = make_setup_cycle(staff, app)
    response = post(staff, f"{BASE}/{slug}/districts/north", {**DISTRICT_FORM, "max_choices": "4"})
    assert response.status_code == 422
    assert "more than the number of projects on the ballot (3)" in response.text
    now = utcnow()
    response = post(staff, f"{BASE}/{slug}/phases", {
        "review_starts_at": local(now), "review_ends_at": local(now + dt.timedelta(days=3)),
        "voting_starts_at": local(now + dt.timedelta(days=2)),
        "voting_ends_at": local(now + dt.timedelta(days=1))})
    assert response.status_code == 422
    assert "starts before the review phase ends" in response.text
    assert "must end after it starts" in response.text
    response = post(staff, f"{BASE}/{slug}/phases", {
        "voting_starts_at": local(now + dt.timedelta(days=2))})
    assert_linked_summary(response, ["voting_ends_at"])
    assert "Give both a start and an end" in response.text
    unreadable = post(staff, f"{BASE}/{slug}/phases", {"voting_starts_at": "next week",
                                                       "review_ends_at": "soon"})
    checked = assert_linked_summary(unreadable, ["voting_starts_at", "review_ends_at"])
    # every phase has a Starts and an Ends: the summary names the phase of each
    assert "Voting · Starts: Not a valid datetime value." in checked.summary_text
    assert "Review of ideas · Ends: Not a valid datetime value." in checked.summary_text
    # the set-up rules speak the staff member's language
    staff.set_cookie("pbvote_lang", "es")
    spanish = post(staff, f"{BASE}/{slug}/phases", {
        "voting_starts_at": local(now + dt.timedelta(days=2)),
        "voting_ends_at": local(now + dt.timedelta(days=1))})
    assert "La fase de votación debe terminar después de empezar." in spanish.text
    staff.set_cookie("pbvote_lang", "en")


def test_project_and_roll_upload_forms_link_their_errors(app, staff, open_cycle):
    slug = open_cycle.slug
    with app.app_context(), write_intent():
        make_cycle("draft-cycle", voting="not_yet")  # a frozen cycle shows no new-project form
        db.session.commit()
    project = post(staff, f"{BASE}/draft-cycle/districts/approval/projects/new",
                   {"code": "", "title": "Benches", "cost": "a lot"})
    checked = assert_linked_summary(project, ["code", "cost"])
    assert checked.by_id["title"].get("value") == "Benches"
    assert_linked_summary(post(staff, f"{BASE}/{slug}/roll", {}), ["file"])


def test_access_code_forms_link_their_errors(app, staff, open_cycle):
    slug = open_cycle.slug
    assert_linked_summary(post(staff, f"{BASE}/{slug}/codes",
                               {"district": "approval", "count": "0"}), ["count"])
    page = staff.get(f"{BASE}/{slug}/codes")
    void = staff.post(f"{BASE}/{slug}/codes/void",
                      data={"csrf_token": csrf_token(page.text), "code": ""})
    assert_linked_summary(void, ["code"])


def test_roll_preview_links_a_mapping_problem_and_lists_line_problems(app, staff, open_cycle):
    response = upload_roll(staff, open_cycle.slug, ROLL.replace("AB2,ranked", "AB2,nowhere"))
    preview_url = response.headers["Location"]
    unmapped = assert_linked_summary(staff.get(preview_url), ["map-0"])
    assert "No column is mapped to last_name" in unmapped.summary_text
    mapping = {"map-0": "last_name", "map-1": "birth_date", "map-2": "postcode",
               "map-3": "district", "map-4": "roll_number"}
    # a line of the file is nowhere on the page: listed, not linked
    lines = assert_linked_summary(staff.get(preview_url, query_string=mapping), [])
    assert "district 'nowhere' is not one of" in lines.summary_text
    assert lines.by_id["map-0"].get("aria-invalid") is None


def test_opening_refuses_an_inconsistent_configuration(app, staff):
    slug = make_setup_cycle(staff, app)
    with app.app_context(), write_intent():
        db.session.execute(Project.__table__.delete().where(Project.code.in_(["N-2", "N-3"])))
        db.session.commit()
    page = staff.get(f"{BASE}/{slug}/")
    assert "more than the number of projects on the ballot (1)" in page.text
    response = staff.post(f"{BASE}/{slug}/voting/open",
                          data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert response.status_code == 422
    assert "more than the number of projects on the ballot (1)" in response.text
    with app.app_context():
        assert get_cycle(slug).manifest_hash is None


def test_open_and_close_need_a_fresh_login(app, staff):
    slug = make_setup_cycle(staff, app)
    with staff.session_transaction() as session:
        session[AUTHENTICATED_AT] -= 3600
    page = staff.get(f"{BASE}/{slug}/")
    response = staff.post(f"{BASE}/{slug}/voting/open",
                          data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert response.status_code == 302 and "/staff/reauth" in response.headers["Location"]
    with app.app_context():
        assert get_cycle(slug).manifest_hash is None
    _, email, password, secret = staff.account
    assert reauthenticate(staff, email, password, secret).status_code == 302
    page = staff.get(f"{BASE}/{slug}/")
    assert staff.post(f"{BASE}/{slug}/voting/open", data={
        "csrf_token": csrf_token(page.text), "confirm": "y"}).status_code == 302
    again = staff.post(f"{BASE}/{slug}/voting/open",
                       data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert again.status_code == 409 and "already open" in again.text
    with staff.session_transaction() as session:
        session[AUTHENTICATED_AT] -= 3600
    page = staff.get(f"{BASE}/{slug}/")
    response = staff.post(f"{BASE}/{slug}/voting/close",
                          data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert response.status_code == 302 and "/staff/reauth" in response.headers["Location"]
    with app.app_context():
        assert get_cycle(slug).voting_open(utcnow())
    assert reauthenticate(staff, email, password, secret).status_code == 302
    page = staff.get(f"{BASE}/{slug}/")
    unconfirmed = staff.post(f"{BASE}/{slug}/voting/close",
                             data={"csrf_token": csrf_token(page.text)})
    assert unconfirmed.status_code == 422
    assert staff.post(f"{BASE}/{slug}/voting/close", data={
        "csrf_token": csrf_token(page.text), "confirm": "y"}).status_code == 302
    with app.app_context():
        cycle = get_cycle(slug)
        assert not cycle.voting_open(utcnow())
        assert db.session.scalar(select(LogEntry.kind).where(
            LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position.desc()).limit(1)) \
            == "voting.closed"


EDIT_CYCLE = {"name": "Cycle test-cycle", "city_name": "", "currency": "USD",
              "total_budget": "400", "timezone": "UTC", "tie_break_seed": "seed",
              "minimum_age": "16", "allowed_methods": ["code", "roll"]}
EDIT_APPROVAL = {"slug": "approval", "name": "Approval", "budget": "100",
                 "ballot_kind": "approval", "max_choices": "2", "min_choices": "0",
                 "min_spend_percent": "0", "tally_rule": "greedy", "tally_params": ""}
EDIT_PROJECT = {"code": "AP-A", "title": "Project A", "cost": "60"}


@pytest.mark.parametrize("path, form, change", [
    ("settings", EDIT_CYCLE, {"total_budget": "500"}),
    ("settings", EDIT_CYCLE, {"currency": "EUR"}),
    ("settings", EDIT_CYCLE, {"minimum_age": "18"}),
    ("settings", EDIT_CYCLE, {"allowed_methods": ["roll"]}),
    ("settings", EDIT_CYCLE, {"tie_break_seed": "other"}),
    ("settings", EDIT_CYCLE, {"timezone": "Europe/Paris"}),
    ("settings", EDIT_CYCLE, {"online_self_declaration": "y"}),
    ("districts/approval", EDIT_APPROVAL, {"budget": "90"}),
    ("districts/approval", EDIT_APPROVAL, {"max_choices": "3"}),
    ("districts/approval", EDIT_APPROVAL, {"tally_rule": "phragmen"}),
    ("districts/approval", EDIT_APPROVAL, {"param.greedy.skip": "false"}),
    ("districts/approval", EDIT_APPROVAL, {"ballot_kind": "knapsack", "max_choices": ""}),
    ("districts/new", {**EDIT_APPROVAL, "slug": "extra", "budget": "1"}, {}),
    ("projects/AP-A", EDIT_PROJECT, {"cost": "61"}),
    ("districts/approval/projects/new", {"code": "AP-Z", "title": "Z", "cost": "5"}, {}),
    ("phases", {}, {"voting_starts_at": "2020-01-01T00:00", "voting_ends_at": "2040-01-01T00:00"}),
])
def test_frozen_settings_are_refused_with_409(app, staff, open_cycle, path, form, change):
    response = post(staff, f"{BASE}/{open_cycle.slug}/{path}", {**form, **change})
    assert response.status_code == 409, re.findall(r"<li><a href=\"#[^<]*", response.text)
    assert "Voting has opened, so this can no longer change" in response.text
    with app.app_context():
        cycle = get_cycle(open_cycle.slug)
        assert cycle.total_budget == 400 and cycle.minimum_age == 16
        assert cycle.district_by_slug("approval").budget == 100
        assert len(cycle.districts) == 4


def test_frozen_deletions_are_refused_and_texts_stay_editable(app, staff, open_cycle):
    slug = open_cycle.slug
    page = staff.get(f"{BASE}/{slug}/projects/AP-A")
    token = csrf_token(page.text)
    assert staff.post(f"{BASE}/{slug}/projects/AP-A/delete",
                      data={"csrf_token": token}).status_code == 409
    assert staff.post(f"{BASE}/{slug}/districts/approval/delete",
                      data={"csrf_token": token}).status_code == 409
    renamed = post(staff, f"{BASE}/{slug}/projects/AP-A", {**EDIT_PROJECT, "title": "Lights"})
    assert renamed.status_code == 302
    assert post(staff, f"{BASE}/{slug}/settings", {**EDIT_CYCLE, "name": "New name"}) \
        .status_code == 302
    with app.app_context():
        cycle = get_cycle(slug)
        assert cycle.name == "New name" and len(cycle.districts[0].projects) == 4
        # the manifest stored when voting was scheduled stays as it was stored
        assert cycle.manifest_hash == hashlib.sha256(cycle.manifest_json.encode()).hexdigest()
        assert '"name":"Cycle test-cycle"' in cycle.manifest_json
    assert cycle.manifest_hash in app.test_client().get(f"/cycles/{slug}").text


def png_bytes(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (16, 16), (10, 120, 10))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_project_crud_with_image_upload(app, staff):
    slug = make_setup_cycle(staff, app, voting_in_days=3)
    path = f"{BASE}/{slug}/projects/N-1"
    response = post(staff, path, {"code": "N-1", "title": "Lit path", "cost": "300",
                                  "image": (io.BytesIO(jpeg_with_exif()), "photo.jpg")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        name = db.session.scalar(select(Project.image_name).where(Project.code == "N-1"))
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    served = app.test_client().get(f"/media/projects/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"SpyCam" not in served.data
    assert Image.open(io.BytesIO(served.data)).getexif().get(0x010F) is None

    too_big = post(staff, path, {"code": "N-1", "title": "Lit path", "cost": "300",
                                 "image": (io.BytesIO(b"\x89PNG" + b"0" * (5 * 1024 * 1024)),
                                           "big.png")}, content_type="multipart/form-data")
    assert too_big.status_code == 413 and "larger than 5 MB" in too_big.text
    for data, filename in ((b"GIF89a" + b"\0" * 100, "a.gif"), (b"<svg></svg>", "x.png"),
                           (png_bytes()[:40], "cut.png")):
        refused = post(staff, path, {"code": "N-1", "title": "Lit path", "cost": "300",
                                     "image": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")
        assert refused.status_code == 415, filename
        assert "JPEG" in refused.text
    replaced = post(staff, path, {"code": "N-1", "title": "Lit path", "cost": "300",
                                  "image": (io.BytesIO(png_bytes()), "new.png")},
                    content_type="multipart/form-data")
    assert replaced.status_code == 302
    assert app.test_client().get(f"/media/projects/{name}").status_code == 404  # old file gone
    with app.app_context():
        new_name = db.session.scalar(select(Project.image_name).where(Project.code == "N-1"))
    assert new_name.endswith(".png")

    page = staff.get(path)
    assert staff.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text),
                                              "confirm_delete": "y"}).status_code == 302
    assert app.test_client().get(f"/media/projects/{new_name}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Project.id).where(Project.code == "N-1")) is None
        assert db.session.scalar(select(LogEntry.id).where(LogEntry.kind == "project.deleted"))
    duplicate = post(staff, f"{BASE}/{slug}/districts/north/projects/new",
                     {"code": "N-2", "title": "Again", "cost": "1"})
    assert duplicate.status_code == 422 and "already has the code N-2" in duplicate.text
    dear = post(staff, f"{BASE}/{slug}/districts/north/projects/new",
                {"code": "N-9", "title": "Dear", "cost": "601"})
    assert dear.status_code == 422 and "could never be funded" in dear.text


ROLL = ("Surname,DOB,Postcode,Ward,Number\n"
        "Lee,1980-01-01,AB1,approval,R1\n"
        "Kim,1981-02-02,AB2,ranked,R2\n")


def upload_roll(staff, slug, text):
    return post(staff, f"{BASE}/{slug}/roll",
                {"file": (io.BytesIO(text.encode()), "roll.csv")},
                content_type="multipart/form-data")


def test_roll_import_in_the_browser(app, staff, open_cycle):
    slug = open_cycle.slug
    response = upload_roll(staff, slug, ROLL.replace("AB2,ranked", "AB2,nowhere") +
                           "Lee,1980-01-01,AB1,approval,R1\n")
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    mapping = {"map-0": "last_name", "map-1": "birth_date", "map-2": "postcode",
               "map-3": "district", "map-4": "roll_number"}
    unmapped = staff.get(preview_url)
    assert unmapped.status_code == 422 and "No column is mapped to last_name" in unmapped.text
    bad = staff.get(preview_url, query_string=mapping)
    assert bad.status_code == 422
    assert "line 3: district &#39;nowhere&#39; is not one of" in bad.text
    assert "line 4: duplicate of line 2 (same roll number)" in bad.text
    assert "Import: apply" not in bad.text

    response = upload_roll(staff, slug, ROLL)
    preview_url = response.headers["Location"]
    preview = staff.get(preview_url, query_string=mapping)
    assert preview.status_code == 200
    assert re.search(r"Added</th><td class=\"num\">2<", preview.text)
    assert re.search(r"Removed</th><td class=\"num\">5<", preview.text)  # make_cycle's entries
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                            preview.text).group(1)
    form = {"csrf_token": csrf_token(preview.text), "fingerprint": fingerprint,
            "confirm_removed": "5", **mapping}
    with staff.session_transaction() as session:
        session[AUTHENTICATED_AT] -= 3600
    stale = staff.post(preview_url, data=form, headers={"Referer": "http://localhost/x"})
    assert stale.status_code == 302 and "/staff/reauth" in stale.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(RollEntry.id).where(RollEntry.roll_key_hash.is_not(None))) \
            is None
    _, email, password, secret = staff.account
    assert reauthenticate(staff, email, password, secret).status_code == 302
    done = staff.post(preview_url, data=form)
    assert done.status_code == 200 and "Voter roll imported" in done.text
    assert "Added 2, changed 0, removed 5" in done.text
    assert staff.get(preview_url).status_code == 404  # the stashed file is gone
    with app.app_context():
        cycle = get_cycle(slug)
        voter = voting.verify_by_roll(cycle, cycle.district_by_slug("ranked"), "Kim",
                                      dt.date(1981, 2, 2), "AB2")
        assert voter.method == "roll"


def test_a_confirmation_after_the_roll_changed_is_refused(app, staff, open_cycle):
    response = upload_roll(staff, open_cycle.slug, ROLL)
    preview_url = response.headers["Location"]
    mapping = {"map-0": "last_name", "map-1": "birth_date", "map-2": "postcode",
               "map-3": "district", "map-4": "roll_number"}
    preview = staff.get(preview_url, query_string=mapping)
    form = {"csrf_token": csrf_token(preview.text), "fingerprint": "0" * 32, **mapping}
    refused = staff.post(preview_url, data=form)
    assert refused.status_code == 409 and "changed since the preview" in refused.text


def test_access_codes_generate_print_download_once_vote_once_and_void(app, staff, open_cycle):
    slug = open_cycle.slug
    letters = post(staff, f"{BASE}/{slug}/codes", {"district": "approval", "count": "3"})
    assert letters.status_code == 200
    assert letters.headers["Cache-Control"] == "no-store"
    codes = re.findall(r'<p class="letter-code"><code>([0-9A-Z-]+)</code>', letters.text)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert all(access_code_is_well_formed(normalise_access_code(c)) for c in codes)
    assert letters.text.count('class="letter"') == 3 and "Approval" in letters.text
    export = re.search(r'href="(/staff/cycles/[^"]+/codes/export/[^"]+)"', letters.text).group(1)
    downloaded = staff.get(export)
    assert downloaded.status_code == 200 and downloaded.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(downloaded.text)))
    assert [r["access_code"] for r in rows] == codes and rows[0]["district"] == "approval"
    assert staff.get(export).status_code == 404  # once only
    with app.app_context():
        stored = db.session.scalars(select(AccessCode.code_hash)).all()
        for code in codes:
            assert code not in " ".join(stored)
            assert voting.access_code_hash(normalise_access_code(code)) in stored
        logged = db.session.scalar(select(LogEntry.entry_json).where(
            LogEntry.kind == "access_codes.generated"))
        assert '"count":3' in logged and codes[0] not in logged

    with app.app_context(), write_intent():
        cycle = get_cycle(slug)
        district = cycle.district_by_slug("approval")
        voter = voting.verify_by_code(cycle, district, codes[0].lower())
        voting.cast_ballot(voter, ["AP-A"])
        db.session.commit()
        with pytest.raises(AlreadyVoted):
            voting.verify_by_code(cycle, district, codes[0])
        db.session.rollback()

    page = staff.get(f"{BASE}/{slug}/codes")
    response = staff.post(f"{BASE}/{slug}/codes/void",
                          data={"csrf_token": csrf_token(page.text), "code": codes[1]})
    assert response.status_code == 200 and "The code is now void" in response.text
    used = staff.post(f"{BASE}/{slug}/codes/void",
                      data={"csrf_token": csrf_token(page.text), "code": codes[0]})
    assert used.status_code == 409 and "already been used" in used.text
    nonsense = staff.post(f"{BASE}/{slug}/codes/void",
                          data={"csrf_token": csrf_token(page.text), "code": "hello"})
    assert nonsense.status_code == 422
    with app.app_context():
        cycle = get_cycle(slug)
        with pytest.raises(NotEligible):
            voting.verify_by_code(cycle, cycle.district_by_slug("approval"), codes[1])
        assert db.session.scalar(select(LogEntry.id).where(LogEntry.kind == "access_code.voided"))
    too_many = post(staff, f"{BASE}/{slug}/codes", {"district": "approval", "count": "0"})
    assert too_many.status_code == 422


def test_a_roll_larger_than_the_general_upload_limit_is_accepted_from_staff(app, staff,
                                                                           open_cycle):
    limit = app.config["MAX_CONTENT_LENGTH"]
    row = "Lee,1980-01-01,AB1,approval,R{n}," + "x" * 180 + "\n"
    text = "last_name,birth_date,postcode,district,roll_number,display_name\n" + "".join(
        row.format(n=n) for n in range(limit // 200 + 10))
    assert len(text) > limit
    response = upload_roll(staff, open_cycle.slug, text)
    # accepted: a file this large is previewed by a job, whose progress page answers
    assert response.status_code == 303 and "/staff/jobs/" in response.headers["Location"]
    assert app.test_client().post(f"{BASE}/{open_cycle.slug}/roll", data={
        "file": (io.BytesIO(text.encode()), "roll.csv")},
        content_type="multipart/form-data").status_code == 413  # not for visitors


def test_online_self_declaration_is_switched_on_in_the_settings(app, staff):
    assert post(staff, f"{BASE}/new", {**CYCLE_FORM, "online_self_declaration": "y"}
                ).status_code == 302
    with app.app_context():
        assert get_cycle(CYCLE_FORM["slug"]).online_self_declaration is True
    assert post(staff, f"{BASE}/{CYCLE_FORM['slug']}/settings", CYCLE_FORM).status_code == 302
    with app.app_context():
        assert get_cycle(CYCLE_FORM["slug"]).online_self_declaration is False


def test_deleting_a_district_needs_the_tick_and_without_it_nothing_is_deleted(app, staff):
    """Issue 15: "Delete district" used to go at one click. Without the tick: 422, the page
    again with the message on the tick box and the district's stored values, nothing deleted."""
    from tests.security.helpers import changed_tables, fingerprint

    slug = make_setup_cycle(staff, app)
    path = f"{BASE}/{slug}/districts/north"
    page = staff.get(path)
    assert 'name="confirm_delete"' in page.text
    assert "also deletes its 3 projects" in page.text
    before = fingerprint(app)
    refused = staff.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 422
    checked = assert_linked_summary(refused, ["confirm_delete"])
    assert "Tick the box to confirm that North and its 3 projects are deleted" in \
        checked.summary_text
    assert checked.by_id["name"]["value"] == "North"  # the stored district, not the empty POST
    assert not changed_tables(before, fingerprint(app))
    with app.app_context():
        assert get_cycle(slug).district_by_slug("north") is not None
    deleted = staff.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text),
                                                 "confirm_delete": "y"})
    assert deleted.status_code == 302
    with app.app_context():
        assert get_cycle(slug).district_by_slug("north") is None
        assert db.session.scalar(select(Project.id).where(Project.code == "N-1")) is None
        assert db.session.scalar(select(LogEntry.id).where(LogEntry.kind == "district.deleted"))


def test_deleting_a_project_needs_the_tick_and_without_it_nothing_is_deleted(app, staff):
    """"Delete this project" went at one click, unlike "Delete district". Without the tick:
    422, the project page again with the message on the tick box and the stored values."""
    from tests.security.helpers import changed_tables, fingerprint

    slug = make_setup_cycle(staff, app)
    path = f"{BASE}/{slug}/projects/N-1"
    page = staff.get(path)
    assert 'name="confirm_delete"' in page.text
    before = fingerprint(app)
    refused = staff.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 422
    checked = assert_linked_summary(refused, ["confirm_delete"])
    assert "Tick the box to confirm that" in checked.summary_text
    assert "nothing was deleted" in refused.text
    assert 'id="confirm_delete-error"' in refused.text
    assert checked.by_id["code"]["value"] == "N-1"  # the stored project, not the empty POST
    assert not changed_tables(before, fingerprint(app))
    with app.app_context():
        assert db.session.scalar(select(Project.id).where(Project.code == "N-1")) is not None
    deleted = staff.post(f"{path}/delete", data={"csrf_token": csrf_token(page.text),
                                                 "confirm_delete": "y"})
    assert deleted.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Project.id).where(Project.code == "N-1")) is None
        assert db.session.scalar(select(LogEntry.id).where(LogEntry.kind == "project.deleted"))
