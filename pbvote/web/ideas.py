"""The public idea board: browse, search, filter and sort a cycle's ideas; each idea's page;
photos of visible ideas. Open to anyone; hidden ideas are not shown."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, send_from_directory
from flask_babel import gettext
from flask_login import current_user

from pbvote.infra.db import utcnow
from pbvote.models import Proposal
from pbvote.rules import proposals as rules
from pbvote.services import images, proposals
from pbvote.services.cycles import get_cycle
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("ideas", __name__)
set_policy(bp.name, allow_anyone)


@bp.app_context_processor
def _idea_links():
    # The public cycle page shows "from ideas #12 and #17" under each promoted project.
    return {"idea_links_for": proposals.idea_links}


@bp.app_template_filter("idea_status")
def _idea_status(status: str | None) -> str:
    return gettext(rules.status_label(status))


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


@bp.get("/cycles/<slug>/ideas")
def board(slug: str):
    cycle = get_cycle(slug)
    config = proposals.intake_config(cycle)
    filters = {"q": request.args.get("q", "")[:rules.SEARCH_MAX],
               "category": request.args.get("category", ""),
               "district": request.args.get("district", ""),
               "status": request.args.get("status", "")}
    sort = request.args.get("sort", "newest")
    sort = sort if sort in proposals.SORTS else "newest"
    listing = proposals.list_ideas(cycle, filters["q"], filters["category"], filters["district"],
                                   filters["status"], sort, _page_number())
    return render_template("ideas/board.html", cycle=cycle, listing=listing, filters=filters,
                           sort=sort, categories=config.categories, statuses=rules.STATUSES,
                           intake_open=proposals.intake_open(cycle), now=utcnow())


@bp.get("/cycles/<slug>/ideas/<int:proposal_id>")
def detail(slug: str, proposal_id: int, error: str | None = None, typed: dict | None = None):
    from pbvote.services import discussion

    cycle = get_cycle(slug)
    proposal = proposals.get_proposal(proposal_id)
    if proposal.cycle_id != cycle.id or not proposals.publicly_visible(proposal):
        abort(404)
    signed_in_resident = current_user.is_authenticated and current_user.has_role("resident")
    return render_template(
        "ideas/detail.html", cycle=cycle, proposal=proposal,
        supports=proposals.support_count(proposal.id),
        supported=signed_in_resident and proposals.has_supported(proposal.id, current_user.id),
        signed_in_resident=signed_in_resident, projects=proposals.projects_of(proposal),
        comments=discussion.visible_comments(proposal), comment_form=CsrfOnlyForm(),
        comment_error=error, typed=typed or {},
        threshold=proposals.intake_config(cycle).support_threshold)


def may_see_photo(proposal: Proposal) -> bool:
    """A hidden idea's photo is for its author and staff only."""
    return proposals.publicly_visible(proposal) or (
        current_user.is_authenticated and (current_user.id == proposal.author_id
                                           or current_user.has_role("staff", "admin")))


def send_photo(proposal: Proposal):
    """The idea's photo for whoever may see it, else 404."""
    if not proposal.photo_name or not may_see_photo(proposal) or not images.NAME_PATTERN.match(
            proposal.photo_name):
        abort(404)
    response = send_from_directory(images.image_folder(), proposal.photo_name)
    response.headers["Cache-Control"] = "no-cache"  # hiding an idea hides its photo at once
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/ideas/<int:proposal_id>/photo")
def photo(proposal_id: int):
    return send_photo(proposals.get_proposal(proposal_id))

