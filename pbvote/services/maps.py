"""The map of a cycle: district outlines uploaded by staff, places picked by residents for
their ideas and set by staff for projects, and what the public map shows.

The exact place of an idea stays with its author and staff; everything public goes through
``rules.geo.public_point`` (about 100 m), so nobody's home is pinned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select

from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, DistrictOutline, Project, Proposal
from pbvote.rules import geo
from pbvote.rules.ballots import Reason
from pbvote.services import log
from pbvote.services.errors import DomainError


class MapRefused(DomainError):
    def __init__(self, reasons: list[Reason], status: int = 422):
        super().__init__(reasons[0].message if len(reasons) == 1 else _(
            "The map information was not saved. Please correct the problems listed."),
            status, reasons)


# ---------------------------------------------------------------------------
# Outlines

def outlines(cycle: Cycle) -> dict[int, tuple[geo.Polygon, ...]]:
    """district id → its polygons, for every outlined district of the cycle."""
    rows = db.session.execute(select(DistrictOutline.district_id, DistrictOutline.polygons)
                              .where(DistrictOutline.cycle_id == cycle.id))
    return {district_id: geo.polygons_from_json(text) for district_id, text in rows}


def check_outlines(cycle: Cycle, data: bytes) -> geo.OutlineFile:
    """Read an uploaded file; every problem at once (by feature), nothing stored."""
    checked, reasons = geo.read_outlines(data, [d.slug for d in cycle.districts])
    if checked is None:
        raise MapRefused(reasons)
    return checked


def save_outlines(cycle: Cycle, checked: geo.OutlineFile, actor: str) -> int:
    """Replace the cycle's outlines with a checked file's; returns how many were stored.
    Districts the file does not name lose their outline."""
    db.session.execute(delete(DistrictOutline).where(DistrictOutline.cycle_id == cycle.id))
    for slug, polygons in checked.outlines.items():
        district = cycle.district_by_slug(slug)
        db.session.add(DistrictOutline(cycle_id=cycle.id, district_id=district.id,
                                       polygons=geo.polygons_to_json(polygons)))
    db.session.flush()
    log.record_action(cycle.chain_id, "map.outlines", actor, {
        "cycle": cycle.slug, "districts": sorted(checked.outlines),
        "positions": checked.positions})
    return len(checked.outlines)


# ---------------------------------------------------------------------------
# Points

def point_problems(cycle: Cycle, district: District | None, point: geo.Point,
                   field: str = "point") -> list[Reason]:
    """A place must lie in its district's outline; with no outline for the district, in the
    city's (any outline); with no outlines at all, anywhere."""
    shapes = outlines(cycle)
    own = shapes.get(district.id) if district is not None else None
    if own is not None:
        if geo.in_outline(point, own):
            return []
        return [Reason(field, "point_outside_district", _(
            "This place is outside the district %(district)s. Pick a place inside it, or "
            "choose the district the place is in.", district=district.name))]
    if shapes and not any(geo.in_outline(point, p) for p in shapes.values()):
        return [Reason(field, "point_outside_city", _(
            "This place is outside the area of this cycle's districts."))]
    return []


def read_point(cycle: Cycle, district: District | None, text: str | None,
               field: str = "point") -> tuple[geo.Point | None, list[Reason]]:
    point, reasons = geo.parse_point(text, field)
    if point is not None:
        reasons = point_problems(cycle, district, point, field)
    return (point if not reasons else None), reasons


def point_of(row: Project | Proposal) -> geo.Point | None:
    if row.lat_e6 is None or row.lon_e6 is None:
        return None
    return geo.Point(row.lat_e6, row.lon_e6)


def set_point(row: Project | Proposal, point: geo.Point | None) -> None:
    row.lat_e6, row.lon_e6 = (point.lat, point.lon) if point is not None else (None, None)


def set_project_points(cycle: Cycle, texts: dict[str, str], actor: str) -> int:
    """Set each project's place from "lat, lon" text keyed by project code (blank clears).
    Every problem is reported, and nothing is saved unless all are right. Returns how many
    projects changed."""
    reasons: list[Reason] = []
    wanted: dict[Project, geo.Point | None] = {}
    for district in cycle.districts:
        for project in district.projects:
            if project.code not in texts:
                continue
            field = f"point-{project.code}"
            point, problems = read_point(cycle, district, texts[project.code], field)
            reasons += [Reason(r.field, r.code, f"{project.title}: {r.message}")
                        for r in problems]
            wanted[project] = point
    if reasons:
        raise MapRefused(reasons)
    changed = {}
    for project, point in wanted.items():
        before = point_of(project)
        if before != point:
            set_point(project, point)
            changed[project.code] = point.as_text() if point else None
    if changed:
        db.session.flush()
        log.record_action(cycle.chain_id, "map.project_points", actor,
                          {"cycle": cycle.slug, "points": changed})
    return len(changed)


# ---------------------------------------------------------------------------
# What the public map shows

@dataclass(frozen=True)
class Marker:
    kind: str  # "project" or "idea"
    title: str
    url_args: dict
    district_id: int | None
    #: where the map shows it: a project's own place, an idea's grid cell
    point: geo.Point
    #: the project or idea itself, so the page can show its title in the reader's language
    subject: object = field(default=None, compare=False)


def public_markers(cycle: Cycle) -> list[Marker]:
    """Ballot projects with a place, then publicly visible ideas with a place (snapped),
    newest first."""
    from pbvote.services.proposals import publicly_visible

    markers = [Marker("project", p.title, {"slug": cycle.slug, "code": p.code}, d.id,
                      point_of(p), p)
               for d in cycle.districts for p in d.projects if point_of(p) is not None]
    ideas = db.session.scalars(
        select(Proposal).where(Proposal.cycle_id == cycle.id, Proposal.lat_e6.is_not(None))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc()).limit(1000))
    markers += [Marker("idea", p.title, {"slug": cycle.slug, "proposal_id": p.id},
                       p.district_id, geo.public_point(point_of(p)), p)
                for p in ideas if publicly_visible(p)]
    return markers
