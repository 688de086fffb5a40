"""What the proposals modules share: their refusals, and the log, history and email written
on every change (residents appear in the log as "resident #<id>", never by address)."""
from __future__ import annotations

from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Proposal, ProposalEvent
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.services import log, mail
from pbvote.services.errors import DomainError
from pbvote.services.resident_auth import resident_label


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

