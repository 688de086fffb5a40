"""The demo ships its fictional district outlines and places: both demo cycles are outlined,
their projects and ideas are on the map, and the ideas' exact spots are not public."""
from __future__ import annotations

from sqlalchemy import func, select

from pbvote.infra.extensions import db
from pbvote.models import DistrictOutline, Project, Proposal
from pbvote.rules import geo
from pbvote.services import maps
from pbvote.services.cycles import get_cycle
from pbvote.services.demo_map import IDEA_POINTS, OUTLINES_FILE


def test_the_demo_file_is_a_valid_outline_of_the_demo_districts():
    checked, reasons = geo.read_outlines(OUTLINES_FILE.read_bytes(),
                                         ["northbank", "old-town", "eastside"])
    assert reasons == [] and set(checked.outlines) == {"northbank", "old-town", "eastside"}


def test_the_demo_cycles_have_outlines_and_places(app, runner):
    seeded = runner.invoke(args=["demo", "--voters", "6"])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DistrictOutline)) == 6
        placed = db.session.scalar(select(func.count()).select_from(Project).where(
            Project.lat_e6.is_not(None)))
        assert placed >= 10
        ideas = db.session.scalar(select(func.count()).select_from(Proposal).where(
            Proposal.lat_e6.is_not(None)))
        assert ideas == len(IDEA_POINTS)
        for slug in ("safer-streets-2027", "safer-streets-2028"):
            assert len(maps.outlines(get_cycle(slug))) == 3
    client = app.test_client()
    voting = client.get("/cycles/safer-streets-2027/map")
    assert voting.status_code == 200 and "LED street lighting on Harbor Avenue" in voting.text
    ideas_map = client.get("/cycles/safer-streets-2028/map")
    assert "Walking bus to Eastside Primary" in ideas_map.text
    for exact in IDEA_POINTS.values():
        assert exact.split(",")[0] not in ideas_map.text
    assert "44.950500, -93.083500" in ideas_map.text  # its ~100 m cell
