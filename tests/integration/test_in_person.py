"""In-person voting through the services, on every engine: check-in vs online exclusion,
kiosk passes, paper double entry and adjudication, reconciliation and the paper audit."""
from __future__ import annotations

import datetime as dt
import json
from functools import partial

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import (
    Account,
    Ballot,
    Cycle,
    DeskRollAddition,
    LogEntry,
    PaperSerial,
    Participation,
    RollEntry,
)
from pbvote.services import in_person, log, voting
from pbvote.services.errors import AlreadyVoted, BallotRejected, NotEligible, VotingClosed
from pbvote.services.in_person import InPersonRefused, reading
from pbvote.services.tally import count_district
from tests.factories import make_cycle
from tests.race_helpers import race
from tests.staff_helpers import make_account

APPROVAL_VOTE = ("AP-A", "AP-B")


def _cycle(cycle_id: int) -> Cycle:
    return db.session.get(Cycle, cycle_id)


def _staff(count: int = 3) -> list[int]:
    return [make_account("staff")[0] for _ in range(count)]


def _account(account_id: int) -> Account:
    return db.session.get(Account, account_id)


def _roll_entry_id(made, kind: str = "approval") -> int:
    person = made.people[kind]
    by_postcode, _ = voting.roll_match_hashes(person.last_name, person.birth_date,
                                              person.postcode)
    return db.session.scalar(select(RollEntry.id).where(
        RollEntry.cycle_id == made.cycle_id, RollEntry.postcode_match_hash == by_postcode))


def _online_voter(made, kind: str = "approval") -> voting.VerifiedVoter:
    person = made.people[kind]
    cycle = _cycle(made.cycle_id)
    return voting.verify_by_roll(cycle, cycle.district_by_slug(kind), person.last_name,
                                 person.birth_date, person.postcode)


def _check_in(made, staff_id, kind="approval", handout="paper", site="Central Library"):
    return in_person.check_in(_cycle(made.cycle_id), _roll_entry_id(made, kind), site=site,
                              id_checked=True, handout=handout, actor=_account(staff_id))


def _close_voting(cycle_id: int) -> None:
    window = _cycle(cycle_id).phase_window("voting")
    window.ends_at = utcnow() - dt.timedelta(minutes=1)
    db.session.flush()


def _serials(made, kind="approval", count=3, site="Central Library", staff_id=None) -> list[str]:
    cycle = _cycle(made.cycle_id)
    batch = in_person.print_serials(cycle, kind, site, count, _account(staff_id))
    return [row.serial for row in in_person.batch_serials(cycle, batch)]


def _valid(made, selections=APPROVAL_VOTE, kind="approval"):
    return reading(_cycle(made.cycle_id).district_by_slug(kind), "valid", selections)


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


