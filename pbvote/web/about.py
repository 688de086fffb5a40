"""Pages that explain: how a cycle's count works (with a worked example counted by the real
engine), and the statements every page's footer links to: accessibility, privacy, contact."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from pbvote.i18n_hook import translate
from pbvote.rules.worked_example import worked_example
from pbvote.services.cycles import get_cycle
from pbvote.tally.registry import RULES
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("about", __name__)
set_policy(bp.name, allow_anyone)


@bp.get("/cycles/<slug>/how-it-works")
def how_it_works(slug: str):
    cycle = get_cycle(slug)
    districts = []
    for district in cycle.districts:
        spec = RULES.get(district.tally_rule)
        districts.append({
            "district": district, "design": district.ballot_design(),
            "rule": translate(spec.description) if spec else district.tally_rule,
            "example": worked_example(district.ballot_kind, district.tally_rule,
                                      district.tally_parameters)})
    return render_template("about/how_it_works.html", cycle=cycle, districts=districts)


@bp.get("/accessibility")
def accessibility():
    return render_template("about/accessibility.html", office=_office())


@bp.get("/privacy")
def privacy():
    from pbvote.services.retention import retention_days

    return render_template("about/privacy.html", office=_office(),
                           retention_days=retention_days(current_app.config))


@bp.get("/contact")
def contact():
    return render_template("about/contact.html", office=_office())


def _office() -> dict:
    """The city's participatory-budgeting office, from configuration (PB_OFFICE)."""
    return dict(current_app.config.get("PB_OFFICE") or {})
