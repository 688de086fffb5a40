"""Eligibility and casting through the services, on every engine."""
from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Ballot, Cycle, Participation
from pbvote.services import voting
from pbvote.services.errors import AlreadyVoted, BallotRejected, NotEligible, VotingClosed
from tests.factories import make_cycle, project_code
from tests.race_helpers import race

VALID_SELECTIONS = {
    "approval": ("AP-A", "AP-B"),
    "knapsack": ("KN-A", "KN-B"),
    "ranked": ("RA-C", "RA-A"),
    "cumulative": (("CU-A", 6), ("CU-D", 4)),
}


def _district(cycle_id, slug):
    return db.session.get(Cycle, cycle_id).district_by_slug(slug)


def _counts(cycle_id):
    ballots = db.session.scalar(select(func.count()).select_from(Ballot)
                                .where(Ballot.cycle_id == cycle_id))
    participations = db.session.scalar(select(func.count()).select_from(Participation)
                                       .where(Participation.cycle_id == cycle_id))
    return ballots, participations


@pytest.mark.parametrize("kind", list(VALID_SELECTIONS))
def test_roll_voter_casts_each_ballot_kind(app_context, kind):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people[kind]
        voter = voting.verify_by_roll(cycle, _district(made.cycle_id, kind), person.last_name,
                                      person.birth_date, person.postcode)
        result = voting.cast_ballot(voter, VALID_SELECTIONS[kind])
        db.session.commit()
    assert len(result.receipt) == 11 and result.receipt[5] == "-"
    assert _counts(made.cycle_id) == (1, 1)
    ballot = db.session.scalar(select(Ballot))
    assert ballot.receipt == result.receipt
    assert ballot.chain_position == result.chain_position