# ----- desk vs online -------------------------------------------------------------------------
def test_check_in_blocks_online_voting(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        result = _check_in(made, staff_id)
        db.session.commit()
    assert (result.district_slug, result.site, result.handout) == \
        ("approval", "Central Library", "paper")
    participation = db.session.scalar(select(Participation))
    assert (participation.channel, participation.site) == ("desk", "Central Library")
    assert type(participation.voted_on) is dt.date
    with pytest.raises(AlreadyVoted):
        _online_voter(made)
    assert _count(Ballot) == 0  # a paper hand-out writes no ballot until the paper is entered


def test_online_vote_blocks_check_in_with_a_clear_message(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        voting.cast_ballot(_online_voter(made), APPROVAL_VOTE)
        db.session.commit()
        with pytest.raises(AlreadyVoted, match="already voted online"):
            _check_in(made, staff_id)
        db.session.rollback()
        _check_in(made, staff_id, kind="ranked")
        db.session.commit()
        with pytest.raises(AlreadyVoted, match="already checked in to vote in person at "
                                               "Central Library"):
            _check_in(made, staff_id, kind="ranked", site="Town Hall")
        db.session.rollback()
    assert sorted(db.session.scalars(select(Participation.channel))) == ["desk", "online"]


def test_check_in_refusals(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        cycle = _cycle(made.cycle_id)
        entry_id = _roll_entry_id(made)
        with pytest.raises(InPersonRefused, match="checked the resident's ID"):
            in_person.check_in(cycle, entry_id, site="Library", id_checked=False,
                               handout="paper", actor=_account(staff_id))
        with pytest.raises(InPersonRefused, match="site"):
            in_person.check_in(cycle, entry_id, site="  ", id_checked=True, handout="paper",
                               actor=_account(staff_id))
        with pytest.raises(InPersonRefused, match="paper ballot or the kiosk"):
            in_person.check_in(cycle, entry_id, site="Library", id_checked=True,
                               handout="postal", actor=_account(staff_id))
        young = db.session.scalar(select(RollEntry.id).where(
            RollEntry.cycle_id == cycle.id,
            RollEntry.birth_date == made.people["young"].birth_date))
        with pytest.raises(NotEligible, match="minimum voting age"):
            in_person.check_in(cycle, young, site="Library", id_checked=True, handout="paper",
                               actor=_account(staff_id))
        _close_voting(cycle.id)
        with pytest.raises(VotingClosed):
            in_person.check_in(cycle, entry_id, site="Library", id_checked=True,
                               handout="paper", actor=_account(staff_id))
        db.session.rollback()
    assert _count(Participation) == 0


def _race_for_one_identity(app, staff_id: int, slug: str,
                           kinds: tuple[str, str] = ("online", "desk")) -> list[str]:
    """Run the two `kinds` of attempt ("online" ballot, "desk" check-in) for one resident at
    once; returns the sorted outcomes after checking one participation was stored."""
    with app.app_context(), write_intent():
        made = make_cycle(slug=slug)
        voter = _online_voter(made)
        entry_id = _roll_entry_id(made)
        db.session.commit()
    def check_in():
        in_person.check_in(_cycle(voter.cycle_id), entry_id, site="Library", id_checked=True,
                           handout="paper", actor=_account(staff_id))

    outcomes = race(app, [(kind, partial(voting.cast_ballot, voter, APPROVAL_VOTE)
                           if kind == "online" else check_in) for kind in kinds])
    with app.app_context():
        assert _count(Participation, cycle_id=made.cycle_id) == 1
        winner = db.session.scalar(select(Participation.channel).where(
            Participation.cycle_id == made.cycle_id))
        assert _count(Ballot, cycle_id=made.cycle_id) == (1 if winner == "online" else 0)
    return outcomes


def test_concurrent_check_in_and_online_ballot_leave_one_participation(app):
    with app.app_context():
        staff_id, = _staff(1)
    for round_number in range(4):
        outcomes = _race_for_one_identity(app, staff_id, f"race-{round_number}")
        assert outcomes in (["desk", "refused"], ["online", "refused"]), outcomes


def test_two_desks_checking_in_one_resident_at_once_leave_one_participation(app):
    with app.app_context():
        staff_id, = _staff(1)
    for round_number in range(2):
        outcomes = _race_for_one_identity(
            app, staff_id, f"desks-{round_number}", kinds=("desk", "desk"))
        assert outcomes == ["desk", "refused"], outcomes


def test_lookup_by_name_birth_date_and_address(app_context):
    with write_intent():
        made = make_cycle()
        entry = db.session.get(RollEntry, _roll_entry_id(made))
        entry.display_name = "Ada Tester-One"
        db.session.commit()
    cycle = _cycle(made.cycle_id)
    person = made.people["approval"]
    assert [m.roll_entry_id for m in in_person.lookup_roll(cycle, name="tester-one")] == [entry.id]
    assert [m.roll_entry_id for m in in_person.lookup_roll(cycle, name="100%")] == []
    by_birth = in_person.lookup_roll(cycle, birth_date=person.birth_date)
    assert [m.roll_entry_id for m in by_birth] == [entry.id]
    by_address = in_person.lookup_roll(cycle, last_name=person.last_name,
                                       birth_date=person.birth_date,
                                       postcode_or_roll=person.postcode.lower())
    assert [m.roll_entry_id for m in by_address] == [entry.id]
    assert by_address[0].voted_channel is None
    with pytest.raises(InPersonRefused):
        in_person.lookup_roll(cycle)
    with pytest.raises(InPersonRefused, match="last name"):
        in_person.lookup_roll(cycle, postcode_or_roll="10001")


def test_self_declared_resident_is_added_with_a_flag_only_where_allowed(app_context):
    staff_id, = _staff(1)
    details = {"last_name": "Newcomer", "birth_date": dt.date(1990, 5, 5),
               "postcode": "10009", "display_name": "Sam Newcomer", "site": "Library",
               "proof_seen": "tenancy agreement"}
    with write_intent():
        made = make_cycle()
        cycle = _cycle(made.cycle_id)
        with pytest.raises(InPersonRefused, match="does not accept self-declared"):
            in_person.add_self_declared(cycle, "approval", actor=_account(staff_id), **details)
        cycle.self_declared_allowed = True
        with pytest.raises(InPersonRefused, match="proof of residence"):
            in_person.add_self_declared(cycle, "approval", actor=_account(staff_id),
                                        **{**details, "proof_seen": " "})
        entry = in_person.add_self_declared(cycle, "approval", actor=_account(staff_id),
                                            **details)
        in_person.check_in(cycle, entry.id, site="Library", id_checked=True, handout="paper",
                           actor=_account(staff_id))
        with pytest.raises(InPersonRefused, match="already on the roll"):
            in_person.add_self_declared(cycle, "approval", actor=_account(staff_id), **details)
        # on the roll with a roll number (another identity hash), even in another district
        listed = made.people["ranked"]
        with pytest.raises(InPersonRefused, match="already on the roll"):
            in_person.add_self_declared(cycle, "approval", actor=_account(staff_id), **{
                **details, "last_name": listed.last_name.upper(),
                "birth_date": listed.birth_date, "postcode": listed.postcode})
        db.session.commit()
    flag = db.session.scalar(select(DeskRollAddition))
    assert (flag.roll_entry_id, flag.proof_seen, flag.site) == (entry.id, "tenancy agreement",
                                                                "Library")
    matches = in_person.lookup_roll(_cycle(made.cycle_id), name="newcomer")
    assert matches[0].added_at_desk and matches[0].voted_channel == "desk"
    # logged in the system chain, whose times sit next to no ballot
    system = log.get_or_create_chain(log.SYSTEM_CHAIN).id
    assert _count(LogEntry, chain_id=system, kind="roll.self_declared_added") == 1
    assert _count(LogEntry, chain_id=_cycle(made.cycle_id).chain_id,
                  kind="roll.self_declared_added") == 0


# ----- kiosk ------------------------------------------------------------------------------------
def test_kiosk_pass_casts_one_ballot_without_a_second_participation(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        result = _check_in(made, staff_id, handout="kiosk")
        cycle = _cycle(made.cycle_id)
        with pytest.raises(BallotRejected):
            in_person.cast_kiosk_ballot(cycle, result.kiosk_pass_id, ("AP-A", "AP-B", "AP-C"))
        receipt = in_person.cast_kiosk_ballot(cycle, result.kiosk_pass_id, APPROVAL_VOTE)
        with pytest.raises(InPersonRefused, match="already been used"):
            in_person.cast_kiosk_ballot(cycle, result.kiosk_pass_id, APPROVAL_VOTE)
        db.session.commit()
    assert _count(Participation) == 1 and _count(Ballot) == 1
    ballot = db.session.scalar(select(Ballot))
    assert (ballot.channel, ballot.receipt) == ("kiosk", receipt.receipt)
    entry = db.session.scalar(select(LogEntry).where(LogEntry.kind == "ballot"))
    data = json.loads(entry.entry_json)["data"]
    assert (data["channel"], data["site"]) == ("kiosk", "Central Library")


def test_cancelled_kiosk_pass_cannot_vote_and_the_check_in_stands(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        result = _check_in(made, staff_id, handout="kiosk")
        cycle = _cycle(made.cycle_id)
        in_person.cancel_pass(cycle, result.kiosk_pass_id, _account(staff_id))
        with pytest.raises(InPersonRefused):
            in_person.cast_kiosk_ballot(cycle, result.kiosk_pass_id, APPROVAL_VOTE)
        with pytest.raises(AlreadyVoted):
            _check_in(made, staff_id, handout="kiosk")
        db.session.commit()
    assert _count(Ballot) == 0
    row = in_person.reconciliation(_cycle(made.cycle_id)).sites[0]
    assert (row.desk_checkins, row.kiosk_ballots, row.kiosk_not_used) == (1, 0, 1)


# ----- paper double entry -----------------------------------------------------------------------
def test_serials_are_random_unique_and_per_district(app_context):
    staff_id, = _staff(1)
    with write_intent():
        made = make_cycle()
        first = _serials(made, count=50, staff_id=staff_id)
        second = _serials(made, kind="ranked", count=50, staff_id=staff_id)
        with pytest.raises(InPersonRefused):
            in_person.print_serials(_cycle(made.cycle_id), "approval", "Library", 0,
                                    _account(staff_id))
        db.session.commit()
    assert len(set(first + second)) == 100
    assert all(s.startswith("AP-") and len(s) == 12 for s in first)
    assert all(s.startswith("RA-") for s in second)


def test_matching_entries_commit_a_paper_ballot_with_channel_and_site(app_context):
    first_id, second_id, _ = _staff()
    with write_intent():
        made = make_cycle()
        serial = _serials(made, count=1, staff_id=first_id)[0]
        cycle = _cycle(made.cycle_id)
        assert in_person.enter_paper_ballot(cycle, serial.lower(), _valid(made),
                                            _account(first_id)).status == "entered_once"
        assert _count(Ballot) == 0
        with pytest.raises(InPersonRefused, match="different staff member"):
            in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(first_id))
        assert in_person.enter_paper_ballot(cycle, serial, _valid(made),
                                            _account(second_id)).status == "counted"
        db.session.commit()
    ballot = db.session.scalar(select(Ballot))
    assert ballot.channel == "paper"
    assert json.loads(ballot.selections) == list(APPROVAL_VOTE)
    data = json.loads(db.session.scalar(select(LogEntry.entry_json).where(
        LogEntry.kind == "ballot")))["data"]
    assert (data["channel"], data["site"]) == ("paper", "Central Library")
    assert serial not in json.dumps(data)  # the serial stays off the public chain


def test_a_serial_cannot_be_entered_twice(app_context):
    first_id, second_id, third_id = _staff()
    with write_intent():
        made = make_cycle()
        serial = _serials(made, count=1, staff_id=first_id)[0]
        cycle = _cycle(made.cycle_id)
        in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(first_id))
        in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(second_id))
        with pytest.raises(InPersonRefused, match="cannot be entered twice") as refused:
            in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(third_id))
        assert refused.value.status == 409
        with pytest.raises(Exception, match="No paper ballot with serial"):
            in_person.enter_paper_ballot(cycle, "AP-2222-2222", _valid(made), _account(first_id))
        db.session.commit()
    assert _count(Ballot) == 1


def test_mismatch_goes_to_adjudication_by_a_third_person(app_context):
    first_id, second_id, third_id = _staff()
    with write_intent():
        made = make_cycle()
        serial = _serials(made, count=1, staff_id=first_id)[0]
        cycle = _cycle(made.cycle_id)
        in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(first_id))
        result = in_person.enter_paper_ballot(cycle, serial, _valid(made, ("AP-A",)),
                                              _account(second_id))
        assert result.status == "adjudication"
        assert [row.serial for row in in_person.adjudication_queue(cycle)] == [serial]
        assert _count(Ballot) == 0
        with pytest.raises(InPersonRefused, match="third person"):
            in_person.enter_paper_ballot(cycle, serial, _valid(made), _account(third_id))
        for entered in (first_id, second_id):
            with pytest.raises(InPersonRefused, match="a third person, who made neither"):
                in_person.adjudicate(cycle, serial, _valid(made), _account(entered))
        result = in_person.adjudicate(cycle, serial, _valid(made, ("AP-C",)), _account(third_id))
        assert result.status == "counted"
        assert in_person.adjudication_queue(cycle) == []
        db.session.commit()
    assert json.loads(db.session.scalar(select(Ballot.selections))) == ["AP-C"]
    row = db.session.scalar(select(PaperSerial))
    assert [e.stage for e in row.entries] == [1, 2, 3]


