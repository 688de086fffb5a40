"""Issue #17, the map: in the demo (offline default, no tile server) the public map draws the
district outlines and the points from the vendored Leaflet and asks no other host for
anything; its markers work with the keyboard; without JavaScript the list says the same; a
resident picks the place of an idea with a click. axe: 0 serious or critical, en/es/zh,
1280 and 375 px."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Proposal
from pbvote.rules import geo
from pbvote.services import maps
from pbvote.services.cycles import get_cycle


def _hosts(session) -> set[str]:
    hosts: set[str] = set()
    session.page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    return hosts


def test_the_demo_map_works_offline_by_keyboard_and_without_javascript(app, people, runner):
    assert runner.invoke(args=["demo", "--voters", "6"]).exit_code == 0
    session = people()
    hosts = _hosts(session)
    page = session.page
    page.goto("/cycles/safer-streets-2027")
    page.get_by_role("link", name="Map of projects and ideas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Map of projects and ideas")
    expect(page.locator("#map")).to_be_visible()
    expect(page.locator("#map path.leaflet-interactive, #map path")).to_have_count(3)
    markers = page.locator("#map .leaflet-marker-icon")
    expect(markers).to_have_count(page.locator(".map-list li").count())
    # keyboard: a marker takes the focus and opens its popup with Enter
    marker = page.locator('#map .leaflet-marker-icon[alt^="Project: LED street lighting"]')
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name="LED street lighting on Harbor Avenue")).to_be_visible()
    session.check("map", screenshots=True)
    assert hosts == {urlsplit(session.server.url).netloc}, hosts  # nothing from elsewhere

    plain = people(java_script_enabled=False)
    plain.page.goto("/cycles/safer-streets-2028/map")
    expect(plain.page.locator("#map")).to_be_hidden()
    expect(plain.page.get_by_role("heading", name="The map as a list")).to_be_visible()
    plain.page.get_by_role("link", name="Walking bus to Eastside Primary").click()
    expect(plain.page.get_by_role("heading", level=1)).to_contain_text("Walking bus")
    plain.page.go_back()
    plain.check("map without JavaScript")


def test_a_resident_picks_the_place_of_an_idea_on_the_map(app, people, runner):
    assert runner.invoke(args=["demo", "--voters", "6"]).exit_code == 0
    session = people()
    page = session.page
    page.goto("/sign-in?next=/cycles/safer-streets-2028/ideas/new")
    page.locator("input[name=email]").fill("picker@example.org")
    page.locator("input[name=email]").press("Enter")
    outbox = session.context.new_page()
    outbox.goto("/dev/outbox")
    code = re.search(r"\b(\d{6})\b", outbox.content().split("picker@example.org", 1)[1])[1]
    outbox.close()
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    page.goto("/cycles/safer-streets-2028/ideas/new")
    expect(page.locator("#point-map")).to_be_visible()
    session.check("idea form with a map")
    page.locator("#title").fill("A bench on the towpath")
    page.locator("#description").fill("Somewhere to rest halfway along.")
    page.locator("#category").select_option(index=1)
    page.locator("#district").select_option("northbank")
    page.locator("#location").fill("The towpath")
    page.locator("#point-map").scroll_into_view_if_needed()
    box = page.locator("#point-map").bounding_box()
    # the upper middle of the map is Northbank (the demo's outlines)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.3)
    expect(page.locator("#point")).to_have_value(re.compile(r"^44\.9\d{5}, -93\.\d{6}$"))
    page.get_by_role("button", name="Send idea").click()
    expect(page).to_have_url(re.compile(r"/my/ideas/\d+"))
    with app.app_context():
        idea = db.session.scalar(select(Proposal).where(
            Proposal.title == "A bench on the towpath"))
        cycle = get_cycle("safer-streets-2028")
        northbank = maps.outlines(cycle)[cycle.district_by_slug("northbank").id]
        assert geo.in_outline(maps.point_of(idea), northbank)


def test_staff_upload_outlines_see_errors_by_feature_then_a_preview(app, people, tmp_path):
    import json

    from pbvote.infra.db import write_intent
    from pbvote.models import DistrictOutline
    from tests.e2e.test_staff_and_auditor import sign_in_staff
    from tests.factories import make_cycle

    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=1)
        db.session.commit()
    ring = [[-74.01, 40.70], [-74.00, 40.70], [-74.00, 40.71], [-74.01, 40.71], [-74.01, 40.70]]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"district": "nowhere"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"district": "approval"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    staff = sign_in_staff(app, people, "staff")
    page = staff.page
    page.goto(f"/staff/cycles/{made.slug}/map")
    staff.check("map set-up")
    # the upload pages answer a POST with a file, which cannot be sent again: the journey
    # uploads in each language, chosen with the language switcher, and scans each page
    for language in ("en", "es", "zh-Hans"):
        if language != "en":
            page.locator(f".language-switcher a[hreflang={language}]").click()
            expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("#outlines").set_input_files(str(bad))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("#error-summary")).to_contain_text("1")
        staff.axe("map set-up with errors", repeatable=False)
        page.goto(f"/staff/cycles/{made.slug}/map")
        page.locator("#outlines").set_input_files(str(good))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("#preview-map")).to_be_visible()
        staff.axe("map set-up preview", repeatable=False)
        page.goto(f"/staff/cycles/{made.slug}/map")
    page.locator(".language-switcher a[hreflang=en]").click()
    page.locator("#outlines").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#error-summary")).to_have_count(0)
    staff.screenshots("map set-up preview")
    with app.app_context():
        assert db.session.scalar(select(DistrictOutline.id)) is None  # a preview stores nothing
    page.get_by_role("button", name="Save these outlines").click()
    expect(page.get_by_text("Saved the outlines of 1 districts.")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(DistrictOutline.id)) is not None
