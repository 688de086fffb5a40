"""Public pages: cycles, their phases, districts and projects."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory

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
