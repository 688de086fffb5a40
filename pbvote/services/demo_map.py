"""The demo's map: the fictional Riverton districts from static/demo/riverton-districts.geojson
(read and checked like a staff upload), a place for each demo project that has one, and a
place for most demo ideas. Programmes that cover a whole district have no single place."""
from __future__ import annotations

from pathlib import Path

from pbvote.models import Cycle
from pbvote.services import maps

OUTLINES_FILE = (Path(__file__).resolve().parents[2] / "static" / "demo"
                 / "riverton-districts.geojson")

#: project code → "lat, lon"
PROJECT_POINTS = {
    "NB-1": "44.9655, -93.1150", "NB-2": "44.9690, -93.0985", "NB-3": "44.9620, -93.0820",
    "NB-4": "44.9700, -93.1080",
    "OT-1": "44.9500, -93.1150", "OT-2": "44.9440, -93.1050", "OT-3": "44.9540, -93.1200",
    "ES-2": "44.9480, -93.0850", "ES-3": "44.9530, -93.0760", "ES-4": "44.9420, -93.0900",
    "ES-5": "44.9450, -93.0780",
}

#: idea title (demo_ideas.IDEAS) → "lat, lon", the spot its author picked
IDEA_POINTS = {
    "Brighter lights on the Canal Street steps": "44.963412, -93.101876",
    "A covered skate corner at Church Lane park": "44.947731, -93.112264",
    "Walking bus to Eastside Primary": "44.950218, -93.083395",
    "20 mph zone around the market square": "44.966945, -93.089120",
}


def add_outlines(cycle: Cycle) -> int:
    checked = maps.check_outlines(cycle, OUTLINES_FILE.read_bytes())
    return maps.save_outlines(cycle, checked, "demo")


def place_projects(cycle: Cycle) -> int:
    codes = {p.code for d in cycle.districts for p in d.projects}
    return maps.set_project_points(
        cycle, {code: text for code, text in PROJECT_POINTS.items() if code in codes}, "demo")
