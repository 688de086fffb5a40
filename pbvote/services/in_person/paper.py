"""Paper ballots: printed serials, double entry by two staff members, and adjudication
when the two differ."""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import _, format_number
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, ResultsSnapshot
from pbvote.models.in_person import (
    FINAL_SERIAL_STATUSES,
    PAPER_OUTCOMES,
    PaperAudit,
    PaperEntry,
    PaperSerial,
)
from pbvote.rules import ballots
from pbvote.services import log, voting
from pbvote.services.errors import NotFound, VotingClosed
from pbvote.services.in_person.common import (
    InPersonRefused,
    _actor_label,
    _bad_input,
    _district,
    clean_site,
)

MAX_SERIALS_PER_BATCH = 2000
#: serial letters: no 0/O, 1/I/L, so a clerk can type what is printed
SERIAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


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
    problems = ballots.validate_ballot(design, district.project_costs(), selections,
                                      currency=district.cycle.currency)
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
