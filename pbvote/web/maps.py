"""The public map of a cycle's projects and ideas, with a list that says the same thing for
keyboard and screen-reader users and for browsers without JavaScript.

Tiles come from the server configured in MAP_TILES (PBVOTE_MAP_TILES), and the map page's
Content-Security-Policy allows that one host for images; with no tile server (the default)
the map draws only the district outlines and the points, and loads nothing from elsewhere.
Ideas are shown at the centre of their ~100 m grid cell (rules.geo.public_point).
"""
from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app, g, render_template, url_for
from flask_babel import gettext

from pbvote.models import Cycle
from pbvote.rules import geo
from pbvote.services import maps
from pbvote.services.cycles import get_cycle
from pbvote.web.content_translations import translated
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("maps", __name__)
set_policy(bp.name, allow_anyone)


@bp.record_once
def _check_tiles(state) -> None:
    # a tile setting the map cannot use safely stops the app at start, not on a page
    geo.tile_source(state.app.config.get("MAP_TILES"))


def tiles() -> dict | None:
    url = current_app.config.get("MAP_TILES")
    if not url:
        return None
    return {"url": url, "attribution": current_app.config.get("MAP_ATTRIBUTION") or ""}


def content_security_policy() -> str | None:
    """The app's CSP with the tile host added to img-src, or None (the default applies)."""
    from pbvote.web import CONTENT_SECURITY_POLICY

    source = geo.tile_source(current_app.config.get("MAP_TILES"))
    if source is None:
        return None
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:",
                                           f"img-src 'self' data: {source}")


@bp.after_app_request
def _map_policy(response):
    """A page that drew a map (map_payload) may load tiles from the tile host: its CSP says
    so. Runs after the app's security headers, so it replaces their default policy."""
    if g.get("map_drawn"):
        policy = content_security_policy()
        if policy is not None:
            response.headers["Content-Security-Policy"] = policy
    return response


@bp.app_context_processor
def _map_helpers():
    # place_of: a project's or an idea's exact point (for its author or staff), or None
    return {"map_payload": map_payload, "place_of": maps.point_of}


def outline_features(cycle: Cycle, shapes: dict | None = None) -> list[dict]:
    shapes = maps.outlines(cycle) if shapes is None else shapes
    return [{"type": "Feature", "properties": {"name": d.name},
             "geometry": geo.geojson_geometry(shapes[d.id])}
            for d in cycle.districts if d.id in shapes]


def map_payload(cycle: Cycle, markers=(), picker: str | None = None,
                shapes: dict | None = None) -> dict:
    """What static/js/map.js draws, embedded in the page as JSON (no extra request)."""
    g.map_drawn = True
    labels = {"project": gettext("Project"), "idea": gettext("Idea"),
              "picked": gettext("The place you picked"),
              "map": gettext("Map")}
    return {
        "tiles": tiles(),
        "outlines": outline_features(cycle, shapes),
        "markers": [{"kind": m.kind, "title": m.title, "url": _marker_url(m),
                     "lat": m.point.as_degrees()[0], "lon": m.point.as_degrees()[1]}
                    for m in markers],
        "picker": picker,
        "labels": labels,
    }


def _marker_url(marker: maps.Marker) -> str:
    if marker.kind == "project":
        return url_for("public.project", **marker.url_args)
    return url_for("ideas.detail", **marker.url_args)


@bp.get("/cycles/<slug>/map")
def page(slug: str):
    cycle = get_cycle(slug)
    # titles in the reader's language, where the city translated them
    markers = [dataclasses.replace(m, title=translated(m.subject, "title"))
               for m in maps.public_markers(cycle)]
    shapes = maps.outlines(cycle)
    by_district = {d.id: [m for m in markers if m.district_id == d.id] for d in cycle.districts}
    elsewhere = [m for m in markers if m.district_id not in by_district]
    return render_template(
        "maps/page.html", cycle=cycle, markers=markers, by_district=by_district,
        elsewhere=elsewhere, outlined=set(shapes),
        payload=map_payload(cycle, markers, shapes=shapes), grid_metres=111)
