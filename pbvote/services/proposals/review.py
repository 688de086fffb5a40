"""Staff work on ideas: review decisions, merging duplicates, moderation, and promotion
into ballot projects."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pbvote.i18n_hook import N_, _, format_number, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, Project, Proposal, ProposalProjectLink, ProposalSupport
from pbvote.rules import geo
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.services import images, log, maps, setup
from pbvote.services.errors import DomainError
from pbvote.services.proposals.common import (
    ProposalRefused,
    TransitionRefused,
    _email_author,
    _event,
    _move,
    _record,
    _snapshot,
)
from pbvote.services.proposals.reading import has_supported


def _staff_only(actor: Account) -> None:
    if not actor.has_role("staff", "admin"):
        raise DomainError(_("Only staff can review ideas."), 403)


STAFF_SUBJECTS = {
    "under_review": N_("under review"),
    "needs_information": N_("a question for you"),
    "feasible": N_("found feasible"),
    "not_feasible": N_("found not feasible"),
    "accepted": N_("accepted"),
}


def change_status(proposal: Proposal, staff: Account, target: str, *, question: str = "",
                  reason: str = "", cost: int | None = None) -> None:
    """A staff decision; merging has its own function (it needs the other idea)."""
    _staff_only(staff)
    if target == "merged":
        raise TransitionRefused([Reason("status", "use_merge",
                                        _("Merge a duplicate with the merge form."))])
    question, reason = rules.clean_text(question).strip(), rules.clean_text(reason).strip()
    request = rules.TransitionRequest(target, "staff", question=question, reason=reason,
                                      cost=cost)
    message = question if target == "needs_information" else reason
    source = proposal.status
    before = _move(proposal, staff, request, message)
    if target == "feasible":
        proposal.staff_cost_estimate = cost
        proposal.feasibility_note = reason
    elif target in ("not_feasible", "under_review") and reason:
        proposal.feasibility_note = reason
    _record(proposal, "proposal.status_changed", staff, before,
            {"from": source, "to": target, "message": message})
    lines = [_("Its status is now: %(status)s.", status=translate(rules.status_label(target)))]
    if target == "needs_information":
        lines.append(_("Staff ask: %(question)s\n\nPlease answer on the idea's page.",
                       question=question))
    if target == "feasible":
        lines.append(_("Staff estimate its cost at %(cost)s %(currency)s.",
                       cost=format_number(cost), currency=proposal.cycle.currency))
    if reason:
        lines.append(_("Reason: %(reason)s", reason=reason))
    _email_author(proposal, translate(STAFF_SUBJECTS.get(target, rules.status_label(target))),
                  lines)


def merge(proposal: Proposal, staff: Account, into_id: int | None, reason: str = "") -> None:
    """Merge a duplicate into another idea of the same cycle; its supports move along
    (an account that supported both keeps one support)."""
    _staff_only(staff)
    target = db.session.scalar(for_update(select(Proposal).where(
        Proposal.id == (into_id or -1), Proposal.cycle_id == proposal.cycle_id)))
    reason = rules.clean_text(reason).strip()
    request = rules.TransitionRequest(
        "merged", "staff", merge_target_status=target.status if target else None,
        merge_target_is_self=target is not None and target.id == proposal.id)
    source = proposal.status
    before = _move(proposal, staff, request, reason)
    proposal.merged_into_id = target.id
    moved = 0
    for supporter in list(db.session.scalars(select(ProposalSupport.account_id).where(
            ProposalSupport.proposal_id == proposal.id))):
        if not has_supported(target.id, supporter):
            db.session.add(ProposalSupport(proposal_id=target.id, account_id=supporter,
                                           created_at=utcnow()))
            moved += 1
    db.session.flush()
    _event(target, staff, "merged", f"Idea #{proposal.id} was merged into this one.")
    _record(proposal, "proposal.merged", staff, before,
            {"from": source, "to": "merged", "into": target.id, "supports_moved": moved,
             "message": reason})
    lines = [_('It duplicates idea #%(number)s, "%(title)s", so the two were merged into idea '
               "#%(number)s. Its supporters now support idea #%(number)s.",
               number=target.id, title=target.title)]
    if reason:
        lines.append(_("Reason: %(reason)s", reason=reason))
    _email_author(proposal, _("merged with a similar idea"), lines)


def hide(proposal: Proposal, staff: Account, reason: str) -> None:
    _staff_only(staff)
    reason = rules.clean_text(reason).strip()
    problems = rules.message_problems(reason, "hidden_reason")
    if proposal.hidden:
        problems.append(Reason("hidden", "already_hidden", _("This idea is already hidden.")))
    if problems:
        raise TransitionRefused(problems)
    before = _snapshot(proposal)
    proposal.hidden, proposal.hidden_reason = True, reason
    _event(proposal, staff, "hidden", reason)
    _record(proposal, "proposal.hidden", staff, before, {"reason": reason})
    _email_author(proposal, _("hidden by a moderator"), [
        _("A moderator hid your idea from the public idea board."),
        _("Reason: %(reason)s", reason=reason),
        _("If you think this is a mistake, reply to the city's participatory budgeting team.")])


def unhide(proposal: Proposal, staff: Account, reason: str = "") -> None:
    _staff_only(staff)
    if not proposal.hidden:
        raise TransitionRefused([Reason("hidden", "not_hidden", _("This idea is not hidden."))])
    reason = rules.clean_text(reason).strip()
    before = _snapshot(proposal)
    proposal.hidden, proposal.hidden_reason = False, ""
    _event(proposal, staff, "unhidden", reason)
    _record(proposal, "proposal.unhidden", staff, before, {"reason": reason})
    _email_author(proposal, _("visible again"), [
        _("A moderator made your idea visible on the public idea board again.")]
        + ([_("Note: %(note)s", note=reason)] if reason else []))


def promote(cycle: Cycle, staff: Account, proposal_ids: list[int], district_slug: str,
            data: setup.ProjectInput, photo_from: int | None = None,
            now: dt.datetime | None = None) -> Project:
    """Make one ballot project from one or several accepted ideas of the cycle.

    The project is created by services.setup, so the frozen-configuration rules apply
    (no new projects once voting has opened)."""
    _staff_only(staff)
    ids = sorted(set(proposal_ids))
    reasons: list[Reason] = []
    if not ids:
        reasons.append(Reason("ideas", "no_ideas", _("Choose at least one accepted idea.")))
    proposals = list(db.session.scalars(for_update(select(Proposal).where(
        Proposal.id.in_(ids), Proposal.cycle_id == cycle.id)).order_by(Proposal.id)))
    if len(proposals) != len(ids):
        reasons.append(Reason("ideas", "unknown_idea", _("Some chosen ideas are not in this "
                                                         "cycle.")))
    promoted = set(db.session.scalars(select(ProposalProjectLink.proposal_id).where(
        ProposalProjectLink.proposal_id.in_(ids))))
    for proposal in proposals:
        for reason in rules.can_promote(proposal.status, proposal.id in promoted):
            reasons.append(Reason("ideas", reason.code, _(
                "Idea #%(number)s: %(message)s", number=proposal.id, message=reason.message)))
    district = cycle.district_by_slug(district_slug)
    if district is None:
        reasons.append(Reason("district", "district_unknown", _("Choose the district.")))
    if photo_from is not None and not any(p.id == photo_from and p.photo_name
                                          for p in proposals):
        reasons.append(Reason("photo_from", "photo_unknown",
                              _("Choose the photo of one of the chosen ideas, or none.")))
    if reasons:
        raise ProposalRefused(reasons)
    project = setup.save_project(cycle, district, None, data, staff.label, now)
    place = _place_from_ideas(cycle, district, project, proposals)
    for proposal in proposals:
        db.session.add(ProposalProjectLink(project_id=project.id, proposal_id=proposal.id))
    db.session.flush()
    if photo_from is not None:
        source = next(p for p in proposals if p.id == photo_from)
        with open(images.image_folder() / source.photo_name, "rb") as stream:
            setup.set_project_image(cycle, project, images.store_image(stream), staff.label)
    numbers = f" {_('and')} ".join(f"#{p.id}" for p in proposals)
    for proposal in proposals:
        _event(proposal, staff, "promoted",
               f"Became ballot project {project.code}, \"{project.title}\".")
        _email_author(proposal, _("it will be on the ballot"), [
            _('Your idea became the ballot project "%(title)s" (%(code)s), made from ideas '
              "%(numbers)s. Residents can vote for it when voting opens.",
              title=project.title, code=project.code, numbers=numbers)])
    log.record_action(cycle.chain_id, "proposal.promoted", staff.label, {
        "cycle": cycle.slug, "project": project.code, "ideas": [p.id for p in proposals],
        **({"place": place.as_text()} if place is not None else {})})
    return project


def _place_from_ideas(cycle: Cycle, district, project: Project,
                      proposals: list[Proposal]) -> geo.Point | None:
    """Give a project with no place the place of its first idea that has one, so the map
    shows it. Project places are public, so it takes the idea's public grid-cell centre, as
    the map shows the idea, never the author's exact spot; a centre outside the project's
    district is skipped (staff set the place at Set-up → Map)."""
    if maps.point_of(project) is not None:
        return None
    for proposal in proposals:
        exact = maps.point_of(proposal)
        if exact is None:
            continue
        public = geo.public_point(exact)
        if not maps.point_problems(cycle, district, public):
            maps.set_point(project, public)
            db.session.flush()
            return public
    return None