def test_spoiled_and_invalid_ballots_are_recorded_with_a_reason_and_never_counted(app_context):
    first_id, second_id, third_id = _staff()
    with write_intent():
        made = make_cycle()
        spoiled, invalid, counted = _serials(made, count=3, staff_id=first_id)
        cycle = _cycle(made.cycle_id)
        district = cycle.district_by_slug("approval")
        with pytest.raises(InPersonRefused, match="reason"):
            reading(district, "spoiled", None, "  ")
        with pytest.raises(InPersonRefused, match="enter it as invalid"):
            reading(district, "valid", ("AP-A", "AP-B", "AP-C"))
        for who in (first_id, second_id):
            in_person.enter_paper_ballot(cycle, spoiled, reading(district, "spoiled", None,
                                                                 "torn in two"), _account(who))
            in_person.enter_paper_ballot(cycle, invalid, reading(district, "invalid", None,
                                                                 "three choices marked"),
                                         _account(who))
            in_person.enter_paper_ballot(cycle, counted, _valid(made, ("AP-D",)), _account(who))
        db.session.commit()
    statuses = dict(db.session.execute(select(PaperSerial.serial, PaperSerial.status)).all())
    assert statuses == {spoiled: "spoiled", invalid: "invalid", counted: "counted"}
    assert db.session.scalar(select(PaperSerial.reason).where(
        PaperSerial.serial == spoiled)) == "torn in two"
    assert _count(Ballot) == 1
    outcome = count_district(_cycle(made.cycle_id).district_by_slug("approval"))
    assert outcome.selected == ["AP-D"]
    assert _count(LogEntry, kind="paper.spoiled") == 1
    assert _count(LogEntry, kind="paper.invalid") == 1


