"""What residents do with ideas: submit, edit their own, answer staff, support others'."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, District, Proposal, ProposalSupport
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.rules.geo import Point
from pbvote.services import images, log, maps
from pbvote.services.errors import DomainError
from pbvote.services.proposals.common import (
    NotYours,
    ProposalRefused,
    TransitionRefused,
    _actor_label,
    _email_author,
    _event,
    _move,
    _record,
    _snapshot,
)
from pbvote.services.proposals.intake import _refuse_unless_intake, intake_config
from pbvote.services.proposals.reading import count_by_author, has_supported, support_count


def _validated_draft(cycle: Cycle, fields: dict) -> tuple[rules.Draft, District, Point | None]:
    """`fields` may carry "point", the optional place as "lat, lon" (services.maps)."""
    draft, reasons = rules.draft_from(fields.get("title"), fields.get("description"),
                                      fields.get("category"), fields.get("district"),
                                      fields.get("location"), fields.get("cost_estimate"))
    reasons += rules.draft_problems(draft, intake_config(cycle).categories,
                                    [d.slug for d in cycle.districts])
    point, point_reasons = maps.read_point(cycle, cycle.district_by_slug(draft.district or ""),
                                           fields.get("point"))
    reasons += point_reasons
    if reasons:
        raise ProposalRefused(reasons)
    return draft, cycle.district_by_slug(draft.district), point


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
    draft, district, point = _validated_draft(cycle, fields)
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
    maps.set_point(proposal, point)
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
    draft, district, point = _validated_draft(proposal.cycle, fields)
    before = _snapshot(proposal)
    new_photo = _store_photo(photo)
    replaced = None
    if new_photo is not None or remove_photo:
        replaced, proposal.photo_name = proposal.photo_name, new_photo
    proposal.title, proposal.description = draft.title, draft.description
    proposal.category, proposal.district = draft.category, district
    proposal.location, proposal.cost_estimate = draft.location, draft.cost_estimate
    proposal.updated_at = now or utcnow()
    moved = maps.point_of(proposal) != point
    maps.set_point(proposal, point)
    db.session.flush()
    if _snapshot(proposal) != before or moved:
        _event(proposal, author, "edited")
        _record(proposal, "proposal.edited", author, before)
    return replaced


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
    supports = support_count(proposal.id)
    log.record_action(proposal.cycle.chain_id, "proposal.supported", _actor_label(account), {
        "cycle": proposal.cycle.slug, "idea": proposal.id, "supports": supports})
    threshold = intake_config(proposal.cycle).support_threshold
    if threshold and supports >= threshold and proposal.status == "submitted":
        # enough neighbours back it: it enters staff review without waiting for staff
        message = _("%(supports)s residents support it, the threshold for staff review.",
                    supports=supports)
        before = _move(proposal, account, rules.TransitionRequest("under_review", "supporters"),
                       message)
        _record(proposal, "proposal.status_changed", account, before,
                {"from": "submitted", "to": "under_review", "supports": supports,
                 "threshold": threshold})
        _email_author(proposal, _("under review"), [message, _(
            "Staff now review it; you can no longer change it.")])
