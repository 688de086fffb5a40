"""Comments on ideas and ballot projects, their reports (anyone may report), and staff's
moderation queue.

Policy: anyone reaches these routes; posting needs a signed-in resident (checked in the view,
which sends others to sign in); the queue is for staff (its own blueprint below)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote.infra.extensions import limiter
from pbvote.services import discussion, proposals
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.services.keys import keyed_hash
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import allow_anyone, require_roles, set_policy

bp = Blueprint("discussion", __name__)
set_policy(bp.name, allow_anyone)
staff_bp = Blueprint("moderation", __name__, url_prefix="/staff/cycles/<slug>/moderation")
set_policy(staff_bp.name, require_roles("staff", "admin"))


def _idea(slug: str, proposal_id: int):
    cycle = get_cycle(slug)
    idea = proposals.get_proposal(proposal_id)
    if idea.cycle_id != cycle.id or not proposals.publicly_visible(idea):
        abort(404)
    return cycle, idea


def _back(cycle, idea):
    return redirect(url_for("ideas.detail", slug=cycle.slug, proposal_id=idea.id) + "#comments")


def _posted(cycle, target, post_comment, again, back):
    """A resident's comment on an idea or a project: the same rules for both."""
    if not (current_user.is_authenticated and current_user.has_role("resident")):
        return redirect(url_for("resident_auth.sign_in", next=request.path.rsplit("/", 1)[0]))
    body = request.form.get("body", "")
    try:
        refuse_control_characters_in(request.form, ("body",))
        post_comment(target, current_user, body)
    except DomainError as refused:
        return again(cycle, target, refused, body=body, body_error=True)
    flash(_("Your comment is posted."), "success")
    return back(cycle, target)


def _reported(cycle, target, comment, again, back):
    """Anyone's report of a comment on an idea or a project."""
    try:
        discussion.report_comment(comment, keyed_hash("comment-report", _reporter()),
                                  request.form.get("reason", ""))
    except DomainError as refused:
        return again(cycle, target, refused, reported=comment.id)
    flash(_("Thank you: staff will look at this comment."), "success")
    return back(cycle, target)


@bp.post("/cycles/<slug>/ideas/<int:proposal_id>/comments")
@limiter.limit("30/hour", methods=["POST"])
def post(slug: str, proposal_id: int):
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    cycle, idea = _idea(slug, proposal_id)
    return _posted(cycle, idea, discussion.post_comment, _detail_again, _back)


@bp.post("/cycles/<slug>/ideas/<int:proposal_id>/comments/<int:comment_id>/report")
@limiter.limit("20/hour", methods=["POST"])
def report(slug: str, proposal_id: int, comment_id: int):
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    cycle, idea = _idea(slug, proposal_id)
    comment = discussion.get_comment(comment_id)
    if comment.proposal_id != idea.id:
        abort(404)
    return _reported(cycle, idea, comment, _detail_again, _back)


def _project(slug: str, code: str):
    from pbvote.web.public import find_project

    cycle = get_cycle(slug)
    return cycle, find_project(cycle, code)


def _back_to_project(cycle, project):
    return redirect(url_for("public.project", slug=cycle.slug, code=project.code) + "#comments")


@bp.post("/cycles/<slug>/projects/<code>/comments")
@limiter.limit("30/hour", methods=["POST"])
def post_on_project(slug: str, code: str):
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    cycle, project = _project(slug, code)
    return _posted(cycle, project, discussion.post_project_comment, _project_again,
                   _back_to_project)


@bp.post("/cycles/<slug>/projects/<code>/comments/<int:comment_id>/report")
@limiter.limit("20/hour", methods=["POST"])
def report_on_project(slug: str, code: str, comment_id: int):
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    cycle, project = _project(slug, code)
    comment = discussion.get_comment(comment_id)
    if comment.project_id != project.id:
        abort(404)
    return _reported(cycle, project, comment, _project_again, _back_to_project)


def _reporter() -> str:
    return (f"account:{current_user.id}" if current_user.is_authenticated
            else f"address:{request.remote_addr}")


def _project_again(cycle, project, refused: DomainError, **typed):
    from pbvote.web.public import project as project_page

    response = project_page(cycle.slug, project.code, error=refused.message, typed=typed)
    return response, refused.status


def _detail_again(cycle, idea, refused: DomainError, **typed):
    from pbvote.web.ideas import detail

    response = detail(cycle.slug, idea.id, error=refused.message, typed=typed)
    return response, refused.status


@staff_bp.get("/")
def queue(slug: str):
    cycle = get_cycle(slug)
    return render_template("discussion/queue.html", cycle=cycle, form=CsrfOnlyForm(),
                           reported=discussion.open_reports(cycle.id))


@staff_bp.post("/<int:comment_id>")
def decide(slug: str, comment_id: int):
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    cycle = get_cycle(slug)
    comment = discussion.get_comment(comment_id)
    if comment.cycle_id != cycle.id:
        abort(404)
    hide = request.form.get("decision") == "hide"
    try:
        refuse_control_characters_in(request.form, ("reason",))
        discussion.moderate(comment, current_user, hide, request.form.get("reason", ""))
    except DomainError as refused:
        return render_template("discussion/queue.html", cycle=cycle, form=CsrfOnlyForm(),
                               reported=discussion.open_reports(cycle.id),
                               error=refused.message, error_comment=comment.id), refused.status
    flash(_("The comment is hidden; its author was told why.") if hide
          else _("The comment stays; the reports are closed."), "success")
    return redirect(url_for("moderation.queue", slug=slug))