def test_tally_counts_paper_and_kiosk_ballots(app_context):
    first_id, second_id, _ = _staff()
    with write_intent():
        made = make_cycle()
        cycle = _cycle(made.cycle_id)
        kiosk = _check_in(made, first_id, handout="kiosk")
        in_person.cast_kiosk_ballot(cycle, kiosk.kiosk_pass_id, ("AP-C",))
        for serial in _serials(made, count=2, staff_id=first_id):
            for who in (first_id, second_id):
                in_person.enter_paper_ballot(cycle, serial, _valid(made, ("AP-C", "AP-D")),
                                             _account(who))
        voting.cast_ballot(voting.verify_by_code(cycle, cycle.district_by_slug("approval"),
                                                 made.codes["approval"][0]), ("AP-A",))
        db.session.commit()
    outcome = count_district(_cycle(made.cycle_id).district_by_slug("approval"))
    assert outcome.selected == ["AP-C", "AP-D"]  # 3 votes each; AP-A had only 1
    assert log.verify_stored_chain(_cycle(made.cycle_id).chain_id).ok


def test_paper_entry_waits_for_voting_and_stops_at_publication(app_context):
    first_id, = _staff(1)
    with write_intent():
        made = make_cycle(voting="not_yet")
        serial = _serials(made, count=1, staff_id=first_id)[0]
        with pytest.raises(VotingClosed):
            in_person.enter_paper_ballot(_cycle(made.cycle_id), serial, _valid(made),
                                         _account(first_id))


