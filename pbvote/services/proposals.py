"""Residents' ideas: submitting and editing them, supporting them, staff review, merging
duplicates, moderation and promotion into ballot projects.

Every change is appended to the cycle's hash-chained log with the actor and before/after,
and every status change (and moderation) emails the author. Residents appear in the log as
"resident #<account id>", never by address, because a cycle's chain can be published.
Services flush; the request commits.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import N_, _, format_number, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    Account,
    Cycle,
    District,
    IntakeSettings,
    Project,
    Proposal,
    ProposalEvent,
    ProposalProjectLink,
    ProposalSupport,
)
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.services import images, log, mail, setup
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.resident_auth import resident_label

PAGE_SIZE = 20
SORTS = ("newest", "most_supported")


class ProposalRefused(DomainError):
    def __init__(self, reasons: list[Reason],
                 message: str = N_("Please correct what is marked below; nothing was saved.")):
        super().__init__(translate(message), 422, list(reasons))


class IntakeClosed(DomainError):
    def __init__(self, message: str = N_("This cycle is not collecting ideas now. Ideas can be "
                                         "sent and edited only during the idea collection phase.")):
        super().__init__(translate(message), 403)


#: refusals about the idea's state (409); any other reason is about the input (422)
STATE_CODES = frozenset({"illegal_transition", "wrong_actor", "unknown_status", "review_started",
                         "no_question", "already_hidden", "not_hidden", "use_merge"})


class TransitionRefused(DomainError):
    def __init__(self, reasons: list[Reason],
                 message: str = N_("This change is not possible; nothing was saved.")):
        status = 409 if not reasons or any(r.code in STATE_CODES for r in reasons) else 422
        super().__init__(translate(message), status, list(reasons))


class NotYours(DomainError):
    def __init__(self, message: str = N_("Only the idea's author can do this.")):
        super().__init__(translate(message), 403)


# ---------------------------------------------------------------------------
# Intake settings


@dataclass(frozen=True)
class IntakeConfig:
    categories: list[str]
    max_per_person: int | None


def intake_config(cycle: Cycle) -> IntakeConfig:
    row = db.session.get(IntakeSettings, cycle.id)
    if row is None:
        return IntakeConfig(list(rules.DEFAULT_CATEGORIES), None)
    return IntakeConfig(row.categories, row.max_per_person)


def save_intake_settings(cycle: Cycle, staff: Account, categories_text: str,
                         max_per_person_text: str) -> IntakeConfig:
    categories = rules.parse_category_lines(categories_text)
    reasons = rules.category_list_problems(categories)
    limit = rules.parse_amount(max_per_person_text)
    if isinstance(limit, Reason):
        reasons.append(Reason("max_per_person", "limit_invalid",
                              _("Enter the limit as a whole number, or leave it empty.")))
        limit = None
    elif limit is not None and limit > 10_000:
        reasons.append(Reason("max_per_person", "limit_too_large", _("Enter a smaller limit.")))
    if reasons:
        raise ProposalRefused(reasons)
    before = intake_config(cycle)
    row = db.session.get(IntakeSettings, cycle.id)
    if row is None:
        row = IntakeSettings(cycle_id=cycle.id)
        db.session.add(row)
    row.categories_json = json.dumps(categories)
    row.max_per_person = limit or None
    db.session.flush()
    after = intake_config(cycle)
    if after != before:
        log.record_action(cycle.chain_id, "intake.settings_updated", staff.label, {
            "cycle": cycle.slug, "before": before.__dict__, "after": after.__dict__})
    return after


def intake_open(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    window = cycle.phase_window("intake")
    return window is not None and rules.in_window(window.starts_at, window.ends_at,
                                                  now or utcnow())


def _refuse_unless_intake(cycle: Cycle, now: dt.datetime | None) -> None:
    if not intake_open(cycle, now):
        raise IntakeClosed()


# ---------------------------------------------------------------------------
# Reading


def get_proposal(proposal_id: int, lock: bool = False) -> Proposal:
    statement = select(Proposal).where(Proposal.id == proposal_id)
    proposal = db.session.scalar(for_update(statement) if lock else statement)
    if proposal is None:
        raise NotFound(_("There is no idea with this number."))
    return proposal


def publicly_visible(proposal: Proposal) -> bool:
    return not proposal.hidden


def support_count(proposal_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ProposalSupport).where(
        ProposalSupport.proposal_id == proposal_id))


def has_supported(proposal_id: int, account_id: int) -> bool:
    return db.session.get(ProposalSupport, (proposal_id, account_id)) is not None


def ideas_of(author: Account) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.author_id == author.id)
                                   .order_by(Proposal.id.desc())))


def count_by_author(cycle: Cycle, author: Account) -> int:
    return db.session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.cycle_id == cycle.id, Proposal.author_id == author.id))


def projects_of(proposal: Proposal) -> list[Project]:
    return list(db.session.scalars(select(Project).join(
        ProposalProjectLink, ProposalProjectLink.project_id == Project.id).where(
        ProposalProjectLink.proposal_id == proposal.id)))


def idea_links(cycle: Cycle) -> dict[int, list[int]]:
    """project id → the idea numbers it was made from, for "from ideas #12 and #17"."""
    rows = db.session.execute(select(ProposalProjectLink.project_id,
                                     ProposalProjectLink.proposal_id)
                              .join(Project, Project.id == ProposalProjectLink.project_id)
                              .where(Project.cycle_id == cycle.id)
                              .order_by(ProposalProjectLink.proposal_id))
    links: dict[int, list[int]] = {}
    for project_id, proposal_id in rows:
        links.setdefault(project_id, []).append(proposal_id)
    return links


@dataclass
class Listing:
    rows: list[tuple[Proposal, int]]  # (idea, supports)
    total: int
    page: int
    pages: int


def _supports_column():
    return (select(func.count()).where(ProposalSupport.proposal_id == Proposal.id)
            .correlate(Proposal).scalar_subquery())


def list_ideas(cycle: Cycle, q: str = "", category: str = "", district: str = "",
               status: str = "", sort: str = "newest", page: int = 1,
               include_hidden: bool = False, statuses: tuple[str, ...] | None = None) -> Listing:
    """The board (and, with include_hidden, the staff queue). Search text is a bound LIKE
    pattern with its wildcards escaped, over title, description and location."""
    supports = _supports_column().label("supports")
    statement = select(Proposal, supports).where(Proposal.cycle_id == cycle.id)
    if not include_hidden:
        statement = statement.where(Proposal.hidden.is_(False))
    if status in rules.STATUSES:
        statement = statement.where(Proposal.status == status)
    elif statuses:
        statement = statement.where(Proposal.status.in_(statuses))
    else:
        statement = statement.where(Proposal.status != "merged")
    q = rules.clean_line(q)[:rules.SEARCH_MAX]
    if q:
        pattern = rules.like_pattern(q)
        statement = statement.where(or_(Proposal.title.ilike(pattern, escape="\\"),
                                        Proposal.description.ilike(pattern, escape="\\"),
                                        Proposal.location.ilike(pattern, escape="\\")))
    if category:
        statement = statement.where(Proposal.category == category)
    if district:
        statement = statement.join(District, District.id == Proposal.district_id).where(
            District.slug == district)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    if sort == "most_supported":
        statement = statement.order_by(supports.desc(), Proposal.id.desc())
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return Listing([(row[0], row[1]) for row in rows], total, page, pages)


# ---------------------------------------------------------------------------
# Logging, history and email


def _snapshot(proposal: Proposal) -> dict:
    return {"id": proposal.id, "title": proposal.title, "description": proposal.description,
            "category": proposal.category,
            "district": proposal.district.slug if proposal.district else None,
            "location": proposal.location, "cost_estimate": proposal.cost_estimate,
            "photo": proposal.photo_name, "status": proposal.status,
            "staff_cost_estimate": proposal.staff_cost_estimate,
            "merged_into": proposal.merged_into_id, "hidden": proposal.hidden,
            "hidden_reason": proposal.hidden_reason}


def _actor_label(account: Account) -> str:
    return resident_label(account) if account.role == "resident" else account.label


def _record(proposal: Proposal, action: str, actor: Account, before: dict | None,
            extra: dict | None = None) -> None:
    db.session.flush()
    log.record_action(proposal.cycle.chain_id, action, _actor_label(actor), {
        "cycle": proposal.cycle.slug, "idea": proposal.id, "before": before,
        "after": _snapshot(proposal), **(extra or {})})


def _event(proposal: Proposal, actor: Account, kind: str, message: str = "",
           from_status: str | None = None, to_status: str | None = None) -> None:
    proposal.events.append(ProposalEvent(
        actor_id=actor.id, actor_role="author" if actor.id == proposal.author_id else "staff",
        kind=kind, message=message, from_status=from_status, to_status=to_status, at=utcnow()))


def _email_author(proposal: Proposal, subject: str, lines: list[str]) -> None:
    """`subject` and `lines` come translated; the account stores no language, so the email is
    in the language of the request that caused it (the author's own, or the staff member's)."""
    body = "\n\n".join([_('Your idea #%(number)s, "%(title)s", in %(cycle)s:',
                            number=proposal.id, title=proposal.title, cycle=proposal.cycle.name),
                          *lines,
                          _('Sign in to pbvote and open "My ideas" to see its whole history.')])
    mail.send(proposal.author.email, _("Your idea #%(number)s: %(subject)s",
                                       number=proposal.id, subject=subject), body)


# ---------------------------------------------------------------------------
# Residents: submit, edit, answer, support


def _validated_draft(cycle: Cycle, fields: dict) -> tuple[rules.Draft, District]:
    draft, reasons = rules.draft_from(fields.get("title"), fields.get("description"),
                                      fields.get("category"), fields.get("district"),
                                      fields.get("location"), fields.get("cost_estimate"))
    reasons += rules.draft_problems(draft, intake_config(cycle).categories,
                                    [d.slug for d in cycle.districts])
    if reasons:
        raise ProposalRefused(reasons)
    return draft, cycle.district_by_slug(draft.district)


def _store_photo(photo) -> str | None:
    if photo is None:
        return None
    try:
        return images.store_image(photo)
    except images.ImageRefused as refused:
        raise DomainError(refused.message, refused.status,
                          [Reason("photo", "photo_refused", refused.message)]) from None


def submit(cycle: Cycle, author: Account, fields: dict, photo=None,
           now: dt.datetime | None = None) -> Proposal:
    """`fields`: title, description, category, district (slug), location, cost_estimate
    (text); `photo`: a readable stream or None."""
    _refuse_unless_intake(cycle, now)
    if author.role != "resident":
        raise NotYours(_("Ideas are sent by residents, signed in with their email address."))
    draft, district = _validated_draft(cycle, fields)
    # Lock the author's row so two quick submissions cannot both pass the limit.
    db.session.scalar(for_update(select(Account.id).where(Account.id == author.id)))
    over = rules.limit_problem(count_by_author(cycle, author),
                               intake_config(cycle).max_per_person)
    if over is not None:
        raise DomainError(over.message, 409, [over])
    photo_name = _store_photo(photo)
    moment = now or utcnow()
    proposal = Proposal(cycle=cycle, district=district, author=author, title=draft.title,
                        description=draft.description, category=draft.category,
                        location=draft.location, cost_estimate=draft.cost_estimate,
                        photo_name=photo_name, status="submitted", feasibility_note="",
                        hidden=False, hidden_reason="", created_at=moment, updated_at=moment)
    db.session.add(proposal)
    db.session.flush()
    _event(proposal, author, "submitted", to_status="submitted")
    _record(proposal, "proposal.submitted", author, None)
    _email_author(proposal, _("received"), [
        _("Thank you: we received your idea. You can still change it until staff start reviewing "
          "it. We will email you whenever its status changes.")])
    return proposal


def _own(proposal: Proposal, author: Account) -> None:
    if proposal.author_id != author.id:
        raise NotYours()


def edit(proposal: Proposal, author: Account, fields: dict, photo=None,
         remove_photo: bool = False, now: dt.datetime | None = None) -> str | None:
    """Change one's own idea while it is still only submitted, during intake.

    Returns the replaced photo's file name (the caller deletes the file after commit)."""
    _own(proposal, author)
    if not rules.author_may_edit(proposal.status):
        raise TransitionRefused([Reason("status", "review_started",
                                        _("Staff have started reviewing this idea, so it can no "
                                          "longer be changed."))])
    _refuse_unless_intake(proposal.cycle, now)
    draft, district = _validated_draft(proposal.cycle, fields)
    before = _snapshot(proposal)
    new_photo = _store_photo(photo)
    replaced = None
    if new_photo is not None or remove_photo:
        replaced, proposal.photo_name = proposal.photo_name, new_photo
    proposal.title, proposal.description = draft.title, draft.description
    proposal.category, proposal.district = draft.category, district
    proposal.location, proposal.cost_estimate = draft.location, draft.cost_estimate
    proposal.updated_at = now or utcnow()
    db.session.flush()
    if _snapshot(proposal) != before:
        _event(proposal, author, "edited")
        _record(proposal, "proposal.edited", author, before)
    return replaced


