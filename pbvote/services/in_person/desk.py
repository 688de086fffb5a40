"""The check-in desk: looking residents up on the roll, checking them in, and adding
self-declared residents."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Participation, RollEntry
from pbvote.models.in_person import DeskRollAddition, KioskPass
from pbvote.rules import ballots, eligibility
from pbvote.services import log, voting
from pbvote.services.errors import AlreadyVoted, NotEligible, NotFound, VotingClosed
from pbvote.services.in_person.common import (
    InPersonRefused,
    _actor_label,
    _bad_input,
    _district,
    _today,
    clean_site,
)
from pbvote.services.keys import check_identity_key

CHANNEL_WORDS = {"online": N_("online"), "desk": N_("in person"), "kiosk": N_("at a kiosk"),
                 "paper": N_("on paper"), "code": N_("with an access code")}


@dataclass(frozen=True)
class RollMatch:
    roll_entry_id: int
    display_name: str
    birth_date: dt.date
    district_name: str
    district_slug: str
    #: the channel of an earlier participation in this district, else None
    voted_channel: str | None
    voted_site: str
    added_at_desk: bool


#: matches shown per page; the page says how many match in all and pages through them
LOOKUP_PAGE_SIZE = 25
#: from this many matches on, the page also asks the clerk to narrow the search
NARROW_FROM = 100


class LookupPage(list):
    """One page of a look-up's matches (a list of RollMatch), with the true number of
    matches, so no match is ever hidden: the rest are on the next pages."""

    def __init__(self, matches, total: int, page: int, page_size: int = LOOKUP_PAGE_SIZE):
        super().__init__(matches)
        self.total = total
        self.page = page
        self.page_size = page_size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.page_size + len(self)

    @property
    def too_many(self) -> bool:
        return self.total >= NARROW_FROM


def lookup_roll(cycle: Cycle, *, name: str = "", birth_date: dt.date | None = None,
                last_name: str = "", postcode_or_roll: str = "", page: int = 1,
                entry_id: int | None = None) -> LookupPage:
    """Roll entries matching what the clerk typed, a page at a time, with their true number.

    The roll keeps names and addresses only as keyed hashes, so: a name matches the clear
    display name (when the import mapped one); a birth date matches exactly; an address
    matches through last name + birth date + postcode (or roll number), as residents online.
    Criteria given together must all hold. `entry_id` alone finds one entry (the one a desk
    just added), so no personal data needs to travel in an address.
    """
    if entry_id is not None:
        return _page_of(cycle, select(RollEntry).where(RollEntry.cycle_id == cycle.id,
                                                       RollEntry.id == entry_id), 1)
    name = " ".join((name or "").split())
    if not name and birth_date is None and not postcode_or_roll.strip():
        raise _bad_input(_("Enter a name, a date of birth, or last name, date of birth and "
                           "postcode."), "name")
    check_identity_key(cycle)
    query = select(RollEntry).where(RollEntry.cycle_id == cycle.id)
    if postcode_or_roll.strip():
        if not last_name.strip() or birth_date is None:
            raise _bad_input(_("To look up by address, enter the last name, the date of birth "
                               "and the postcode or roll number."),
                             "last_name" if not last_name.strip() else "birth_date")
        by_postcode, by_number = voting.roll_match_hashes(last_name, birth_date,
                                                          postcode_or_roll)
        query = query.where((RollEntry.postcode_match_hash == by_postcode)
                            | (RollEntry.roll_number_match_hash == by_number))
    if birth_date is not None:
        query = query.where(RollEntry.birth_date == birth_date)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(RollEntry.display_name).like(
            f"%{escaped.lower()}%", escape="\\"))
    return _page_of(cycle, query, page)


def _page_of(cycle: Cycle, query, page: int) -> LookupPage:
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // LOOKUP_PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.session.scalars(query.order_by(RollEntry.display_name, RollEntry.id)
                              .offset((page - 1) * LOOKUP_PAGE_SIZE)
                              .limit(LOOKUP_PAGE_SIZE)).all()
    voted = {}
    if rows:
        for district_id, identity, channel, site in db.session.execute(
                select(Participation.district_id, Participation.identity_hash,
                       Participation.channel, Participation.site)
                .where(Participation.cycle_id == cycle.id,
                       Participation.identity_hash.in_([r.identity_hash for r in rows]))):
            voted[(district_id, identity)] = (channel, site)
    added = set(db.session.scalars(select(DeskRollAddition.roll_entry_id).where(
        DeskRollAddition.roll_entry_id.in_([r.id for r in rows])))) if rows else set()
    return LookupPage([RollMatch(r.id, r.display_name or "", r.birth_date, r.district.name,
                                 r.district.slug,
                                 *voted.get((r.district_id, r.identity_hash), (None, "")),
                                 r.id in added)
                       for r in rows], total, page)


@dataclass(frozen=True)
class CheckIn:
    district_slug: str
    district_name: str
    site: str
    handout: str
    #: for a kiosk hand-out: the pass a staff member unlocks on the kiosk
    kiosk_pass_id: str | None


HANDOUTS = ("paper", "kiosk")


def already_voted_message(channel: str, site: str) -> str:
    if channel == "desk":
        return _("This resident already checked in to vote in person at %(site)s.", site=site)
    how = translate(CHANNEL_WORDS[channel]) if channel in CHANNEL_WORDS else channel
    return _("This resident already voted %(how)s.", how=how)


def check_in(cycle: Cycle, roll_entry_id: int, *, site: str, id_checked: bool, handout: str,
             actor, now: dt.datetime | None = None) -> CheckIn:
    """Record a desk participation for a roll entry, then hand out paper or a kiosk pass.

    Locks the roll entry as online casting does, so a check-in and an online ballot for one
    person queue; the participation's unique constraint is the backstop.
    """
    now = now or utcnow()
    if not cycle.voting_open(now):
        raise VotingClosed()
    site = clean_site(site)
    if not id_checked:
        raise _bad_input(_("Confirm that you checked the resident's ID before checking them in."))
    if handout not in HANDOUTS:
        raise _bad_input(_("Choose a paper ballot or the kiosk."))
    entry = db.session.scalar(for_update(select(RollEntry).where(
        RollEntry.id == roll_entry_id, RollEntry.cycle_id == cycle.id)))
    if entry is None:
        raise NotFound(_("This roll entry does not exist in this cycle."))
    if eligibility.age_on(entry.birth_date, _today(cycle, now)) < cycle.minimum_age:
        raise NotEligible(_("This resident is under the minimum voting age of %(minimum_age)s.",
                            minimum_age=cycle.minimum_age))
    earlier = db.session.execute(select(Participation.channel, Participation.site).where(
        Participation.cycle_id == cycle.id, Participation.district_id == entry.district_id,
        Participation.identity_hash == entry.identity_hash)).first()
    if earlier is not None:
        raise AlreadyVoted(already_voted_message(*earlier))
    if cycle.online_self_declaration:
        from pbvote.services import self_declaration

        self_declaration.refuse_roll_entry_of_declared_voter(cycle, entry)
    db.session.add(Participation(
        id=secrets.token_hex(16), cycle_id=cycle.id, district_id=entry.district_id,
        identity_hash=entry.identity_hash, channel="desk", site=site,
        voted_on=_today(cycle, now)))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise AlreadyVoted(_("This resident voted a moment ago by another channel.")) from error
    pass_id = None
    if handout == "kiosk":
        pass_id = secrets.token_hex(16)
        db.session.add(KioskPass(id=pass_id, cycle_id=cycle.id, district_id=entry.district_id,
                                 site=site, status="waiting"))
        db.session.flush()
    district = db.session.get(District, entry.district_id)
    return CheckIn(district.slug, district.name, site, handout, pass_id)


def add_self_declared(cycle: Cycle, district_slug: str, *, last_name: str,
                      birth_date: dt.date | None, postcode: str, display_name: str, site: str,
                      proof_seen: str, actor, now: dt.datetime | None = None) -> RollEntry:
    """Add a resident who is not on the roll, on their declaration and the proof staff saw."""
    from pbvote.services.accounts import system_chain_id
    from pbvote.services.roll import RollPerson, add_roll_entry, roll_identity_hash

    now = now or utcnow()
    if not cycle.voting_open(now):
        raise VotingClosed()
    if not cycle.self_declared_allowed:
        raise InPersonRefused(_("This cycle does not accept self-declared residents: only people "
                                "on the roll may vote."), 403)
    site = clean_site(site)
    district = _district(cycle, district_slug)
    problems = {}  # field → what to enter there
    if not eligibility.normalise_name(last_name or ""):
        problems["last_name"] = _("the last name")
    if birth_date is None:
        problems["birth_date"] = _("the date of birth")
    if not eligibility.normalise_postcode(postcode or ""):
        problems["postcode"] = _("the postcode")
    proof_seen = " ".join((proof_seen or "").split())
    if not proof_seen:
        problems["proof_seen"] = _("the proof of residence you saw")
    if problems:
        raise InPersonRefused(
            _("Enter %(fields)s.", fields=", ".join(problems.values())), 422,
            [ballots.Reason(name, "missing", _("Enter %(fields)s.", fields=what))
             for name, what in problems.items()])
    if len(proof_seen) > 300 or len(display_name or "") > 200:
        raise _bad_input(_("The proof or the name is too long."))
    person = RollPerson(last_name=last_name, birth_date=birth_date, postcode=postcode)
    check_identity_key(cycle, record=True)
    identity = roll_identity_hash(cycle, district, person)
    # Same identity, or same name, birth date and postcode in any district (a roll entry
    # with a roll number has another identity hash): either way the person is on the roll.
    by_postcode, _by_number = voting.roll_match_hashes(last_name, birth_date, postcode)
    if db.session.scalar(select(exists().where(
            RollEntry.cycle_id == cycle.id, (RollEntry.identity_hash == identity)
            | (RollEntry.postcode_match_hash == by_postcode)))):
        raise InPersonRefused(_("This resident is already on the roll: look them up instead."))
    entry = add_roll_entry(cycle, district, person)
    entry.display_name = " ".join((display_name or last_name).split())
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("This resident was added to the roll a moment ago.")) from error
    db.session.add(DeskRollAddition(roll_entry_id=entry.id, cycle_id=cycle.id, site=site,
                                    proof_seen=proof_seen, account_id=actor.id))
    db.session.flush()
    log.record_action(system_chain_id(), "roll.self_declared_added", _actor_label(actor), {
        "cycle": cycle.slug, "district": district.slug, "site": site, "proof_seen": proof_seen,
        "before": None, "after": {"roll_entry": entry.id, "flag": "self_declared"}})
    return entry