# ----- reconciliation ---------------------------------------------------------------------------
def test_reconciliation_figures_per_site_and_district(app_context):
    """Library, approval: 6 check-ins → 1 kiosk ballot, 1 kiosk pass cancelled, 4 paper
    handed out: 2 counted, 1 spoiled, 1 unreturned. Town Hall: a paper ballot returned there
    with no check-in is a mismatch. Online: 1 participation, 1 ballot."""
    a, b, _ = _staff()
    with write_intent():
        made = make_cycle(codes_per_district=8)
        cycle = _cycle(made.cycle_id)
        approval = cycle.district_by_slug("approval")
        codes_as_roll = []
        cycle.self_declared_allowed = True
        for number in range(6):
            entry = in_person.add_self_declared(
                cycle, "approval", last_name=f"Desk{number}", birth_date=dt.date(1970, 1, 1),
                postcode="10001", display_name="", site="Library", proof_seen="bill",
                actor=_account(a))
            codes_as_roll.append(entry.id)
        handouts = ["kiosk", "kiosk"] + ["paper"] * 4
        passes = [in_person.check_in(cycle, entry_id, site="Library", id_checked=True,
                                     handout=handout, actor=_account(a)).kiosk_pass_id
                  for entry_id, handout in zip(codes_as_roll, handouts)]
        in_person.cast_kiosk_ballot(cycle, passes[0], ("AP-A",))
        in_person.cancel_pass(cycle, passes[1], _account(a))
        library = _serials(made, count=5, site="Library", staff_id=a)
        for who in (a, b):
            in_person.enter_paper_ballot(cycle, library[0], _valid(made, ("AP-B",)), _account(who))
            in_person.enter_paper_ballot(cycle, library[1], _valid(made, ("AP-B",)), _account(who))
            in_person.enter_paper_ballot(cycle, library[2],
                                         reading(approval, "spoiled", None, "torn"), _account(who))
        town_hall = _serials(made, count=1, site="Town Hall", staff_id=a)
        in_person.enter_paper_ballot(cycle, town_hall[0], _valid(made, ("AP-D",)), _account(a))
        voting.cast_ballot(voting.verify_by_code(cycle, approval, made.codes["approval"][0]),
                           ("AP-A",))
        db.session.commit()
    report = in_person.reconciliation(_cycle(made.cycle_id))
    rows = {(r.site, r.district_slug): r for r in report.sites}
    library_row = rows[("Library", "approval")]
    assert (library_row.desk_checkins, library_row.kiosk_ballots, library_row.kiosk_not_used,
            library_row.paper_handed_out, library_row.paper_counted, library_row.paper_spoiled,
            library_row.paper_awaiting_entry, library_row.paper_unreturned) == \
        (6, 1, 1, 4, 2, 1, 0, 1)
    assert library_row.desk_checkins == (library_row.paper_counted + library_row.paper_spoiled
                                         + library_row.paper_unreturned
                                         + library_row.kiosk_ballots + library_row.kiosk_not_used)
    assert library_row.balanced
    hall = rows[("Town Hall", "approval")]
    assert (hall.desk_checkins, hall.paper_awaiting_entry, hall.paper_unreturned) == (0, 1, -1)
    assert not hall.balanced
    online = {r.district_slug: r for r in report.online}["approval"]
    assert (online.participations, online.ballots, online.balanced) == (1, 1, True)
    assert all(check.balanced for check in report.ballot_checks)
    assert len(report.mismatches) == 2  # Town Hall: returned > handed out, and not committed
    figures = in_person.bundle_figures(_cycle(made.cycle_id))["approval"]
    assert figures["desk_checkins"] == 6 and figures["not_cast"] == 6 - 2 - 1


