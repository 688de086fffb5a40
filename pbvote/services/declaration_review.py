"""Staff review of online self-declarations: counts and rows per district, and rejecting a
suspicious declaration before it is used to vote.

What staff see is what the declaration table holds: the declared district, the day, whether
the code went to an email or a phone, the status and how many declarations share a home
address (its keyed hash). Never a name, an address or a contact (only hashes are stored),
and never a ballot: a declaration that voted says so, and its ballot, which carries no voter
reference, cannot be found or removed. Each review action is appended to the cycle's chain.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from pbvote.i18n_hook import N_, _
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, Participation, SelfDeclaration
from pbvote.rules import self_declaration as rules
from pbvote.rules.ballots import Reason
from pbvote.rules.text import forbidden_character_message, forbidden_in_line
from pbvote.services import log
from pbvote.services.errors import DomainError, NotFound

REASON_MAX = 300
PAGE_SIZE = 100
#: in the order the page shows them
STATUSES = ("pending", "confirmed", "voted", "expired", "rejected")
STATUS_LABELS = {
    "pending": N_("code sent"),
    "confirmed": N_("confirmed"),
    "voted": N_("voted"),
    "expired": N_("expired"),
    "rejected": N_("rejected"),
}


class ReviewRefused(DomainError):
    def __init__(self, message: str, status: int, reasons: list | None = None):
        super().__init__(message, status, reasons or [])


@dataclass(frozen=True)
class DeclarationRow:
    id: int
    district_id: int
    declared_on: dt.date
    #: "email" or "phone": where the code went (never the address or number itself)
    contact_kind: str
    status: str
    #: declarations in this cycle with the same home address (this one included)
    same_address: int
    rejected_reason: str | None


@dataclass(frozen=True)
class Review:
    #: district id → status → count, over the whole cycle
    counts: dict[int, Counter]
    totals: Counter
    #: the rows of the chosen district and status, newest first, one page of them
    rows: list[DeclarationRow]
    matching: int
    page: int
    pages: int


def status_of(row: SelfDeclaration, voted: bool, now: dt.datetime) -> str:
    if voted:
        return "voted"
    if row.rejected_reason is not None:
        return "rejected"
    if row.confirmed:
        return "confirmed"
    if rules.code_state(row.code_expires_at, row.attempts, False, now) == "usable":
        return "pending"
    return "expired"


def _voted_identities(cycle: Cycle) -> set[str]:
    declared = select(SelfDeclaration.identity_hash).where(
        SelfDeclaration.cycle_id == cycle.id).scalar_subquery()
    return set(db.session.scalars(select(Participation.identity_hash).where(
        Participation.cycle_id == cycle.id, Participation.identity_hash.in_(declared))))


def review(cycle: Cycle, district_id: int | None = None, status: str | None = None,
           page: int = 1, now: dt.datetime | None = None) -> Review:
    now = now or utcnow()
    declarations = db.session.scalars(select(SelfDeclaration).where(
        SelfDeclaration.cycle_id == cycle.id).order_by(SelfDeclaration.id.desc())).all()
    voted = _voted_identities(cycle)
    at_address = Counter(row.address_hash for row in declarations)
    counts: dict[int, Counter] = {district.id: Counter() for district in cycle.districts}
    totals: Counter = Counter()
    chosen = []
    for row in declarations:
        row_status = status_of(row, row.identity_hash in voted, now)
        counts.setdefault(row.district_id, Counter())[row_status] += 1
        totals[row_status] += 1
        if (district_id is None or row.district_id == district_id) and \
                (status is None or row_status == status):
            chosen.append(DeclarationRow(row.id, row.district_id, row.declared_on,
                                         row.contact_kind, row_status,
                                         at_address[row.address_hash], row.rejected_reason))
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return Review(counts, totals, chosen[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], len(chosen),
                  page, pages)


def _reviewer(actor: Account) -> None:
    if not actor.has_role("staff", "admin"):
        raise ReviewRefused(_("Only staff and administrators review declarations; auditors "
                              "read them."), 403)


def _locked(cycle: Cycle, declaration_id: int) -> SelfDeclaration:
    row = db.session.scalar(for_update(select(SelfDeclaration).where(
        SelfDeclaration.id == declaration_id, SelfDeclaration.cycle_id == cycle.id)))
    if row is None:
        raise NotFound(_("There is no such declaration in this cycle."))
    return row


def _has_voted(row: SelfDeclaration) -> bool:
    return db.session.scalar(select(Participation.id).where(
        Participation.cycle_id == row.cycle_id,
        Participation.identity_hash == row.identity_hash)) is not None


def _clean_reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    character = forbidden_in_line(reason)
    problem = None
    if character is not None:
        problem = forbidden_character_message(character)
    elif not reason:
        problem = _("Give the reason: the resident is shown it.")
    elif len(reason) > REASON_MAX:
        problem = _("Use at most %(most)s characters.", most=REASON_MAX)
    if problem:
        raise ReviewRefused(problem, 422, [Reason("reason", "bad_reason", problem)])
    return reason


def reject(cycle: Cycle, declaration_id: int, reason_text: str, actor: Account,
           now: dt.datetime | None = None) -> SelfDeclaration:
    """Stop a declaration from being used: its code stops working, a confirmed voter's
    ballot is refused, and the resident is shown the reason. Refused (409) once it voted."""
    _reviewer(actor)
    row = _locked(cycle, declaration_id)
    if _has_voted(row):
        raise ReviewRefused(_(
            "This declaration was already used to vote, so it can no longer be rejected. Its "
            "ballot cannot be removed: ballots carry no link to their voter."), 409)
    if row.rejected_reason is not None:
        raise ReviewRefused(_("This declaration is already rejected."), 409)
    reason = _clean_reason(reason_text)
    before = status_of(row, False, now or utcnow())
    row.rejected_reason = reason
    row.code_hash = None
    row.code_expires_at = None
    db.session.flush()
    log.record_action(cycle.chain_id, "self_declaration.rejected", actor.label, {
        "cycle": cycle.slug, "declaration": row.id,
        "district": cycle.district_by_id(row.district_id).slug, "reason": reason,
        "before": {"status": before}, "after": {"status": "rejected"}})
    return row


def reinstate(cycle: Cycle, declaration_id: int, actor: Account) -> SelfDeclaration:
    """Undo a rejection. The resident declares again to get a new code (a confirmed one
    may vote)."""
    _reviewer(actor)
    row = _locked(cycle, declaration_id)
    if row.rejected_reason is None:
        raise ReviewRefused(_("This declaration is not rejected."), 409)
    before = row.rejected_reason
    row.rejected_reason = None
    db.session.flush()
    log.record_action(cycle.chain_id, "self_declaration.reinstated", actor.label, {
        "cycle": cycle.slug, "declaration": row.id,
        "district": cycle.district_by_id(row.district_id).slug,
        "before": {"status": "rejected", "reason": before},
        "after": {"status": "confirmed" if row.confirmed else "expired"}})
    return row
