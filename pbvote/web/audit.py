"""The read-only audit area for auditors (and administrators); issue #6 fills it in."""
from __future__ import annotations

from flask import Blueprint, render_template

from pbvote.db import utcnow
from pbvote.services.cycles import list_cycles
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("audit", __name__, url_prefix="/audit")
set_policy(bp.name, require_roles("auditor", "admin"))


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index():
    return render_template("audit/index.html", cycles=list_cycles(), now=utcnow())