def test_roll_match_by_roll_number_and_normalised_name(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["ranked"]
        voter = voting.verify_by_roll(cycle, _district(made.cycle_id, "ranked"),
                                      f"  {person.last_name.upper()} ", person.birth_date,
                                      person.roll_number.lower())
    assert voter.method == "roll"


@pytest.mark.parametrize("change, code", [
    ({"last_name": "Nobody"}, "no_match"),
    ({"birth_date": dt.date(1999, 9, 9)}, "no_match"),
    ({"postcode": "99999"}, "no_match"),
    ({"district": "knapsack"}, "wrong_district"),
])
def test_roll_refusals(app_context, change, code):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["approval"]
        with pytest.raises(NotEligible) as refusal:
            voting.verify_by_roll(
                cycle, _district(made.cycle_id, change.get("district", "approval")),
                change.get("last_name", person.last_name),
                change.get("birth_date", person.birth_date),
                change.get("postcode", person.postcode))
    assert [r.code for r in refusal.value.reasons] == [code]
    assert refusal.value.status == 403


def test_too_young_is_refused(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        young = made.people["young"]
        with pytest.raises(NotEligible) as refusal:
            voting.verify_by_roll(cycle, _district(made.cycle_id, "approval"), young.last_name,
                                  young.birth_date, young.postcode)
    assert [r.code for r in refusal.value.reasons] == ["too_young"]


def test_access_code_is_single_use_and_district_bound(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        code = made.codes["approval"][0]
        with pytest.raises(NotEligible) as wrong:
            voting.verify_by_code(cycle, _district(made.cycle_id, "knapsack"), code)
        assert [r.code for r in wrong.value.reasons] == ["wrong_district"]
        with pytest.raises(NotEligible) as unknown:
            voting.verify_by_code(cycle, _district(made.cycle_id, "approval"), "AAAA-BBBB-CCCC")
        assert [r.code for r in unknown.value.reasons] == ["unknown_code"]

        voter = voting.verify_by_code(cycle, _district(made.cycle_id, "approval"), code.lower())
        voting.cast_ballot(voter, VALID_SELECTIONS["approval"])
        db.session.commit()
    with write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        with pytest.raises(AlreadyVoted):
            voting.verify_by_code(cycle, _district(made.cycle_id, "approval"), code)
        with pytest.raises(AlreadyVoted):
            voting.cast_ballot(voter, VALID_SELECTIONS["approval"])
        db.session.rollback()
    statuses = sorted(db.session.scalars(select(AccessCode.status)
                                         .where(AccessCode.district_id == voter.district_id)))
    assert statuses == ["unused", "used"]
    assert _counts(made.cycle_id) == (1, 1)


def test_voided_code_is_refused(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        code = made.codes["ranked"][1]
        voter = voting.verify_by_code(cycle, _district(made.cycle_id, "ranked"), code)
        db.session.get(AccessCode, voter.eligibility_id).status = "voided"
        db.session.flush()
        with pytest.raises(NotEligible) as refusal:
            voting.verify_by_code(cycle, _district(made.cycle_id, "ranked"), code)
        assert [r.code for r in refusal.value.reasons] == ["code_voided"]
        with pytest.raises(NotEligible):
            voting.cast_ballot(voter, VALID_SELECTIONS["ranked"])


@pytest.mark.parametrize("window", ["not_yet", "closed"])
def test_out_of_window_refused_and_nothing_stored(app_context, window):
    with write_intent():
        made = make_cycle(voting=window)
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["approval"]
        with pytest.raises(VotingClosed):
            voting.verify_by_roll(cycle, _district(made.cycle_id, "approval"), person.last_name,
                                  person.birth_date, person.postcode)
        open_voter = voting.VerifiedVoter(made.cycle_id, _district(made.cycle_id, "approval").id,
                                          "x" * 64, "roll", 1)
        with pytest.raises(VotingClosed):
            voting.cast_ballot(open_voter, VALID_SELECTIONS["approval"])
        db.session.commit()
    assert _counts(made.cycle_id) == (0, 0)


def test_invalid_ballot_is_rejected_with_reasons_and_nothing_stored(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["knapsack"]
        voter = voting.verify_by_roll(cycle, _district(made.cycle_id, "knapsack"),
                                      person.last_name, person.birth_date, person.postcode)
        with pytest.raises(BallotRejected) as rejected:
            voting.cast_ballot(voter, ("KN-A", "KN-B", "KN-C"))
        db.session.rollback()
    assert "over_budget" in {r.code for r in rejected.value.reasons}
    assert rejected.value.status == 422
    assert _counts(made.cycle_id) == (0, 0)


def test_twenty_threads_casting_for_one_identity_store_exactly_one_ballot(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["approval"]
        voter = voting.verify_by_roll(cycle, _district(made.cycle_id, "approval"),
                                      person.last_name, person.birth_date, person.postcode)
        db.session.commit()

    outcomes = race(app, [("cast", partial(voting.cast_ballot, voter,
                                           VALID_SELECTIONS["approval"]))] * 20,
                    refused="already voted")
    assert outcomes == ["already voted"] * 19 + ["cast"]
    with app.app_context():
        assert _counts(made.cycle_id) == (1, 1)
        from pbvote.services.log import verify_stored_chain

        assert verify_stored_chain(db.session.get(Cycle, made.cycle_id).chain_id).ok


def test_participation_stores_only_the_day(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["ranked"]
        voter = voting.verify_by_roll(cycle, _district(made.cycle_id, "ranked"),
                                      person.last_name, person.birth_date, person.postcode)
        voting.cast_ballot(voter, VALID_SELECTIONS["ranked"])
        db.session.commit()
    participation = db.session.scalar(select(Participation))
    assert type(participation.voted_on) is dt.date
    assert participation.channel == "online"
    assert participation.identity_hash == voter.identity_hash
    assert project_code("ranked", "A") == "RA-A"


def test_a_colliding_receipt_is_drawn_again_and_the_chain_stays_whole(app_context, monkeypatch):
    """The 50-bit receipt of a new entry can collide with a stored one: the ballot insert
    then stores nothing, and a new ballot id is drawn at the same chain position."""
    from pbvote.models import LogEntry
    from pbvote.services.log import verify_stored_chain

    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        first = _verified(cycle, made, "approval")
        taken = voting.cast_ballot(first, VALID_SELECTIONS["approval"]).receipt
        db.session.commit()

        real = voting.receipt_from_entry_hash
        drawn: list[str] = []

        def collide_once(entry_hash: str, key: str = "") -> str:
            drawn.append(real(entry_hash, key) if drawn else taken)
            return drawn[-1]

        monkeypatch.setattr(voting, "receipt_from_entry_hash", collide_once)
        second = voting.cast_ballot(_verified(cycle, made, "knapsack"),
                                    VALID_SELECTIONS["knapsack"])
        db.session.commit()
    assert len(drawn) == 2 and drawn[0] == taken
    assert second.receipt == drawn[1] != taken
    assert _counts(made.cycle_id) == (2, 2)
    positions = db.session.scalars(select(LogEntry.position).where(
        LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position)).all()
    assert positions == list(range(1, len(positions) + 1))
    assert verify_stored_chain(cycle.chain_id).ok


def test_a_double_vote_past_the_check_is_stopped_by_the_constraint(app_context, monkeypatch):
    """The unique participation row is the backstop: with the check before it skipped, the
    second cast is refused as already voted and stores nothing."""
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        voter = _verified(cycle, made, "approval")
        voting.cast_ballot(voter, VALID_SELECTIONS["approval"])
        db.session.commit()
        monkeypatch.setattr(voting, "_already_participated", lambda *args: False)
        with pytest.raises(AlreadyVoted):
            voting.cast_ballot(voter, VALID_SELECTIONS["approval"])
        db.session.rollback()
    assert _counts(made.cycle_id) == (1, 1)


def _verified(cycle, made, kind):
    person = made.people[kind]
    return voting.verify_by_roll(cycle, _district(made.cycle_id, kind), person.last_name,
                                 person.birth_date, person.postcode)
