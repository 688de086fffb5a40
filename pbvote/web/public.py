"""Public pages: cycles, their phases, districts and projects."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from pbvote.infra.db import utcnow
from pbvote.services.cycles import get_cycle, list_cycles
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("public", __name__)
set_policy(bp.name, allow_anyone)


@bp.get("/")
def index():
    return render_template("public/index.html", cycles=list_cycles(), now=utcnow())


@bp.get("/cycles/<slug>")
def cycle(slug: str):
    cycle = get_cycle(slug)
    now = utcnow()
    return render_template("public/cycle.html", cycle=cycle, now=now,
                           phase=cycle.phase_at(now), voting_open=cycle.voting_open(now))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every site; answer with the icon, not a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/cycles/<slug>/projects/<code>")
def project(slug: str, code: str):
    """One ballot project: its texts, cost, place and image, the ideas it came from, and once
    results are published, how it fared and why."""
    from pbvote.services import proposals, publication
    from pbvote.web.results import snapshot_page_data

    cycle = get_cycle(slug)
    found = next((p for d in cycle.districts for p in d.projects if p.code == code), None)
    if found is None:
        abort(404)
    result = None
    snapshot = publication.published_results(cycle)
    if snapshot is not None:
        for district in snapshot_page_data(snapshot)["districts"]:
            result = next((p for p in district.projects if p.id == code), result)
    return render_template("public/project.html", cycle=cycle, project=found,
                           ideas=proposals.idea_links(cycle).get(found.id, []), result=result,
                           voting_open=cycle.voting_open(utcnow()))
