"""In-person voting: the check-in desk, kiosks, paper ballots and their double entry,
reconciliation per site and district, and the sampled paper audit.

Decisions (README "Voting in person" says the same for staff):

* A check-in writes the Participation (channel "desk", the site, the day only), whatever the
  voter then uses. The unique participation row is what makes desk and online exclude each
  other in both orders. Check-ins are deliberately not written to the cycle's chain: an entry
  with a time right before a kiosk ballot's entry would tie the person to the ballot.
* Kiosk ballots count under desk check-ins: desk check-ins = paper counted + spoiled or
  invalid + awaiting entry + kiosk ballots + cancelled kiosk passes + unreturned paper.
* Paper ballots are committed with a receipt like every ballot (the board lists it), but no
  one is given it: the voter left long before the entry. Paper voters have their serial.
* A resident added to the roll at a desk is logged in the system chain, not the cycle's, so
  that its time sits next to no ballot entry.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import N_, _, format_number, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    Ballot,
    Cycle,
    District,
    Participation,
    ResultsSnapshot,
    RollEntry,
)
from pbvote.models.in_person import (
    FINAL_SERIAL_STATUSES,
    PAPER_OUTCOMES,
    DeskRollAddition,
    KioskPass,
    PaperAudit,
    PaperAuditFinding,
    PaperEntry,
    PaperSerial,
)
from pbvote.rules import ballots, eligibility, paper_audit
from pbvote.services import log, voting
from pbvote.services.errors import (
    AlreadyVoted,
    DomainError,
    NotEligible,
    NotFound,
    VotingClosed,
)

MAX_SITE_LENGTH = 120
MAX_SERIALS_PER_BATCH = 2000
#: serial letters: no 0/O, 1/I/L, so a clerk can type what is printed
SERIAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHANNEL_WORDS = {"online": N_("online"), "desk": N_("in person"), "kiosk": N_("at a kiosk"),
                 "paper": N_("on paper"), "code": N_("with an access code")}


class InPersonRefused(DomainError):
    """A refusal about the state of things (409) unless a status is given."""

    def __init__(self, message: str, status: int = 409, reasons: list | None = None):
        super().__init__(message, status, reasons or [])


def _bad_input(message: str, *fields: str) -> InPersonRefused:
    """A 422 about what was typed; `fields` name the desk form's fields it is about, so the
    page can link the message to them."""
    return InPersonRefused(message, 422,
                           [ballots.Reason(name, "bad_input", message) for name in fields])


def clean_site(site: str) -> str:
    site = " ".join((site or "").split())
    if not site:
        raise _bad_input(_("Enter the site (for example the library's name)."))
    if len(site) > MAX_SITE_LENGTH:
        raise _bad_input(_("The site name is longer than %(most)s characters.",
                           most=MAX_SITE_LENGTH))
    return site


def _actor_label(account) -> str:
    return account.label


def _today(cycle: Cycle, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(cycle.timezone)).date()


def _district(cycle: Cycle, district_slug: str) -> District:
    district = cycle.district_by_slug(district_slug)
    if district is None:
        raise NotFound(_("There is no such district in this cycle."))
    return district


# ----- the check-in desk ---------------------------------------------------------------------
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


MAX_LOOKUP_RESULTS = 50


def lookup_roll(cycle: Cycle, *, name: str = "", birth_date: dt.date | None = None,
                last_name: str = "", postcode_or_roll: str = "") -> list[RollMatch]:
    """Roll entries matching what the clerk typed.

    The roll keeps names and addresses only as keyed hashes, so: a name matches the clear
    display name (when the import mapped one); a birth date matches exactly; an address
    matches through last name + birth date + postcode (or roll number), as residents online.
    Criteria given together must all hold.
    """
    name = " ".join((name or "").split())
    if not name and birth_date is None and not postcode_or_roll.strip():
        raise _bad_input(_("Enter a name, a date of birth, or last name, date of birth and "
                           "postcode."), "name")
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
    rows = db.session.scalars(query.order_by(RollEntry.display_name, RollEntry.id)
                              .limit(MAX_LOOKUP_RESULTS)).all()
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
    return [RollMatch(r.id, r.display_name or "", r.birth_date, r.district.name, r.district.slug,
                      *voted.get((r.district_id, r.identity_hash), (None, "")), r.id in added)
            for r in rows]


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


# ----- kiosks ---------------------------------------------------------------------------------
def waiting_passes(cycle: Cycle, site: str | None = None) -> list[KioskPass]:
    query = select(KioskPass).where(KioskPass.cycle_id == cycle.id,
                                    KioskPass.status == "waiting")
    if site:
        query = query.where(KioskPass.site == site)
    return list(db.session.scalars(query.order_by(KioskPass.site, KioskPass.id)))


def _waiting_pass(cycle: Cycle, pass_id: str) -> KioskPass:
    kiosk_pass = db.session.scalar(for_update(select(KioskPass).where(
        KioskPass.id == pass_id, KioskPass.cycle_id == cycle.id)))
    if kiosk_pass is None:
        raise NotFound(_("This kiosk pass does not exist."))
    if kiosk_pass.status != "waiting":
        raise InPersonRefused(_("This kiosk pass has already been used or cancelled."))
    return kiosk_pass


def get_waiting_pass(cycle: Cycle, pass_id: str) -> KioskPass:
    kiosk_pass = db.session.get(KioskPass, pass_id)
    if kiosk_pass is None or kiosk_pass.cycle_id != cycle.id:
        raise NotFound(_("This kiosk pass does not exist."))
    if kiosk_pass.status != "waiting":
        raise InPersonRefused(_("This kiosk pass has already been used or cancelled."))
    return kiosk_pass


def cast_kiosk_ballot(cycle: Cycle, pass_id: str, selections,
                      now: dt.datetime | None = None) -> voting.CastReceipt:
    """The checked-in voter's ballot on a kiosk: a ballot without a participation."""
    now = now or utcnow()
    if not cycle.voting_open(now):
        raise VotingClosed()
    kiosk_pass = _waiting_pass(cycle, pass_id)
    district = db.session.get(District, kiosk_pass.district_id)
    result = voting.record_in_person_ballot(cycle, district, selections, channel="kiosk",
                                            site=kiosk_pass.site)
    kiosk_pass.status = "used"
    db.session.flush()
    return result


