"""The map, end to end: staff upload district outlines (errors by feature, preview, nothing
stored until saved) and place projects; residents pick a place for an idea, checked against
the district; the public map and its list show projects exactly and ideas only to ~100 m;
the tile host is configuration and the only one the page's CSP allows."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.extensions import db
from pbvote.models import DistrictOutline, Project, Proposal
from tests.proposal_helpers import make_intake_cycle, sign_in_by_email, token
from tests.staff_helpers import login, make_account

WEST = [[-74.01, 40.70], [-74.00, 40.70], [-74.00, 40.71], [-74.01, 40.71], [-74.01, 40.70]]
EAST = [[-74.00, 40.70], [-73.99, 40.70], [-73.99, 40.71], [-74.00, 40.71], [-74.00, 40.70]]
IDEA = {"title": "Bench by the pond", "description": "Somewhere to sit.",
        "category": "Street lighting", "district": "approval", "location": "The pond",
        "cost_estimate": ""}
#: an exact spot inside the west square (district "approval")
HOME = "40.704321, -74.006789"


def outlines_file(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"district": slug},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for slug, ring in features]}).encode()


GOOD = outlines_file(("approval", WEST), ("knapsack", EAST))


@pytest.fixture
def site(app):
    with app.app_context():
        make_intake_cycle()
        staff = make_account("staff")
    staff_client = app.test_client()
    login(staff_client, staff[1], staff[2], staff[3])
    resident = app.test_client()
    sign_in_by_email(resident, "ada@example.org")
    return {"app": app, "staff": staff_client, "resident": resident}


def _upload(client, data: bytes, name="districts.geojson"):
    return client.post("/staff/cycles/test-cycle/map/outlines",
                       data={"csrf_token": token(client, "/staff/cycles/test-cycle/map"),
                             "outlines": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _outline_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DistrictOutline))


def _save_outlines(site, data=GOOD):
    preview = _upload(site["staff"], data)
    assert preview.status_code == 200, preview.text[:2000]
    geojson = re.search(r'<textarea name="geojson"[^>]*>(.*?)</textarea>', preview.text,
                        re.S).group(1)
    import html

    saved = site["staff"].post("/staff/cycles/test-cycle/map/outlines", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "geojson": html.unescape(geojson), "save": "1"})
    assert saved.status_code == 302, saved.text[:2000]


def _send_idea(client, **changes):
    data = {**IDEA, **changes, "csrf_token": token(client, "/cycles/test-cycle/ideas/new")}
    return client.post("/cycles/test-cycle/ideas/new", data=data,
                       content_type="multipart/form-data")


def test_a_bad_outline_file_lists_its_problems_by_feature_and_stores_nothing(site):
    bad = outlines_file(("approval", WEST), ("nowhere", EAST), ("knapsack", WEST[:3]))
    response = _upload(site["staff"], bad)
    assert response.status_code == 422
    assert "Feature 2:" in response.text and "nowhere" in response.text
    assert "Feature 3:" in response.text and "fewer than four" in response.text
    assert _outline_count(site["app"]) == 0
    assert _upload(site["staff"], b"{oops").status_code == 422
    assert _upload(site["staff"], b"").status_code == 422
    assert _outline_count(site["app"]) == 0


def test_outlines_are_previewed_then_saved_and_replace_the_old_ones(site):
    preview = _upload(site["staff"], GOOD)
    assert preview.status_code == 200 and "Save these outlines" in preview.text
    assert _outline_count(site["app"]) == 0  # a preview stores nothing
    _save_outlines(site)
    assert _outline_count(site["app"]) == 2
    _save_outlines(site, outlines_file(("ranked", WEST)))
    assert _outline_count(site["app"]) == 1
    page = site["staff"].get("/staff/cycles/test-cycle/map")
    assert page.status_code == 200 and "outlined" in page.text


def test_a_tampered_preview_is_checked_again_before_saving(site):
    response = site["staff"].post("/staff/cycles/test-cycle/map/outlines", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "geojson": outlines_file(("nowhere", WEST)).decode(), "save": "1"})
    assert response.status_code == 422 and _outline_count(site["app"]) == 0


def test_project_places_are_all_checked_before_any_is_saved(site):
    _save_outlines(site)
    url = "/staff/cycles/test-cycle/map/points"
    refused = site["staff"].post(url, data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "point-AP-A": "40.705, -74.005", "point-KN-A": "40.705, -74.005",  # in the wrong one
        "point-RA-A": "north of the river"})
    assert refused.status_code == 422
    assert "outside the district Knapsack" in refused.text
    assert "decimal degrees" in refused.text
    with site["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(Project).where(
            Project.lat_e6.is_not(None))) == 0
    saved = site["staff"].post(url, data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "point-AP-A": "40.705, -74.005", "point-KN-A": "40.705, -73.995"})
    assert saved.status_code == 302
    with site["app"].app_context():
        placed = {p.code: (p.lat_e6, p.lon_e6) for p in db.session.scalars(
            select(Project).where(Project.lat_e6.is_not(None)))}
    assert placed == {"AP-A": (40_705_000, -74_005_000), "KN-A": (40_705_000, -73_995_000)}


def test_an_idea_place_must_be_in_its_district_and_well_formed(site):
    _save_outlines(site)
    outside = _send_idea(site["resident"], point="40.705, -73.995")  # in the east square
    assert outside.status_code == 422 and "outside the district Approval" in outside.text
    malformed = _send_idea(site["resident"], point="40.7; -74; 3")
    assert malformed.status_code == 422 and "decimal degrees" in malformed.text
    far = _send_idea(site["resident"], point="95, 10")
    assert far.status_code == 422 and "between -90 and 90" in far.text
    with site["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0
    sent = _send_idea(site["resident"], point=HOME)
    assert sent.status_code == 302
    own = site["resident"].get(sent.headers["Location"])
    assert "The place you picked: 40.704321, -74.006789" in own.text  # the author sees it
    public = site["app"].test_client().get("/cycles/test-cycle/ideas/1")
    assert "See it on the map" in public.text and "40.704321" not in public.text
    assert _send_idea(site["resident"], title="No place").status_code == 302  # optional
    with site["app"].app_context():
        rows = {p.title: (p.lat_e6, p.lon_e6) for p in db.session.scalars(select(Proposal))}
    assert rows == {"Bench by the pond": (40_704_321, -74_006_789), "No place": (None, None)}


def test_without_outlines_any_place_is_accepted(site):
    assert _send_idea(site["resident"], point="51.5, -0.12").status_code == 302


def test_the_idea_form_offers_the_map_and_the_text_field(site):
    _save_outlines(site)
    page = site["resident"].get("/cycles/test-cycle/ideas/new")
    assert 'id="point"' in page.text and 'id="point-map"' in page.text
    data = json.loads(re.search(r'id="point-map-data">(.*?)</script>', page.text,
                                re.S).group(1))
    assert data["picker"] == "point" and len(data["outlines"]) == 2 and data["tiles"] is None


def test_the_public_map_shows_ideas_only_coarsely_and_lists_everything(site):
    _save_outlines(site)
    site["staff"].post("/staff/cycles/test-cycle/map/points", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "point-AP-A": "40.705, -74.005"})
    assert _send_idea(site["resident"], point=HOME).status_code == 302
    page = site["app"].test_client().get("/cycles/test-cycle/map")
    assert page.status_code == 200
    assert "40.704321" not in page.text and "74.006789" not in page.text
    # only the cell's centre, in the list and in the map's data
    assert re.findall(r"40\.704\d*", page.text) and set(re.findall(r"40\.704\d*", page.text)) \
        <= {"40.7045", "40.704500"}
    assert "40.704500, -74.006500" in page.text  # the list: the grid cell's centre
    assert "Bench by the pond" in page.text and "Project A" in page.text
    assert "40.705000, -74.005000" in page.text  # a project's own place
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', page.text, re.S).group(1))
    idea = next(m for m in data["markers"] if m["kind"] == "idea")
    assert (idea["lat"], idea["lon"]) == (40.7045, -74.0065)
    # the default loads nothing from elsewhere
    assert data["tiles"] is None
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy and "https:" not in policy


def test_hidden_ideas_leave_the_map(site):
    assert _send_idea(site["resident"], point=HOME).status_code == 302
    with site["app"].app_context():
        db.session.execute(Proposal.__table__.update().values(hidden=True))
        db.session.commit()
    page = site["app"].test_client().get("/cycles/test-cycle/map")
    assert "Bench by the pond" not in page.text


def test_a_configured_tile_server_is_the_one_host_the_csp_allows(site):
    site["app"].config["MAP_TILES"] = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    site["app"].config["MAP_ATTRIBUTION"] = "<b>Example</b> contributors"
    _save_outlines(site)
    page = site["app"].test_client().get("/cycles/test-cycle/map")
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "script-src 'self';" in policy
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', page.text, re.S).group(1))
    assert data["tiles"]["url"].startswith("https://{s}.tiles.example.org")
    assert "<b>" not in page.text  # the credit is escaped in the page's JSON
    other = site["app"].test_client().get("/cycles/test-cycle")
    assert "tiles.example.org" not in other.headers["Content-Security-Policy"]


def test_an_unsafe_tile_setting_stops_the_app_at_start(engine_name, migrated_urls, tmp_path,
                                                       monkeypatch):
    from pbvote import create_app

    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PBVOTE_MAP_TILES", "http://tiles.example.org/{z}/{x}/{y}.png")
    with pytest.raises(ValueError, match="https"):
        create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name))


def test_the_map_page_works_for_a_cycle_without_places(client, app):
    with app.app_context():
        make_intake_cycle()
    page = client.get("/cycles/test-cycle/map")
    assert page.status_code == 200 and "No project or idea has a place" in page.text
    assert 'id="map"' not in page.text  # nothing to draw: no empty map box
    assert client.get("/cycles/no-such-cycle/map").status_code == 404


def test_the_author_changes_or_removes_the_place_of_an_idea(site):
    _save_outlines(site)
    sent = _send_idea(site["resident"], point=HOME)
    edit_url = sent.headers["Location"].split("?")[0] + "/edit"
    form = site["resident"].get(edit_url)
    assert f'value="{HOME}"' in form.text
    data = {**IDEA, "csrf_token": token(site["resident"], edit_url)}
    wrong = site["resident"].post(edit_url, data={**data, "point": "40.705, -73.995"},
                                  content_type="multipart/form-data")
    assert wrong.status_code == 422
    with site["app"].app_context():
        assert db.session.scalar(select(Proposal.lat_e6)) == 40_704_321  # unchanged
    cleared = site["resident"].post(edit_url, data={**data, "point": ""},
                                    content_type="multipart/form-data")
    assert cleared.status_code == 302
    with site["app"].app_context():
        assert db.session.execute(select(Proposal.lat_e6, Proposal.lon_e6)).one() == (None, None)


def test_the_map_shows_titles_in_the_readers_language(site):
    """A Spanish reader sees the city's Spanish title in the list and in the map's data."""
    from pbvote.infra.db import write_intent
    from pbvote.services.translations import save_translations

    site["staff"].post("/staff/cycles/test-cycle/map/points", data={
        "csrf_token": token(site["staff"], "/staff/cycles/test-cycle/map"),
        "point-AP-A": "40.705, -74.005"})
    with site["app"].app_context():
        with write_intent():
            project = db.session.scalar(select(Project).where(Project.code == "AP-A"))
            save_translations(project, {("es", "title"): "Proyecto A en español"}, "staff")
            db.session.commit()
    reader = site["app"].test_client()
    reader.set_cookie("pbvote_lang", "es")
    page = reader.get("/cycles/test-cycle/map")
    data = json.loads(re.search(r'id="map-data">(.*?)</script>', page.text, re.S).group(1))
    assert [m["title"] for m in data["markers"]] == ["Proyecto A en español"]
    the_list = page.text.split('id="map-data"')[1].split("</script>", 1)[1]
    assert "Proyecto A en español" in the_list and "Project A" not in the_list
