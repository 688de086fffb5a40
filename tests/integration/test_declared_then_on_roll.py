"""One person, one vote, whichever way they prove eligibility: a resident who declared online
and is later added to the roll (by a roll import, or at a desk) cannot vote again under the
roll identity, and a declaration made by someone on the roll cannot be used to vote.

The declared identity (given names, last name, birth date) and the roll identity (district,
last name, birth date, postcode) are different keyed hashes; the declaration also keeps the
person key that a roll entry of that person has (last name, birth date, postcode)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Cycle, OutboxMessage, Participation, RollEntry
from pbvote.rules.self_declaration import Declaration
from pbvote.services import in_person, roll_import, self_declaration, voting
from pbvote.services.errors import AlreadyVoted, NotEligible
from pbvote.services.roll import issue_access_codes
from pbvote.services.self_declaration import DeclarationRefused
from tests.factories import make_cycle
from tests.race_helpers import race
from tests.staff_helpers import make_account

# on no roll at first; the roll file later lists her by a roll number as well
PERSON = Declaration(given_names="Mei Ling", last_name="Chen", street="3 Harbour Road",
                     postcode="10003", birth_date=dt.date(2008, 2, 1), contact="mei@example.org")
HEADER = "last_name,birth_date,postcode,district,roll_number\n"


def _cycle(cycle_id) -> Cycle:
    return db.session.get(Cycle, cycle_id)


def _counts(cycle_id) -> tuple[int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(table)
                                   .where(table.cycle_id == cycle_id))
                 for table in (Ballot, Participation))


def _declare_and_confirm(cycle_id, district="approval"):
    cycle = _cycle(cycle_id)
    declaration_id = self_declaration.declare(cycle, cycle.district_by_slug(district), PERSON)
    body = db.session.scalar(select(OutboxMessage.body).where(
        OutboxMessage.recipient == "mei@example.org").order_by(OutboxMessage.id.desc()))
    return self_declaration.confirm(cycle, declaration_id, re.search(r"\d{6}", body).group())


def _import_roll_with_her(world, tmp_path, district):
    """A roll import whose file lists the cycle's people and now also her."""
    cycle = _cycle(world.cycle_id)
    lines = [HEADER]
    for slug, person in world.people.items():
        slug = cycle.districts[0].slug if slug == "young" else slug
        lines.append(f"{person.last_name},{person.birth_date},{person.postcode},{slug},"
                     f"{person.roll_number}\n")
    lines.append(f"CHEN,{PERSON.birth_date},100 03,{district},R-77\n")
    path = tmp_path / "roll.csv"
    path.write_text("".join(lines), encoding="utf-8")
    plan = roll_import.apply_import(cycle, path, "staff:test")
    assert plan.ok and (plan.added, plan.removed) == (1, 0), plan.counts()
    return db.session.scalar(select(RollEntry).where(
        RollEntry.cycle_id == world.cycle_id, RollEntry.birth_date == PERSON.birth_date))


def _staff(world) -> Account:
    return db.session.get(Account, world.staff_id)


@dataclass
class World:
    cycle_id: int
    people: dict
    staff_id: int


@pytest.fixture
def world(app):
    with app.app_context():
        staff_id = make_account("staff")[0]
        with write_intent():
            made = make_cycle(codes_per_district=0)
            cycle = _cycle(made.cycle_id)
            cycle.online_self_declaration = cycle.self_declared_allowed = True
            db.session.commit()
        return World(made.cycle_id, made.people, staff_id)


@pytest.mark.parametrize("roll_district", ["approval", "knapsack"])
def test_declared_voter_imported_onto_the_roll_cannot_vote_again(app, world, tmp_path,
                                                                 roll_district):
    """declare → vote → roll import lists her (same district or another) → every roll way
    in (roll details, roll number, a letter's code, the desk) says she has voted."""
    with app.app_context(), write_intent():
        voter = _declare_and_confirm(world.cycle_id)
        voting.cast_ballot(voter, ("AP-A",), cycle=_cycle(world.cycle_id))
        db.session.commit()
    with app.app_context(), write_intent():
        entry = _import_roll_with_her(world, tmp_path, roll_district)
        entry_id, entry_district_id = entry.id, entry.district_id
        entry_identity = entry.identity_hash
        code = issue_access_codes(_cycle(world.cycle_id), entry.district, 1,
                                  roll_entry_id=entry.id)[0]
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = _cycle(world.cycle_id)
        district = cycle.district_by_slug(roll_district)
        for typed in ("10003", "R-77"):
            with pytest.raises(AlreadyVoted):
                voting.verify_by_roll(cycle, district, "Chen", PERSON.birth_date, typed)
        with pytest.raises(AlreadyVoted):
            voting.verify_by_code(cycle, district, code)
        # a check made before her online vote, cast after it, is refused at the cast
        stale = voting.VerifiedVoter(cycle.id, entry_district_id, entry_identity, "roll",
                                     entry_id)
        with pytest.raises(AlreadyVoted):
            voting.cast_ballot(stale, (f"{roll_district[:2].upper()}-A",), cycle=cycle)
        staff = _staff(world)
        with pytest.raises(AlreadyVoted):
            in_person.check_in(cycle, entry_id, site="Library", id_checked=True,
                               handout="paper", actor=staff)
        db.session.rollback()
        assert _counts(world.cycle_id) == (1, 1)