def cancel_pass(cycle: Cycle, pass_id: str, actor) -> None:
    """The voter left without using the kiosk. Their check-in stands: they cannot vote again."""
    kiosk_pass = _waiting_pass(cycle, pass_id)
    kiosk_pass.status = "cancelled"
    db.session.flush()
    log.record_action(cycle.chain_id, "kiosk.pass_cancelled", _actor_label(actor), {
        "district": kiosk_pass.district.slug, "site": kiosk_pass.site,
        "before": {"status": "waiting"}, "after": {"status": "cancelled"}})


# ----- paper serials ---------------------------------------------------------------------------
def normalise_serial(text: str) -> str:
    return "".join((text or "").split()).upper()


def _new_serial(prefix: str) -> str:
    body = "".join(secrets.choice(SERIAL_ALPHABET) for _position in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def serial_prefix(district: District) -> str:
    letters = "".join(ch for ch in district.slug.upper() if ch.isalnum())
    return (letters[:2] or "PB").ljust(2, "X")


def print_serials(cycle: Cycle, district_slug: str, site: str, count: int, actor) -> int:
    """A new batch of `count` random serials for `site`'s stack; returns the batch number."""
    district = _district(cycle, district_slug)
    site = clean_site(site)
    if not 1 <= count <= MAX_SERIALS_PER_BATCH:
        raise _bad_input(_("Print between 1 and %(most)s ballots at a time.",
                           most=format_number(MAX_SERIALS_PER_BATCH)))
    if db.session.scalar(select(ResultsSnapshot.id).where(ResultsSnapshot.cycle_id == cycle.id)):
        raise InPersonRefused(_("The results are published: no more paper ballots."))
    batch = (db.session.scalar(select(func.max(PaperSerial.batch)).where(
        PaperSerial.cycle_id == cycle.id)) or 0) + 1
    taken = set(db.session.scalars(select(PaperSerial.serial).where(
        PaperSerial.cycle_id == cycle.id)))
    prefix = serial_prefix(district)
    made: set[str] = set()
    while len(made) < count:
        serial = _new_serial(prefix)
        if serial not in taken:
            made.add(serial)
    db.session.add_all(PaperSerial(cycle_id=cycle.id, district_id=district.id, serial=serial,
                                   site=site, batch=batch, status="printed", reason="")
                       for serial in sorted(made))
    db.session.flush()
    log.record_action(cycle.chain_id, "paper.serials_printed", _actor_label(actor), {
        "district": district.slug, "site": site, "batch": batch, "count": count,
        "before": None, "after": {"batch": batch, "count": count}})
    return batch


def batch_serials(cycle: Cycle, batch: int) -> list[PaperSerial]:
    rows = list(db.session.scalars(select(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.batch == batch).order_by(PaperSerial.id)))
    if not rows:
        raise NotFound(_("There is no such batch of paper ballots."))
    return rows


def batches(cycle: Cycle) -> list[dict]:
    rows = db.session.execute(
        select(PaperSerial.batch, PaperSerial.district_id, PaperSerial.site, func.count())
        .where(PaperSerial.cycle_id == cycle.id)
        .group_by(PaperSerial.batch, PaperSerial.district_id, PaperSerial.site)
        .order_by(PaperSerial.batch))
    names = {d.id: d.name for d in cycle.districts}
    return [{"batch": b, "district": names.get(d, "?"), "site": s, "count": int(n)}
            for b, d, s, n in rows]


# ----- paper entry -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperReading:
    """What one person read on a paper ballot."""

    outcome: str
    #: canonical JSON of the selections ("" unless valid)
    selections: str = ""
    reason: str = ""

    def same_as(self, other: PaperReading) -> bool:
        return self.outcome == other.outcome and self.selections == other.selections


def reading(district: District, outcome: str, selections=None, reason: str = "") -> PaperReading:
    """Check a reading: a valid ballot must follow the rules, a spoiled one needs a reason."""
    if outcome not in PAPER_OUTCOMES:
        raise _bad_input(_("Say whether the ballot is valid, spoiled or invalid."))
    reason = " ".join((reason or "").split())
    if len(reason) > 300:
        raise _bad_input(_("The reason is longer than 300 characters."))
    if outcome != "valid":
        if not reason:
            raise _bad_input(_("Give the reason this ballot is spoiled or invalid."))
        return PaperReading(outcome, "", reason)
    design = district.ballot_design()
    problems = ballots.validate_ballot(design, district.project_costs(), selections)
    if problems:
        raise InPersonRefused(_("The paper ballot as entered breaks the ballot rules. If the "
                                "paper really says this, enter it as invalid with a reason."),
                              422, problems)
    return PaperReading("valid", canonical_json(ballots.selections_to_json(design, selections)))


def find_serial(cycle: Cycle, serial_text: str, lock: bool = False) -> PaperSerial:
    serial = normalise_serial(serial_text)
    if not serial:
        raise _bad_input(_("Enter the serial printed on the ballot."))
    query = select(PaperSerial).where(PaperSerial.cycle_id == cycle.id,
                                      PaperSerial.serial == serial)
    row = db.session.scalar(for_update(query) if lock else query)
    if row is None:
        raise NotFound(_("No paper ballot with serial %(serial)s was printed for this cycle.",
                         serial=serial))
    return row


def serial_rows(cycle: Cycle, serials: list[str]) -> dict[str, PaperSerial]:
    return {row.serial: row for row in db.session.scalars(select(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.serial.in_(serials)))} if serials else {}


def _refuse_final(row: PaperSerial) -> None:
    if row.status in FINAL_SERIAL_STATUSES:
        raise InPersonRefused(_("Serial %(serial)s has already been entered and is %(status)s: a "
                                "serial cannot be entered twice.",
                                serial=row.serial, status=row.status))


def _refuse_entry_now(cycle: Cycle, now: dt.datetime) -> None:
    voting_phase = cycle.phase_window("voting")
    if voting_phase is None or now < voting_phase.starts_at:
        raise VotingClosed(_("Voting has not started: there are no paper ballots to enter yet."))
    if db.session.scalar(select(ResultsSnapshot.id).where(ResultsSnapshot.cycle_id == cycle.id)):
        raise InPersonRefused(_("The results are published: paper ballots can no longer be "
                                "entered."))
    if db.session.scalar(select(PaperAudit.id).where(PaperAudit.cycle_id == cycle.id)):
        # The sample was drawn from the ballots entered by then; more would change it.
        raise InPersonRefused(_("The paper audit has started: no more paper ballots can be "
                                "entered."))


@dataclass(frozen=True)
class EntryResult:
    serial: str
    #: "entered_once", "adjudication", "counted", "spoiled" or "invalid"
    status: str


def enter_paper_ballot(cycle: Cycle, serial_text: str, read: PaperReading, actor,
                       now: dt.datetime | None = None) -> EntryResult:
    """First or second entry of a paper ballot by its serial.

    Two different staff members enter each ballot; when their readings match it is
    committed (a valid one to the chain with channel "paper" and the serial's site), else it
    waits for adjudication.
    """
    now = now or utcnow()
    _refuse_entry_now(cycle, now)
    row = find_serial(cycle, serial_text, lock=True)
    _refuse_final(row)
    if row.status == "adjudication":
        raise InPersonRefused(_("The two entries of serial %(serial)s differ: a third person "
                                "decides from the paper in the adjudication queue.",
                                serial=row.serial))
    entries = list(row.entries)
    if any(e.account_id == actor.id for e in entries):
        raise InPersonRefused(_("You have already entered this ballot: the second entry must be "
                                "made by a different staff member."))
    stage = len(entries) + 1
    db.session.add(PaperEntry(serial_id=row.id, stage=stage, account_id=actor.id,
                              outcome=read.outcome, selections=read.selections,
                              reason=read.reason, entered_at=now))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("Serial %(serial)s was entered by someone else a moment ago; "
                                "open it again.", serial=row.serial)) from error
    if stage == 1:
        row.status = "entered_once"
        db.session.flush()
        return EntryResult(row.serial, row.status)
    first = entries[0]
    if read.same_as(PaperReading(first.outcome, first.selections, first.reason)):
        _commit(cycle, row, PaperReading(first.outcome, first.selections,
                                         first.reason or read.reason), actor, "double entry")
    else:
        row.status = "adjudication"
        db.session.flush()
        log.record_action(cycle.chain_id, "paper.entries_differ", _actor_label(actor), {
            "serial": row.serial, "before": {"status": "entered_once"},
            "after": {"status": "adjudication"}})
    return EntryResult(row.serial, row.status)


