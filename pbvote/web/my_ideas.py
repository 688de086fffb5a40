"""A signed-in resident's ideas: send one, change it until review starts, follow its status
and every reason staff give, answer a question, support other ideas.

Policy: a signed-in resident account. Visitors go to the email sign-in; staff, auditor and
admin accounts get 403 (they do not send ideas with their staff accounts).
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.services import images, maps, proposals
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.base import (
    ControlCharacterRefused,
    control_character_reasons,
    refuse_control_characters_in,
)
from pbvote.web.guards import current_path, set_policy

bp = Blueprint("my_ideas", __name__)


def require_resident():
    if current_user.is_authenticated:
        if not current_user.has_role("resident"):
            abort(403)
        return None
    next_path = current_path() if request.method == "GET" else None
    return redirect(url_for("resident_auth.sign_in", next=next_path))


set_policy(bp.name, require_resident)



def _me():
    return current_user._get_current_object()


def _own_proposal(proposal_id: int):
    proposal = proposals.get_proposal(proposal_id)
    if proposal.author_id != current_user.id:
        abort(404)  # other people's ideas are on the public board, not here
    return proposal


def _photo_upload():
    upload = request.files.get("photo")
    return upload.stream if upload is not None and upload.filename else None


def _fields() -> dict:
    return {name: request.form.get(name, "") for name in
            ("title", "description", "category", "district", "location", "cost_estimate",
             "point")}


def _errors_by_field(reasons) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for reason in reasons:
        errors.setdefault(reason.field, []).append(reason.message)
    return errors


@bp.get("/my/ideas")
def index():
    return render_template("my_ideas/index.html", ideas=proposals.ideas_of(_me()))


@bp.route("/cycles/<slug>/ideas/new", methods=["GET", "POST"])
def new(slug: str):
    cycle = get_cycle(slug)
    me = _me()
    config = proposals.intake_config(cycle)
    values, reasons, status = {}, [], 200
    if request.method == "POST":
        values = _fields()
        reasons = control_character_reasons(values)
        try:
            if reasons:
                raise DomainError(reasons[0].message, 422, reasons)
            proposal = proposals.submit(cycle, me, values, _photo_upload())
        except DomainError as refused:
            if refused.status not in (409, 413, 415, 422):
                raise
            reasons, status = refused.reasons or [refused], refused.status
        else:
            return redirect(url_for("my_ideas.show", proposal_id=proposal.id, sent="1"))
    elif not proposals.intake_open(cycle):
        raise proposals.IntakeClosed()
    used = proposals.count_by_author(cycle, me)
    return render_template("my_ideas/form.html", cycle=cycle, values=values, reasons=reasons,
                           errors=_errors_by_field(reasons), categories=config.categories,
                           limit=config.max_per_person, used=used, proposal=None), status


@bp.get("/my/ideas/<int:proposal_id>")
def show(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    return render_template("my_ideas/show.html", proposal=proposal,
                           sent=request.args.get("sent") == "1",
                           may_edit=proposals.rules.author_may_edit(proposal.status)
                           and proposals.intake_open(proposal.cycle),
                           projects=proposals.projects_of(proposal),
                           supports=proposals.support_count(proposal.id))


@bp.route("/my/ideas/<int:proposal_id>/edit", methods=["GET", "POST"])
def edit(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    cycle = proposal.cycle
    reasons, status = [], 200
    if request.method == "POST":
        values = _fields()
        reasons = control_character_reasons(values)
        try:
            if reasons:
                raise DomainError(reasons[0].message, 422, reasons)
            replaced = proposals.edit(proposal, _me(), values, _photo_upload(),
                                      remove_photo=request.form.get("remove_photo") == "1")
        except DomainError as refused:
            if refused.status not in (413, 415, 422):
                raise
            reasons, status = refused.reasons or [refused], refused.status
        else:
            images.remove_image(replaced)
            return redirect(url_for("my_ideas.show", proposal_id=proposal.id))
    else:
        if not proposals.rules.author_may_edit(proposal.status):
            raise proposals.TransitionRefused([], gettext(
                "Staff have started reviewing this idea, so it can no longer be changed."))
        if not proposals.intake_open(cycle):
            raise proposals.IntakeClosed()
        values = {"title": proposal.title, "description": proposal.description,
                  "category": proposal.category,
                  "district": proposal.district.slug if proposal.district else "",
                  "location": proposal.location,
                  "cost_estimate": str(proposal.cost_estimate or ""),
                  "point": proposal.lat_e6 is not None and maps.point_of(proposal).as_text() or ""}
    config = proposals.intake_config(cycle)
    return render_template("my_ideas/form.html", cycle=cycle, values=values, reasons=reasons,
                           errors=_errors_by_field(reasons), categories=config.categories,
                           limit=None, used=0, proposal=proposal), status


@bp.post("/my/ideas/<int:proposal_id>/answer")
def answer(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    try:
        refuse_control_characters_in(request.form, ("answer",))
        proposals.answer_question(proposal, _me(), request.form.get("answer", ""))
    except (proposals.TransitionRefused, ControlCharacterRefused) as refused:
        return render_template("my_ideas/show.html", proposal=proposal, sent=False,
                               may_edit=False, projects=proposals.projects_of(proposal),
                               supports=proposals.support_count(proposal.id),
                               reasons=refused.reasons,
                               answer=request.form.get("answer", "")), refused.status
    return redirect(url_for("my_ideas.show", proposal_id=proposal.id))


@bp.post("/ideas/<int:proposal_id>/support")
def support(proposal_id: int):
    proposal = proposals.get_proposal(proposal_id)
    if not proposals.publicly_visible(proposal):
        abort(404)
    proposals.support(proposal, _me())
    return redirect(url_for("ideas.detail", slug=proposal.cycle.slug, proposal_id=proposal.id,
                            supported="1"))
