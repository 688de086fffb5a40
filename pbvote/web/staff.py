"""The staff area: the dashboard; other staff blueprints hang their pages off it."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from pbvote.infra.db import utcnow
from pbvote.services.cycles import list_cycles
from pbvote.web.guards import require_roles, set_policy
from pbvote.web.i18n import lazy_gettext as _l

bp = Blueprint("staff", __name__, url_prefix="/staff")
set_policy(bp.name, require_roles("staff", "admin"))

#: per-cycle pages of other staff blueprints, linked when they are registered
CYCLE_LINKS = (("staff_setup.overview", _l("Setup")), ("review.queue", _l("Ideas")),
               ("staff_results.overview", _l("Results")),
               ("staff_turnout.dashboard", _l("Turnout")), ("desk.index", _l("Desk")),
               ("paper.index", _l("Paper ballots")),
               ("declarations.overview", _l("Declarations")),
               ("delivery_staff.overview", _l("Delivery")))



@bp.get("/")
def dashboard():
    registered = current_app.view_functions
    return render_template(
        "staff/dashboard.html", cycles=list_cycles(include_archived=True), now=utcnow(),
        cycle_links=[(endpoint, label) for endpoint, label in CYCLE_LINKS
                     if endpoint in registered],
        can_create_cycle="staff_setup.new_cycle" in registered)