def adjudicate(cycle: Cycle, serial_text: str, read: PaperReading, actor,
               now: dt.datetime | None = None) -> EntryResult:
    """A third staff member, who made neither entry, decides from the paper."""
    now = now or utcnow()
    _refuse_entry_now(cycle, now)
    row = find_serial(cycle, serial_text, lock=True)
    _refuse_final(row)
    if row.status != "adjudication":
        raise InPersonRefused(_("Serial %(serial)s is not waiting for adjudication.",
                                serial=row.serial))
    if any(e.account_id == actor.id for e in row.entries):
        raise InPersonRefused(_("You entered this ballot: a third person, who made neither "
                                "entry, must decide."))
    db.session.add(PaperEntry(serial_id=row.id, stage=3, account_id=actor.id,
                              outcome=read.outcome, selections=read.selections,
                              reason=read.reason, entered_at=now))
    db.session.flush()
    _commit(cycle, row, read, actor, "adjudication")
    return EntryResult(row.serial, row.status)


def _commit(cycle: Cycle, row: PaperSerial, read: PaperReading, actor, how: str) -> None:
    before = row.status
    if read.outcome == "valid":
        district = db.session.get(District, row.district_id)
        design = district.ballot_design()
        selections = ballots.selections_from_json(design, json.loads(read.selections))
        voting.record_in_person_ballot(cycle, district, selections, channel="paper",
                                       site=row.site)
        row.status = "counted"
        row.recorded_selections = read.selections
    else:
        row.status = read.outcome
        row.reason = read.reason
        # Spoiled and invalid ballots are never counted; the chain records why, not what.
        log.record_action(cycle.chain_id, f"paper.{read.outcome}", _actor_label(actor), {
            "serial": row.serial, "reason": read.reason, "decided_by": how,
            "before": {"status": before}, "after": {"status": read.outcome}})
    row.outcome = read.outcome
    db.session.flush()


