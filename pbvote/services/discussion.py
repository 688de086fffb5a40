"""Discussion of ideas and ballot projects: residents comment, anyone reports a comment,
staff hide it with a public reason and the author is told.
Comments are never deleted: hiding keeps the text."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Comment, CommentReport, Cycle, Project, Proposal
from pbvote.rules import discussion as rules
from pbvote.rules.ballots import Reason
from pbvote.services import log, mail
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.proposals.reading import publicly_visible
from pbvote.services.resident_auth import resident_label


class CommentRefused(DomainError):
    def __init__(self, reasons: list[Reason], status: int = 422):
        super().__init__(reasons[0].message, status, reasons)


def visible_comments(proposal: Proposal) -> list[Comment]:
    """Every comment on the idea in the order written; hidden ones carry their reason."""
    return list(db.session.scalars(select(Comment).where(Comment.proposal_id == proposal.id)
                                   .order_by(Comment.created_at, Comment.id)))


def visible_project_comments(project: Project) -> list[Comment]:
    """Every comment on the ballot project in the order written; hidden ones carry their
    reason."""
    return list(db.session.scalars(select(Comment).where(Comment.project_id == project.id)
                                   .order_by(Comment.created_at, Comment.id)))


def post_comment(proposal: Proposal, author: Account, text: str,
                 now: dt.datetime | None = None) -> Comment:
    _require_resident(author)
    if not publicly_visible(proposal):
        raise DomainError(_("This idea cannot be discussed."), 409)
    comment = _write(author, text, now, cycle_id=proposal.cycle_id, proposal_id=proposal.id)
    log.record_action(proposal.cycle.chain_id, "comment.posted", resident_label(author),
                      {"idea": proposal.id, "comment": comment.id})
    return comment


def post_project_comment(project: Project, author: Account, text: str,
                         now: dt.datetime | None = None) -> Comment:
    """A comment on a ballot project, under the same rules as one on an idea (plain text,
    length, the per-author rate limit); refused once the cycle is archived."""
    _require_resident(author)
    if project.cycle.archived_at is not None:
        raise DomainError(_("This project cannot be discussed."), 409)
    comment = _write(author, text, now, cycle_id=project.cycle_id, project_id=project.id)
    log.record_action(project.cycle.chain_id, "comment.posted", resident_label(author),
                      {"project": project.code, "comment": comment.id})
    return comment


def _require_resident(author: Account) -> None:
    if author.role != "resident":
        raise DomainError(_("Comments are written by residents, signed in with their email "
                            "address."), 403)


def _write(author: Account, text: str, now: dt.datetime | None, **target) -> Comment:
    body = rules.clean_comment(text)
    problems = rules.comment_problems(body)
    if problems:
        raise CommentRefused(problems)
    now = now or utcnow()
    # one writer per author at a time, so two quick posts cannot both pass the limit
    db.session.scalar(for_update(select(Account.id).where(Account.id == author.id)))
    recent = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.author_id == author.id,
        Comment.created_at > now - dt.timedelta(minutes=rules.RATE_WINDOW_MINUTES)))
    if recent >= rules.RATE_LIMIT:
        raise CommentRefused([Reason("body", "comment_rate", _(
            "You have posted %(n)s comments in the last %(minutes)s minutes; please wait a "
            "little before posting again.", n=recent, minutes=rules.RATE_WINDOW_MINUTES))], 429)
    comment = Comment(author_id=author.id, body=body, created_at=now, hidden=False,
                      hidden_reason="", **target)
    db.session.add(comment)
    db.session.flush()
    return comment


def report_comment(comment: Comment, reporter_key: str, reason_text: str) -> CommentReport:
    """One open report per reporter and comment; a repeat is refused (409), not stored."""
    reason = rules.clean_reason(reason_text)
    if not reason:
        raise CommentRefused([Reason("reason", "reason_required",
                                     _("Say briefly what is wrong with this comment."))])
    report = CommentReport(comment_id=comment.id, reporter_key=reporter_key, reason=reason,
                           created_at=utcnow(), resolved=False)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        raise DomainError(_("You have already reported this comment; staff will look at "
                            "it."), 409) from None
    return report


def open_reports(cycle_id: int) -> list[tuple[Comment, list[CommentReport]]]:
    """Reported comments of a cycle with their open reports, oldest first."""
    rows = db.session.scalars(
        select(CommentReport).join(Comment, Comment.id == CommentReport.comment_id)
        .where(Comment.cycle_id == cycle_id, CommentReport.resolved.is_(False))
        .order_by(CommentReport.created_at, CommentReport.id))
    grouped: dict[int, tuple[Comment, list[CommentReport]]] = {}
    for report in rows:
        grouped.setdefault(report.comment_id, (report.comment, []))[1].append(report)
    return list(grouped.values())


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no such comment."))
    return comment


def moderate(comment: Comment, staff: Account, hide: bool, reason_text: str) -> None:
    """Staff decide on a reported comment: hide it with a public reason (the author is
    emailed) or keep it; either way its open reports are resolved."""
    if staff.role not in ("staff", "admin"):
        raise DomainError(_("Only staff moderate comments."), 403)
    reason = rules.clean_reason(reason_text)
    if hide and not reason:
        raise CommentRefused([Reason("reason", "reason_required",
                                     _("Give the public reason for hiding this comment."))])
    for report in db.session.scalars(select(CommentReport).where(
            CommentReport.comment_id == comment.id, CommentReport.resolved.is_(False))):
        report.resolved = True
    before = {"hidden": comment.hidden, "reason": comment.hidden_reason}
    if hide:
        comment.hidden, comment.hidden_reason = True, reason
        author = db.session.get(Account, comment.author_id)
        if comment.project_id is not None:
            project = db.session.get(Project, comment.project_id)
            where = [_("Staff hid your comment on the ballot project %(code)s.",
                       code=project.code),
                     _("The reason, shown on the project's page: %(reason)s", reason=reason)]
        else:
            where = [_("Staff hid your comment on idea #%(idea)s.", idea=comment.proposal_id),
                     _("The reason, shown on the idea's page: %(reason)s", reason=reason)]
        mail.send(author.email, _("Your comment was hidden"), "\n\n".join([
            *where, _("Your comment was: %(body)s", body=comment.body)]))
    db.session.flush()
    cycle = db.session.get(Cycle, comment.cycle_id)
    log.record_action(cycle.chain_id, "comment.moderated", staff.label, {
        "comment": comment.id, "before": before,
        "after": {"hidden": comment.hidden, "reason": comment.hidden_reason}})
