"""Staff review of residents' ideas: the queue, decisions, merging duplicates, moderation,
promotion into ballot projects and the cycle's intake settings."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.models import Proposal
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.services import proposals, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.base import ControlCharacterRefused, refuse_control_characters_in
from pbvote.web.guards import require_roles, set_policy
from pbvote.web.limits import checked_fields

bp = Blueprint("review", __name__, url_prefix="/staff")
set_policy(bp.name, require_roles("staff", "admin"))

#: the queue's default view: everything still waiting for a staff decision
OPEN_STATUSES = ("submitted", "under_review", "needs_information", "feasible")



def _me():
    return current_user._get_current_object()


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip().lstrip("#")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@bp.get("/cycles/<slug>/ideas")
def queue(slug: str):
    cycle = get_cycle(slug)
    status = request.args.get("status", "open")
    listing = proposals.list_ideas(
        cycle, request.args.get("q", ""), request.args.get("category", ""),
        request.args.get("district", ""), status if status in rules.STATUSES else "",
        "newest", _int_or_none(request.args.get("page", "1")) or 1,
        include_hidden=True, statuses=OPEN_STATUSES if status == "open" else None)
    return render_template("review/queue.html", cycle=cycle, listing=listing, status=status,
                           q=request.args.get("q", ""), statuses=rules.STATUSES,
                           categories=proposals.intake_config(cycle).categories,
                           intake_open=proposals.intake_open(cycle))


def _render_detail(proposal: Proposal, reasons: list | None = None, status: int = 200,
                   form: dict | None = None):
    return render_template(
        "review/detail.html", proposal=proposal, cycle=proposal.cycle,
        next_steps=rules.transitions_from(proposal.status, "staff"),
        supports=proposals.support_count(proposal.id), projects=proposals.projects_of(proposal),
        reasons=reasons or [], form=form or {}), status


@bp.get("/ideas/<int:proposal_id>")
def detail(proposal_id: int):
    return _render_detail(proposals.get_proposal(proposal_id))


def _act(proposal_id: int, action):
    proposal = proposals.get_proposal(proposal_id, lock=True)
    try:
        refuse_control_characters_in(request.form, checked_fields(request.endpoint))
        action(proposal)
    except DomainError as refused:
        from pbvote.infra.extensions import db

        db.session.rollback()
        proposal = proposals.get_proposal(proposal_id)
        return _render_detail(proposal, refused.reasons or [refused], refused.status,
                              dict(request.form))
    return redirect(url_for("review.detail", proposal_id=proposal_id))


@bp.post("/ideas/<int:proposal_id>/status")
def change_status(proposal_id: int):
    cost = rules.parse_amount(request.form.get("cost", ""))

    def action(proposal):
        if isinstance(cost, Reason):
            raise proposals.ProposalRefused([Reason("cost", cost.code, cost.message)])
        proposals.change_status(proposal, _me(), request.form.get("target", ""),
                                question=request.form.get("question", ""),
                                reason=request.form.get("reason", ""), cost=cost)
    return _act(proposal_id, action)


@bp.post("/ideas/<int:proposal_id>/merge")
def merge(proposal_id: int):
    return _act(proposal_id, lambda proposal: proposals.merge(
        proposal, _me(), _int_or_none(request.form.get("into")), request.form.get("reason", "")))


@bp.post("/ideas/<int:proposal_id>/hide")
def hide(proposal_id: int):
    return _act(proposal_id, lambda proposal: proposals.hide(
        proposal, _me(), request.form.get("reason", "")))


@bp.post("/ideas/<int:proposal_id>/unhide")
def unhide(proposal_id: int):
    return _act(proposal_id, lambda proposal: proposals.unhide(
        proposal, _me(), request.form.get("reason", "")))


def _accepted_unpromoted(cycle) -> list[Proposal]:
    listing = proposals.list_ideas(cycle, status="accepted", include_hidden=True, page=1)
    rows = [p for p, _ in listing.rows]
    for page in range(2, listing.pages + 1):
        rows += [p for p, _ in proposals.list_ideas(cycle, status="accepted",
                                                    include_hidden=True, page=page).rows]
    return [p for p in rows if not proposals.projects_of(p)]


@bp.route("/cycles/<slug>/ideas/promote", methods=["GET", "POST"])
def promote(slug: str):
    cycle = get_cycle(slug)
    candidates = _accepted_unpromoted(cycle)
    chosen = [i for i in (_int_or_none(v) for v in request.values.getlist("ideas")) if i]
    form = dict(request.form) if request.method == "POST" else {}
    reasons, status = [], 200
    if request.method == "POST":
        cost = rules.parse_amount(form.get("cost", ""))
        try:
            refuse_control_characters_in(request.form, checked_fields(request.endpoint))
        except ControlCharacterRefused as refused:
            reasons, status = refused.reasons, refused.status
        if reasons:
            pass  # shown beside their fields with everything as typed
        elif isinstance(cost, Reason) or cost is None:
            reasons, status = [Reason("cost", "cost_required",
                                      gettext("Enter the project's cost as a whole number."))], 422
        else:
            data = setup.ProjectInput(
                code=form.get("code", "").strip(), title=rules.clean_line(form.get("title")),
                cost=cost, summary=rules.clean_line(form.get("summary"))[:500],
                description=rules.clean_text(form.get("description")).strip(),
                category=rules.clean_line(form.get("category"))[:80],
                location=rules.clean_line(form.get("location"))[:300])
            try:
                project = proposals.promote(cycle, _me(), chosen, form.get("district", ""), data,
                                            _int_or_none(form.get("photo_from")))
            except DomainError as refused:
                from pbvote.infra.extensions import db

                db.session.rollback()
                cycle = get_cycle(slug)
                candidates = _accepted_unpromoted(cycle)
                reasons, status = refused.reasons or [refused], refused.status
            else:
                return redirect(url_for("review.queue", slug=cycle.slug, status="accepted",
                                        promoted=project.code))
    else:
        form = _prefill(candidates, chosen)
    return render_template("review/promote.html", cycle=cycle, candidates=candidates,
                           chosen=set(chosen), form=form, reasons=reasons), status


def _prefill(candidates: list[Proposal], chosen: list[int]) -> dict:
    picked = [p for p in candidates if p.id in chosen]
    if not picked:
        return {}
    first = picked[0]
    costs = [p.staff_cost_estimate for p in picked if p.staff_cost_estimate]
    return {"title": first.title, "description": "\n\n".join(p.description for p in picked),
            "category": first.category, "location": first.location,
            "district": first.district.slug if first.district else "",
            "cost": str(sum(costs)) if costs else "", "summary": ""}


@bp.route("/cycles/<slug>/ideas/settings", methods=["GET", "POST"])
def settings(slug: str):
    cycle = get_cycle(slug)
    config = proposals.intake_config(cycle)
    form = {"categories": "\n".join(config.categories),
            "max_per_person": str(config.max_per_person or ""),
            "support_threshold": str(config.support_threshold or "")}
    reasons, status, saved = [], 200, False
    if request.method == "POST":
        form = {"categories": request.form.get("categories", ""),
                "max_per_person": request.form.get("max_per_person", ""),
                "support_threshold": request.form.get("support_threshold", "")}
        try:
            refuse_control_characters_in(request.form, ("categories",))
            proposals.save_intake_settings(cycle, _me(), form["categories"],
                                           form["max_per_person"], form["support_threshold"])
        except (proposals.ProposalRefused, ControlCharacterRefused) as refused:
            reasons, status = refused.reasons, refused.status
        else:
            saved = True
    return render_template("review/settings.html", cycle=cycle, form=form, reasons=reasons,
                           saved=saved), status