def adjudication_queue(cycle: Cycle) -> list[PaperSerial]:
    return list(db.session.scalars(select(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.status == "adjudication")
        .order_by(PaperSerial.serial)))


def serials_awaiting_second_entry(cycle: Cycle) -> list[PaperSerial]:
    return list(db.session.scalars(select(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.status == "entered_once")
        .order_by(PaperSerial.serial)))


# ----- reconciliation ----------------------------------------------------------------------------
@dataclass
class SiteRow:
    """desk check-ins = paper counted + spoiled + invalid + awaiting entry + kiosk ballots +
    kiosk passes cancelled or still waiting + paper unreturned."""

    site: str
    district_slug: str
    district_name: str
    desk_checkins: int = 0
    paper_counted: int = 0
    paper_spoiled: int = 0
    paper_invalid: int = 0
    paper_awaiting_entry: int = 0
    kiosk_ballots: int = 0
    kiosk_not_used: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def kiosk_passes(self) -> int:
        return self.kiosk_ballots + self.kiosk_not_used

    @property
    def paper_handed_out(self) -> int:
        return self.desk_checkins - self.kiosk_passes

    @property
    def paper_returned(self) -> int:
        return (self.paper_counted + self.paper_spoiled + self.paper_invalid
                + self.paper_awaiting_entry)

    @property
    def paper_unreturned(self) -> int:
        return self.paper_handed_out - self.paper_returned

    @property
    def balanced(self) -> bool:
        return not self.problems


