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
