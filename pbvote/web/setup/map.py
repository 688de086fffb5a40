"""Set-up page for the map: district outlines from a GeoJSON file (checked, previewed, then
saved; a bad file stores nothing and lists its problems by feature) and each project's place.
Neither is part of the ballot, so both may change after voting opens."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext

from pbvote.models import Cycle
from pbvote.rules import geo
from pbvote.rules.ballots import Reason
from pbvote.services import maps
from pbvote.services.cycles import get_cycle
from pbvote.web.forms.base import ControlCharacterRefused, refuse_control_characters_in
from pbvote.web.maps import map_payload
from pbvote.web.setup import _actor, bp, confirm_saved


def _page(cycle: Cycle, status: int = 200, reasons=(), preview=None, geojson: str = "",
          typed: dict | None = None):
    shapes = maps.outlines(cycle)
    shown = preview.outlines if preview is not None else None
    if shown is not None:
        shapes = {cycle.district_by_slug(slug).id: polygons for slug, polygons in shown.items()}
    projects = [(d, p) for d in cycle.districts for p in d.projects]
    points = typed if typed is not None else {
        p.code: (maps.point_of(p).as_text() if maps.point_of(p) else "") for _d, p in projects}
    return render_template(
        "staff/setup/map.html", cycle=cycle, reasons=list(reasons), preview=preview,
        geojson=geojson, outlined={d.id for d in cycle.districts if d.id in shapes},
        projects=projects, points=points,
        fields=["outlines"] + [f"point-{p.code}" for _d, p in projects],
        payload=map_payload(cycle, shapes=shapes) if shapes else None), status


@bp.get("/<slug>/map")
def map_setup(slug: str):
    return _page(get_cycle(slug))


@bp.post("/<slug>/map/outlines")
def map_outlines(slug: str):
    """With a file: check it and show a preview (nothing stored). With the checked text sent
    back from the preview and "save": check it again and store it."""
    cycle = get_cycle(slug)
    upload = request.files.get("outlines")
    if upload is not None and upload.filename:
        data = upload.stream.read(geo.MAX_FILE_BYTES + 1)
    else:
        data = request.form.get("geojson", "").encode("utf-8")
    if not data:
        return _page(cycle, 422, [Reason("outlines", "outline_missing",
                                         gettext("Choose a GeoJSON file to upload."))])
    try:
        checked = maps.check_outlines(cycle, data)
    except maps.MapRefused as refused:
        return _page(cycle, refused.status, refused.reasons)
    if request.form.get("save") != "1":
        return _page(cycle, 200, preview=checked, geojson=data.decode("utf-8-sig"))
    count = maps.save_outlines(cycle, checked, _actor())
    confirm_saved(gettext("Saved the outlines of %(count)s districts.", count=count))
    return redirect(url_for("staff_setup.map_setup", slug=cycle.slug))


@bp.post("/<slug>/map/points")
def map_points(slug: str):
    cycle = get_cycle(slug)
    texts = {p.code: request.form.get(f"point-{p.code}", "")
             for d in cycle.districts for p in d.projects
             if f"point-{p.code}" in request.form}
    try:
        refuse_control_characters_in(request.form, [f"point-{code}" for code in texts])
        maps.set_project_points(cycle, texts, _actor())
    except (maps.MapRefused, ControlCharacterRefused) as refused:
        return _page(cycle, refused.status, refused.reasons, typed=texts)
    confirm_saved()
    return redirect(url_for("staff_setup.map_setup", slug=cycle.slug))