@dataclass
class OnlineRow:
    district_slug: str
    district_name: str
    participations: int
    ballots: int

    @property
    def balanced(self) -> bool:
        return self.participations == self.ballots


@dataclass
class DistrictCheck:
    """The ballot table against the serials and passes, per district and channel."""

    district_slug: str
    channel: str
    ballots: int
    expected: int
    district_name: str = ""

    @property
    def balanced(self) -> bool:
        return self.ballots == self.expected


@dataclass
class Reconciliation:
    sites: list[SiteRow]
    online: list[OnlineRow]
    ballot_checks: list[DistrictCheck]

    @property
    def mismatches(self) -> list[Mismatch]:
        """Each figure that does not reconcile, with the id of its row in the report's tables
        (site-row-N, online-row-N, check-row-N: N its index in sites, online, ballot_checks)."""
        found = [Mismatch(f"site-row-{index}", f"{row.site} · {row.district_name}: {problem}")
                 for index, row in enumerate(self.sites) for problem in row.problems]
        found += [Mismatch(f"online-row-{index}", _(
            "%(district)s: %(participations)s online participations but %(ballots)s online "
            "ballots", district=row.district_name, participations=row.participations,
            ballots=row.ballots)) for index, row in enumerate(self.online) if not row.balanced]
        found += [Mismatch(f"check-row-{index}", _(
            "%(district)s: %(ballots)s %(channel)s ballots stored but %(expected)s recorded as "
            "cast", district=check.district_slug, ballots=check.ballots, channel=check.channel,
            expected=check.expected))
            for index, check in enumerate(self.ballot_checks) if not check.balanced]
        return found


@dataclass(frozen=True)
class Mismatch:
    row_id: str
    message: str


