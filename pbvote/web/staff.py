"""The staff area: the dashboard; other staff blueprints hang their pages off it."""
from __future__ import annotations

from flask import Blueprint, render_template

from pbvote.db import utcnow
from pbvote.services.cycles import list_cycles
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("staff", __name__, url_prefix="/staff")
set_policy(bp.name, require_roles("staff", "admin"))


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def dashboard():
    return render_template("staff/dashboard.html", cycles=list_cycles(), now=utcnow())
