"""Online self-declaration: a resident on no roll declares name, address in a district and
date of birth, confirms a 6-digit code sent to an email address or a phone, and votes once.

The rules (normalisation, the identity key, code states) are in
:mod:`pbvote.rules.self_declaration`; here they meet the database. Only keyed hashes are
stored (:class:`pbvote.models.SelfDeclaration`). One declaration per identity and one per
contact in a cycle: the unique constraints hold that against two requests at once.

A confirmed declaration whose voter has not voted yet (the browser was closed between the
code and the ballot) may declare again with the same contact: the same row gets a new code.

One person, one vote, whichever way in: the declared identity (names and birth date) and a
roll identity (district, last name, birth date, postcode) are different hashes, so each
declaration also keeps the **person key** (``roll_match_hash``): the hash a roll entry of
that person has as ``postcode_match_hash``. Someone on the roll cannot declare; someone who
declared and is added to the roll later (an import, a desk) votes by the roll only if the
declaration has not voted (:func:`refuse_roll_entry_of_declared_voter`), and the declaration
no longer votes (:func:`lock_for_casting`). Roll, code and desk casts lock the roll entry and
then the matching declarations, a declared cast locks its declaration: two ways in for one
person queue on the declaration row.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, RollEntry, SelfDeclaration
from pbvote.rules import self_declaration as rules
from pbvote.rules.ballots import Reason
from pbvote.services import mail, sms
from pbvote.services.errors import AlreadyVoted, DomainError, NotFound, VotingClosed
from pbvote.services.keys import check_identity_key, identity_key_fingerprint, keyed_hash

METHOD = "declared"


class DeclarationRefused(DomainError):
    """A refusal with its HTTP status: 401 wrong code, 409 conflict, 410 gone, 422 input."""

    def __init__(self, message: str, status: int, reasons: list | None = None):
        super().__init__(message, status, reasons or [])


def offered(cycle: Cycle) -> bool:
    return bool(cycle.online_self_declaration)


def _today(cycle: Cycle, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(cycle.timezone)).date()


def _code_hash(identity: str, code: str) -> str:
    return keyed_hash("self-declaration-code", f"{identity}\n{code}")


def contact_hash(contact: rules.Contact) -> str:
    return keyed_hash("self-declaration-contact", f"{contact.kind}:{contact.value}")


def address_hash(street: str, postcode: str) -> str:
    return keyed_hash("self-declaration-address", rules.address_key(street, postcode))


def identity_hash(cycle: Cycle, declaration: rules.Declaration) -> str:
    return keyed_hash("identity", rules.identity_key(
        cycle.slug, declaration.given_names, declaration.last_name, declaration.birth_date))


def _participated(cycle_id: int, identity: str) -> bool:
    from pbvote.models import Participation

    return db.session.scalar(select(Participation.id).where(
        Participation.cycle_id == cycle_id, Participation.identity_hash == identity)) is not None


def _roll_match_hashes(declaration: rules.Declaration) -> tuple[str, str]:
    from pbvote.services.voting import roll_match_hashes

    return roll_match_hashes(declaration.last_name, declaration.birth_date,
                             declaration.postcode)


def _on_the_roll(cycle: Cycle, declaration: rules.Declaration) -> bool:
    by_postcode, by_number = _roll_match_hashes(declaration)
    return db.session.scalar(select(RollEntry.id).where(
        RollEntry.cycle_id == cycle.id,
        or_(RollEntry.postcode_match_hash == by_postcode,
            RollEntry.roll_number_match_hash == by_number))) is not None


VOTED_AFTER_DECLARING = N_(
    "Someone with this last name, date of birth and postcode already voted in this vote "
    "after declaring online, so this roll record cannot vote again. If that was not you, ask "
    "at a help desk.")


def refuse_roll_entry_of_declared_voter(cycle: Cycle, entry: RollEntry) -> None:
    """Raise AlreadyVoted when the person of a roll entry already voted by declaring online.

    Locks the matching declarations (the caller holds the entry's lock), so a declared
    ballot of this person being cast now is seen once it commits."""
    if not offered(cycle):
        return
    identities = db.session.scalars(for_update(select(SelfDeclaration.identity_hash).where(
        SelfDeclaration.cycle_id == cycle.id,
        SelfDeclaration.roll_match_hash == entry.postcode_match_hash))).all()
    if any(_participated(cycle.id, identity) for identity in identities):
        raise AlreadyVoted(translate(VOTED_AFTER_DECLARING))


def _rejection(row: SelfDeclaration) -> str:
    return _("The city rejected this declaration: %(reason)s If you think this is wrong, ask "
             "at a help desk.", reason=row.rejected_reason)


def _roll_entries_of(row: SelfDeclaration) -> list[RollEntry]:
    """Roll entries of the declared person (added after the declaration)."""
    if row.roll_match_hash is None:
        return []
    return list(db.session.scalars(select(RollEntry).where(
        RollEntry.cycle_id == row.cycle_id,
        RollEntry.postcode_match_hash == row.roll_match_hash)))


def _refuse_if_now_on_the_roll(row: SelfDeclaration, refusal) -> None:
    """A declaration whose person is on the roll now does not vote: the roll does."""
    from pbvote.models import Participation

    entries = _roll_entries_of(row)
    if not entries:
        return
    if db.session.scalar(select(Participation.id).where(
            Participation.cycle_id == row.cycle_id,
            Participation.identity_hash.in_([entry.identity_hash for entry in entries]))):
        raise AlreadyVoted(_("You have already voted in this vote."))
    raise refusal(_("You are on the voters' roll for this vote now: please confirm who you "
                    "are with your roll details or the access code in your letter instead."))


def declare(cycle: Cycle, district: District, declaration: rules.Declaration,
            now: dt.datetime | None = None) -> int:
    """Record (or renew) the declaration and send its code; returns the declaration's id."""
    now = now or utcnow()
    if not offered(cycle):
        raise NotFound(_("This vote does not take online self-declarations."))
    if not cycle.voting_open(now):
        raise VotingClosed()
    if district.cycle_id != cycle.id:
        raise NotFound()
    check_identity_key(cycle)
    if cycle.identity_key_fingerprint is None:
        # a cycle with no roll and no codes: fix the key now, so that another key is refused
        # later (the cycle in hand may be the shared read-only copy: update the row itself)
        db.session.execute(update(Cycle).where(
            Cycle.id == cycle.id, Cycle.identity_key_fingerprint.is_(None)).values(
            identity_key_fingerprint=identity_key_fingerprint()))
    today = _today(cycle, now)
    reasons = rules.declaration_problems(declaration, cycle.minimum_age, today)
    if reasons:
        raise DeclarationRefused(_("Please correct the fields marked below."), 422, reasons)
    contact, _problem = rules.parse_contact(declaration.contact)
    if contact.kind == "phone" and not sms.available(current_app.config):
        raise DeclarationRefused(_("Please correct the fields marked below."), 422, [Reason(
            "contact", "no_sms", _("Codes cannot be sent by text message here; please give an "
                                   "email address."))])
    if _on_the_roll(cycle, declaration):
        raise DeclarationRefused(_(
            "You are on the voters' roll for this vote: please confirm who you are with your "
            "roll details or the access code in your letter instead."), 409)
    identity = identity_hash(cycle, declaration)
    by_contact = contact_hash(contact)
    rows = db.session.scalars(for_update(select(SelfDeclaration).where(
        SelfDeclaration.cycle_id == cycle.id,
        or_(SelfDeclaration.identity_hash == identity,
            SelfDeclaration.contact_hash == by_contact)))).all()
    mine = next((row for row in rows if row.identity_hash == identity), None)
    if any(row is not mine for row in rows):
        raise DeclarationRefused(_(
            "This email address or phone number was already used for another declaration in "
            "this vote. Each person needs their own."), 409)
    if mine is not None:
        if _participated(cycle.id, identity):
            raise AlreadyVoted(_("You have already voted in this vote."))
        if mine.rejected_reason is not None:
            raise DeclarationRefused(_rejection(mine), 403)
        if mine.contact_hash != by_contact and (
                mine.confirmed or rules.code_state(mine.code_expires_at, mine.attempts, False,
                                                   now) == "usable"):
            raise DeclarationRefused(_(
                "Someone with these details has already declared with another email address "
                "or phone number. If that was not you, ask at a help desk."), 409)
        if not mine.confirmed and mine.code_hash is not None and rules.code_state(
                mine.code_expires_at, mine.attempts, False, now) == "usable":
            raise DeclarationRefused(_(
                "We already sent a code for this declaration less than %(minutes)s minutes "
                "ago. Enter it, or declare again once it has expired.",
                minutes=_lifetime_minutes()), 409)
        row = mine
    else:
        row = SelfDeclaration(cycle_id=cycle.id, identity_hash=identity, attempts=0,
                              confirmed=False)
    row.district_id = district.id
    row.contact_hash = by_contact
    row.contact_kind = contact.kind
    row.address_hash = address_hash(declaration.street, declaration.postcode)
    row.declared_on = today
    row.roll_match_hash = _roll_match_hashes(declaration)[0]
    row.confirmed = False
    row.attempts = 0
    row.code_expires_at = now + rules.CODE_LIFETIME
    code = rules.new_code()
    row.code_hash = _code_hash(identity, code)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as error:
        # another request declared the same person or contact in the meantime
        raise DeclarationRefused(_(
            "These details or this email address or phone number were just used for another "
            "declaration in this vote."), 409) from error
    _send_code(cycle, contact, code)
    return row.id


def _lifetime_minutes() -> int:
    return int(rules.CODE_LIFETIME.total_seconds() // 60)


def _send_code(cycle: Cycle, contact: rules.Contact, code: str) -> None:
    minutes = _lifetime_minutes()
    if contact.kind == "phone":
        sms.send(contact.value, _("%(code)s is your code to vote in %(cycle)s. It works once, "
                                  "for %(minutes)s minutes.", code=code, cycle=cycle.name,
                                  minutes=minutes))
        return
    mail.send(contact.value, _("Your code to vote in %(cycle)s", cycle=cycle.name),
              _("Your code is %(code)s\n\nEnter it on the page where you declared that you live "
                "in the district. It works once, for %(minutes)s minutes. If you did not ask "
                "for it, ignore this email: nobody can vote with your address without the "
                "code.", code=code, minutes=minutes))


def confirm(cycle: Cycle, declaration_id: int, code_text: str,
            now: dt.datetime | None = None):
    """The VerifiedVoter of a right code, which is then used up. A wrong code counts
    against the 5 tries and raises a 401 refusal; the caller commits so the count sticks."""
    from pbvote.services.voting import VerifiedVoter

    now = now or utcnow()
    if not offered(cycle):
        raise NotFound(_("This vote does not take online self-declarations."))
    if not cycle.voting_open(now):
        raise VotingClosed()
    row = db.session.scalar(for_update(select(SelfDeclaration).where(
        SelfDeclaration.id == declaration_id, SelfDeclaration.cycle_id == cycle.id)))
    if row is None:
        raise DeclarationRefused(_("This declaration is no longer available. Please declare "
                                   "again."), 410)
    if _participated(cycle.id, row.identity_hash):
        raise AlreadyVoted(_("You have already voted in this vote."))
    if row.rejected_reason is not None:
        raise DeclarationRefused(_rejection(row), 403)
    _refuse_if_now_on_the_roll(row, lambda message: DeclarationRefused(message, 409))
    state = rules.code_state(row.code_expires_at, row.attempts, row.confirmed, now)
    if state == "used":
        raise DeclarationRefused(_("This code was already used. If you did not finish voting, "
                                   "declare again to get a new code."), 409)
    if state in ("expired", "exhausted"):
        raise DeclarationRefused(_("This code has expired or had too many wrong tries. "
                                   "Declare again to get a new code."), 410)
    code = rules.normalise_code(code_text)
    if code is None or not secrets.compare_digest(row.code_hash or "",
                                                  _code_hash(row.identity_hash, code)):
        row.attempts += 1
        db.session.flush()
        left = rules.MAX_CODE_ATTEMPTS - row.attempts
        raise DeclarationRefused(_("That code is not right. Tries left: %(left)s.", left=left),
                                 401)
    # single use, and no time kept once confirmed (see the model)
    row.confirmed = True
    row.code_hash = None
    row.code_expires_at = None
    db.session.flush()
    return VerifiedVoter(cycle.id, row.district_id, row.identity_hash, METHOD, row.id)


def lock_for_casting(voter) -> None:
    """Cast: lock the declaration, which must still be confirmed for this district."""
    from pbvote.services.errors import NotEligible

    row = db.session.scalar(for_update(select(SelfDeclaration).where(
        SelfDeclaration.id == voter.eligibility_id)))
    if row is None or row.identity_hash != voter.identity_hash \
            or row.district_id != voter.district_id or not row.confirmed:
        raise NotEligible(_("Your declaration is no longer available. Please declare again."))
    if row.rejected_reason is not None:
        raise NotEligible(_rejection(row))
    _refuse_if_now_on_the_roll(row, NotEligible)