def reconciliation(cycle: Cycle) -> Reconciliation:
    districts = {d.id: d for d in cycle.districts}
    rows: dict[tuple[str, int], SiteRow] = {}

    def row(site: str, district_id: int) -> SiteRow:
        key = (site, district_id)
        if key not in rows:
            district = districts[district_id]
            rows[key] = SiteRow(site, district.slug, district.name)
        return rows[key]

    for district_id, site, count in db.session.execute(
            select(Participation.district_id, Participation.site, func.count())
            .where(Participation.cycle_id == cycle.id, Participation.channel == "desk")
            .group_by(Participation.district_id, Participation.site)):
        row(site, district_id).desk_checkins = int(count)
    for district_id, site, status, count in db.session.execute(
            select(KioskPass.district_id, KioskPass.site, KioskPass.status, func.count())
            .where(KioskPass.cycle_id == cycle.id)
            .group_by(KioskPass.district_id, KioskPass.site, KioskPass.status)):
        target = row(site, district_id)
        if status == "used":
            target.kiosk_ballots += int(count)
        else:
            target.kiosk_not_used += int(count)
    for district_id, site, status, count in db.session.execute(
            select(PaperSerial.district_id, PaperSerial.site, PaperSerial.status, func.count())
            .where(PaperSerial.cycle_id == cycle.id, PaperSerial.status != "printed")
            .group_by(PaperSerial.district_id, PaperSerial.site, PaperSerial.status)):
        target = row(site, district_id)
        if status == "counted":
            target.paper_counted += int(count)
        elif status == "spoiled":
            target.paper_spoiled += int(count)
        elif status == "invalid":
            target.paper_invalid += int(count)
        else:
            target.paper_awaiting_entry += int(count)
    for site_row in rows.values():
        if site_row.paper_handed_out < 0:
            site_row.problems.append(
                _("%(kiosk_passes)s kiosk passes but only %(desk_checkins)s desk check-ins",
                  kiosk_passes=site_row.kiosk_passes, desk_checkins=site_row.desk_checkins))
        elif site_row.paper_unreturned < 0:
            site_row.problems.append(
                _("%(returned)s paper ballots returned but only %(handed_out)s handed out",
                  returned=site_row.paper_returned, handed_out=site_row.paper_handed_out))
        if site_row.paper_awaiting_entry:
            site_row.problems.append(_("%(paper_awaiting_entry)s paper ballots not yet committed "
                                       "(second entry or adjudication outstanding)",
                                       paper_awaiting_entry=site_row.paper_awaiting_entry))
    ballot_counts = Counter({(d, c): int(n) for d, c, n in db.session.execute(
        select(Ballot.district_id, Ballot.channel, func.count())
        .where(Ballot.cycle_id == cycle.id).group_by(Ballot.district_id, Ballot.channel))})
    online_participations = Counter({d: int(n) for d, n in db.session.execute(
        select(Participation.district_id, func.count())
        .where(Participation.cycle_id == cycle.id, Participation.channel == "online")
        .group_by(Participation.district_id))})
    online = [OnlineRow(d.slug, d.name, online_participations[d.id],
                        ballot_counts[(d.id, "online")]) for d in cycle.districts]
    # Kiosk ballots cast through cast_ballot(channel="kiosk") carry their own participation.
    kiosk_participations = Counter({d: int(n) for d, n in db.session.execute(
        select(Participation.district_id, func.count())
        .where(Participation.cycle_id == cycle.id, Participation.channel == "kiosk")
        .group_by(Participation.district_id))})
    checks = []
    for district in cycle.districts:
        paper = sum(r.paper_counted for (s, d), r in rows.items() if d == district.id)
        kiosk = sum(r.kiosk_ballots for (s, d), r in rows.items() if d == district.id)
        checks.append(DistrictCheck(district.slug, "paper", ballot_counts[(district.id, "paper")],
                                    paper, district.name))
        checks.append(DistrictCheck(district.slug, "kiosk", ballot_counts[(district.id, "kiosk")],
                                    kiosk + kiosk_participations[district.id], district.name))
    ordered = sorted(rows.values(), key=lambda r: (r.site, districts_position(cycle, r)))
    return Reconciliation(ordered, online, checks)


def districts_position(cycle: Cycle, row: SiteRow) -> int:
    return next((d.position for d in cycle.districts if d.slug == row.district_slug), 0)


