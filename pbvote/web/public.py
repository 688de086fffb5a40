"""Public pages: cycles, their phases, districts and projects."""
from __future__ import annotations

from flask import Blueprint, render_template

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
    window = cycle.phase_window("voting")
    return render_template("public/cycle.html", cycle=cycle, now=now,
                           phase=cycle.phase_at(now), voting_open=cycle.voting_open(now),
                           voting_closed=window is not None and now >= window.ends_at)