def test_declared_voter_added_at_a_desk_cannot_vote_again(app, world):
    with app.app_context(), write_intent():
        voter = _declare_and_confirm(world.cycle_id)
        voting.cast_ballot(voter, ("AP-A",), cycle=_cycle(world.cycle_id))
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = _cycle(world.cycle_id)
        staff = _staff(world)
        entry = in_person.add_self_declared(
            cycle, "knapsack", last_name="Chen", birth_date=PERSON.birth_date,
            postcode="10003", display_name="Mei Ling Chen", site="Library",
            proof_seen="tenancy agreement", actor=staff)
        with pytest.raises(AlreadyVoted):
            in_person.check_in(cycle, entry.id, site="Library", id_checked=True,
                               handout="kiosk", actor=staff)
        db.session.rollback()
        assert _counts(world.cycle_id) == (1, 1)


def test_roll_voter_cannot_then_declare(app, world, tmp_path):
    """The reverse order: on the roll and voted → declaring online is refused."""
    with app.app_context(), write_intent():
        _import_roll_with_her(world, tmp_path, "knapsack")
        cycle = _cycle(world.cycle_id)
        roll_voter = voting.verify_by_roll(cycle, cycle.district_by_slug("knapsack"), "Chen",
                                           PERSON.birth_date, "10003")
        voting.cast_ballot(roll_voter, ("KN-A",), cycle=cycle)
        db.session.commit()
    with app.app_context(), write_intent():
        with pytest.raises(DeclarationRefused) as refused:
            _declare_and_confirm(world.cycle_id)
        assert refused.value.status == 409
        db.session.rollback()
        assert _counts(world.cycle_id) == (1, 1)


def test_confirmed_declaration_cannot_vote_once_she_is_on_the_roll(app, world, tmp_path):
    """declare → confirm (not voted yet) → roll import → the declaration no longer votes;
    the roll does, once."""
    with app.app_context(), write_intent():
        declared = _declare_and_confirm(world.cycle_id)
        db.session.commit()
    with app.app_context(), write_intent():
        _import_roll_with_her(world, tmp_path, "approval")
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = _cycle(world.cycle_id)
        with pytest.raises(NotEligible) as refused:
            voting.cast_ballot(declared, ("AP-A",), cycle=cycle)
        assert "roll" in refused.value.message
        db.session.rollback()
        roll_voter = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), "Chen",
                                           PERSON.birth_date, "R-77")
        voting.cast_ballot(roll_voter, ("AP-B",), cycle=cycle)
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = _cycle(world.cycle_id)
        with pytest.raises(AlreadyVoted):
            voting.cast_ballot(declared, ("AP-A",), cycle=cycle)
        db.session.rollback()
        assert _counts(world.cycle_id) == (1, 1)


def test_a_declaration_and_a_roll_check_casting_at_once_vote_once(app, world):
    """Both checks pass before either casts (she was added at a desk after confirming her
    declaration); then both cast at the same moment, several times: one ballot."""
    with app.app_context(), write_intent():
        declared = _declare_and_confirm(world.cycle_id)
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = _cycle(world.cycle_id)
        entry = in_person.add_self_declared(
            cycle, "approval", last_name="Chen", birth_date=PERSON.birth_date,
            postcode="10003", display_name="", site="Library", proof_seen="letter",
            actor=_staff(world))
        db.session.commit()
        by_roll = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), "Chen",
                                        PERSON.birth_date, "10003")
        assert by_roll.eligibility_id == entry.id

    def cast(voter):
        def run():
            try:
                voting.cast_ballot(voter, ("AP-A",), cycle=_cycle(world.cycle_id))
            except NotEligible as refused:  # "you are on the roll now"
                raise AlreadyVoted() from refused
        return run

    outcomes = race(app, [("declared", cast(declared)), ("roll", cast(by_roll))] * 3)
    assert sorted(set(outcomes)) in (["refused", "roll"], ["declared", "refused"])
    assert outcomes.count("refused") == 5
    with app.app_context():
        assert _counts(world.cycle_id) == (1, 1)