def bundle_figures(cycle: Cycle) -> dict:
    """Per district, what the published bundle needs to reconcile desk participations with
    the paper and kiosk ballots: not_cast = desk check-ins whose ballot was never counted."""
    report = reconciliation(cycle)
    figures: dict[str, dict[str, int]] = {}
    for row in report.sites:
        entry = figures.setdefault(row.district_slug, {
            "desk_checkins": 0, "paper_counted": 0, "kiosk_ballots": 0, "spoiled": 0,
            "invalid": 0, "awaiting_entry": 0, "kiosk_not_used": 0, "unreturned": 0,
            "not_cast": 0})
        entry["desk_checkins"] += row.desk_checkins
        entry["paper_counted"] += row.paper_counted
        entry["kiosk_ballots"] += row.kiosk_ballots
        entry["spoiled"] += row.paper_spoiled
        entry["invalid"] += row.paper_invalid
        entry["awaiting_entry"] += row.paper_awaiting_entry
        entry["kiosk_not_used"] += row.kiosk_not_used
        entry["unreturned"] += row.paper_unreturned
    for entry in figures.values():
        entry["not_cast"] = (entry["desk_checkins"] - entry["paper_counted"]
                             - entry["kiosk_ballots"])
    return figures


# ----- the sampled paper audit -----------------------------------------------------------------
def _voting_closed(cycle: Cycle, now: dt.datetime) -> bool:
    phase = cycle.phase_window("voting")
    return phase is not None and now >= phase.ends_at


def audit_population(cycle: Cycle) -> list[str]:
    """Serials of every entered paper ballot (counted, spoiled or invalid)."""
    return list(db.session.scalars(select(PaperSerial.serial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.status.in_(FINAL_SERIAL_STATUSES))))


def get_audit(cycle: Cycle) -> PaperAudit | None:
    return db.session.scalar(select(PaperAudit).where(PaperAudit.cycle_id == cycle.id))


def start_audit(cycle: Cycle, *, seed: str, method: str, risk_limit: str = "",
                margin: str = "", percentage: str = "", actor,
                now: dt.datetime | None = None) -> PaperAudit:
    now = now or utcnow()
    if not _voting_closed(cycle, now):
        raise InPersonRefused(_("The paper audit starts after voting closes."))
    if get_audit(cycle) is not None:
        raise InPersonRefused(_("This cycle's paper audit has already been started; its seed and "
                                "sample cannot change."))
    unfinished = db.session.scalar(select(func.count()).select_from(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id,
        PaperSerial.status.in_(("entered_once", "adjudication"))))
    if unfinished:
        raise InPersonRefused(_("%(unfinished)s paper ballots are still waiting for a second "
                                "entry or adjudication: finish them before sampling.",
                                unfinished=unfinished))
    seed = (seed or "").strip()
    if not seed or len(seed) > 200:
        raise _bad_input(_("Enter the public random seed (up to 200 characters)."), "seed")
    population = sorted(audit_population(cycle))
    if not population:
        raise InPersonRefused(_("No paper ballots were entered: there is nothing to audit."))
    try:
        if method == "risk":
            limit = paper_audit.parse_percent(risk_limit, _("The risk limit"), field="risk_limit")
            reported = paper_audit.parse_percent(margin, _("The reported margin"), field="margin")
            size = paper_audit.sample_size("risk", len(population), risk_limit=limit,
                                           margin=reported)
        else:
            share = paper_audit.parse_percent(percentage, _("The percentage"), field="percentage")
            if (margin or "").strip():
                paper_audit.parse_percent(margin, _("The reported margin"), field="margin")
            size = paper_audit.sample_size(method, len(population), percentage=share)
    except paper_audit.AuditInputError as error:
        raise _bad_input(str(error), *([error.field] if error.field else [])) from error
    sample = paper_audit.sample_serials(seed, population, size)
    audit = PaperAudit(cycle_id=cycle.id, seed=seed, method=method,
                       risk_limit=risk_limit.strip() if method == "risk" else "",
                       margin=(margin or "").strip(),
                       percentage=percentage.strip() if method == "percentage" else "",
                       population=len(population), sample_json=json.dumps(sample),
                       account_id=actor.id, started_at=now)
    db.session.add(audit)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("The paper audit was started a moment ago by someone else.")) \
            from error
    log.record_action(cycle.chain_id, "paper_audit.started", _actor_label(actor), {
        "seed": seed, "method": method, "risk_limit": audit.risk_limit, "margin": audit.margin,
        "percentage": audit.percentage, "population": len(population), "sample": sample,
        "before": None, "after": {"sample_size": len(sample)}})
    return audit