# ----- the sampled paper audit ------------------------------------------------------------------
def _entered_paper_ballots(made, a, b, count, kind="approval"):
    cycle = _cycle(made.cycle_id)
    serials = _serials(made, kind=kind, count=count, staff_id=a)
    for serial in serials:
        for who in (a, b):
            in_person.enter_paper_ballot(cycle, serial, _valid(made, ("AP-A",)), _account(who))
    return serials


def test_paper_audit_sample_is_reproducible_and_findings_are_reported(app_context):
    a, b, auditor = _staff()
    with write_intent():
        made = make_cycle()
        serials = _entered_paper_ballots(made, a, b, 20)
        cycle = _cycle(made.cycle_id)
        with pytest.raises(InPersonRefused, match="after voting closes"):
            in_person.start_audit(cycle, seed="12 34 56", method="percentage",
                                  percentage="10", actor=_account(auditor))
        _close_voting(cycle.id)
        with pytest.raises(InPersonRefused, match="percent"):
            in_person.start_audit(cycle, seed="12 34 56", method="percentage",
                                  percentage="abc", actor=_account(auditor))
        audit = in_person.start_audit(cycle, seed="12 34 56", method="percentage",
                                      percentage="10", actor=_account(auditor))
        with pytest.raises(InPersonRefused, match="already been started"):
            in_person.start_audit(cycle, seed="other", method="percentage", percentage="10",
                                  actor=_account(auditor))
        sample = json.loads(audit.sample_json)
        assert len(sample) == 2 and set(sample) <= set(serials)
        import hashlib
        by_hand = sorted(serials, key=lambda s: hashlib.sha256(
            f"12 34 56:{s}".encode()).hexdigest())[:2]
        assert sample == by_hand
        district = cycle.district_by_slug("approval")
        assert in_person.record_finding(cycle, sample[0], reading(district, "valid", ("AP-A",)),
                                        _account(auditor)) is False
        assert in_person.record_finding(cycle, sample[1], reading(district, "valid", ("AP-B",)),
                                        _account(auditor)) is True
        with pytest.raises(InPersonRefused, match="paper audit has started"):
            in_person.enter_paper_ballot(cycle, serials[0], _valid(made), _account(a))
        not_sampled = next(s for s in serials if s not in sample)
        with pytest.raises(InPersonRefused, match="not in the sample"):
            in_person.record_finding(cycle, not_sampled, reading(district, "valid", ("AP-A",)),
                                     _account(auditor))
        db.session.commit()
    document = in_person.bundle_document(_cycle(made.cycle_id))
    audit_part = document["audit"]
    assert (audit_part["seed"], audit_part["sample"]) == ("12 34 56", sample)
    from pbvote.rules.paper_audit import sample_serials

    assert sample_serials(audit_part["seed"], audit_part["population_serials"],
                          len(audit_part["sample"])) == sample
    assert (audit_part["discrepancies"], audit_part["discrepancy_rate"]) == (1, "1/2")
    assert audit_part["hand_count_advised"] is True  # 50 % is above the 1 % tolerance
    assert document["districts"]["approval"]["paper_counted"] == 20