def _move(proposal: Proposal, actor: Account, request: rules.TransitionRequest,
          message: str) -> dict:
    problems = rules.transition_problems(proposal.status, request)
    if problems:
        raise TransitionRefused(problems)
    before = _snapshot(proposal)
    source = proposal.status
    proposal.status = request.target
    proposal.updated_at = utcnow()
    _event(proposal, actor, "status", message, source, request.target)
    return before


def answer_question(proposal: Proposal, author: Account, answer: str) -> None:
    _own(proposal, author)
    if proposal.status != "needs_information":
        raise TransitionRefused([Reason("answer", "no_question",
                                        _("Staff have not asked a question about this idea."))])
    answer = rules.clean_text(answer).strip()
    before = _move(proposal, author, rules.TransitionRequest("under_review", "author",
                                                             answer=answer), answer)
    _record(proposal, "proposal.status_changed", author, before,
            {"from": "needs_information", "to": "under_review", "answer": answer})
    _email_author(proposal, _("your answer was received"), [
        _("Thank you for your answer. Staff continue reviewing your idea.")])


def support(proposal: Proposal, account: Account) -> None:
    if account.role != "resident":
        raise DomainError(_("Ideas are supported by residents, signed in with their email "
                            "address."), 403)
    if proposal.hidden or proposal.status == "merged":
        if proposal.merged_into_id:
            raise DomainError(_("This idea cannot be supported; support idea #%(number)s "
                                "instead.", number=proposal.merged_into_id), 409)
        raise DomainError(_("This idea cannot be supported."), 409)
    if has_supported(proposal.id, account.id):
        raise DomainError(_("You already support this idea; each account supports an idea once."),
                          409)
    try:
        with db.session.begin_nested():
            db.session.add(ProposalSupport(proposal_id=proposal.id, account_id=account.id,
                                           created_at=utcnow()))
    except IntegrityError:  # the same account, twice at once
        raise DomainError(_("You already support this idea; each account supports an idea "
                            "once."), 409) from None
    log.record_action(proposal.cycle.chain_id, "proposal.supported", _actor_label(account), {
        "cycle": proposal.cycle.slug, "idea": proposal.id,
        "supports": support_count(proposal.id)})


# ---------------------------------------------------------------------------
# Staff: review, merge, moderation, promotion


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
        "cycle": cycle.slug, "project": project.code, "ideas": [p.id for p in proposals]})
    return project