def _recorded_reading(row: PaperSerial) -> dict:
    return {"outcome": row.outcome, "selections": json.loads(row.recorded_selections)
            if row.recorded_selections else None}


def record_finding(cycle: Cycle, serial_text: str, read: PaperReading, actor) -> bool:
    """What the auditor read on a sampled ballot; returns True when it differs from the record."""
    audit = get_audit(cycle)
    if audit is None:
        raise InPersonRefused(_("Start the paper audit first."))
    serial = normalise_serial(serial_text)
    if serial not in json.loads(audit.sample_json):
        raise InPersonRefused(_("Serial %(serial)s is not in the sample.", serial=serial))
    if any(f.serial == serial for f in audit.findings):
        raise InPersonRefused(_("A finding for serial %(serial)s is already recorded.",
                                serial=serial))
    row = find_serial(cycle, serial)
    recorded = _recorded_reading(row)
    found = {"outcome": read.outcome,
             "selections": json.loads(read.selections) if read.selections else None}
    discrepancy = recorded != found
    db.session.add(PaperAuditFinding(audit_id=audit.id, serial=serial,
                                     recorded=canonical_json(recorded),
                                     found=canonical_json(found), discrepancy=int(discrepancy),
                                     account_id=actor.id))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("A finding for serial %(serial)s was recorded a moment ago.",
                                serial=serial)) \
            from error
    log.record_action(cycle.chain_id, "paper_audit.finding", _actor_label(actor), {
        "serial": serial, "recorded": recorded, "found": found, "discrepancy": discrepancy,
        "before": None, "after": {"discrepancy": discrepancy}})
    return discrepancy


def audit_summary(audit: PaperAudit) -> paper_audit.AuditSummary:
    margin = Fraction(audit.margin) if audit.margin else None
    return paper_audit.summarise(
        audit.method, audit.population, len(json.loads(audit.sample_json)),
        sum(f.discrepancy for f in audit.findings), len(audit.findings), margin=margin)


def audit_document(cycle: Cycle) -> dict | None:
    """The seed, sample and findings as published in the bundle."""
    audit = get_audit(cycle)
    if audit is None:
        return None
    summary = audit_summary(audit)
    return {
        "seed": audit.seed, "method": audit.method, "risk_limit_percent": audit.risk_limit,
        "reported_margin_percent": audit.margin, "percentage": audit.percentage,
        "population": audit.population,
        "sampling": "sorted by SHA-256(seed + ':' + serial) hex, first n "
                    "(pbvote.rules.paper_audit)",
        #: every entered serial the sample was drawn from, so anyone can draw it again
        "population_serials": sorted(audit_population(cycle)),
        "sample": json.loads(audit.sample_json),
        "findings": [{"serial": f.serial, "recorded": json.loads(f.recorded),
                      "found": json.loads(f.found), "discrepancy": bool(f.discrepancy)}
                     for f in audit.findings],
        "audited": summary.audited, "discrepancies": summary.discrepancies,
        "discrepancy_rate": (f"{summary.discrepancy_rate.numerator}/"
                             f"{summary.discrepancy_rate.denominator}"
                             if summary.discrepancy_rate is not None else None),
        "hand_count_advised": summary.hand_count_advised,
        "explanation": summary.explanation,
    }


def bundle_document(cycle: Cycle) -> dict | None:
    """paper_audit.json: the in-person figures per district and the audit; None when the
    cycle had no in-person voting at all."""
    figures = bundle_figures(cycle)
    audit = audit_document(cycle)
    if not figures and audit is None:
        return None
    return {"districts": figures, "audit": audit}
