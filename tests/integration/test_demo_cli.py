"""The command-line contract: init-db, demo and cast-random, then every district counts."""
from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Participation, Project
from pbvote.services import voting
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import AlreadyVoted
from pbvote.services.log import verify_stored_chain
from pbvote.services.simulate import random_selections
from pbvote.services.tally import count_district


def test_demo_then_cast_random_then_count(app, runner):
    seeded = runner.invoke(args=["demo", "--voters", "60"])
    assert seeded.exit_code == 0, seeded.output
    assert "Safer Streets 2027" in seeded.output
    assert "access codes" in seeded.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "already exists" in again.output

    cast = runner.invoke(args=["cast-random", "safer-streets-2027", "--n", "45", "--seed", "7"])
    assert cast.exit_code == 0, cast.output
    too_many = runner.invoke(args=["cast-random", "safer-streets-2027", "--n", "16"])
    assert too_many.exit_code != 0 and "only 15" in too_many.output
    unknown = runner.invoke(args=["cast-random", "no-such-cycle", "--n", "1"])
    assert unknown.exit_code != 0 and "no-such-cycle" in unknown.output

    with app.app_context():
        cycle = get_cycle("safer-streets-2027")
        assert len(cycle.districts) == 3
        assert {d.ballot_kind for d in cycle.districts} == {"knapsack", "approval", "ranked"}
        # the demo also seeds the earlier, published cycle 2026: count this one's rows only
        projects = db.session.scalar(select(func.count()).select_from(Project).where(
            Project.cycle_id == cycle.id))
        assert 10 <= projects <= 15
        assert db.session.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.cycle_id == cycle.id)) == 45
        assert db.session.scalar(select(func.count()).select_from(Participation).where(
            Participation.cycle_id == cycle.id)) == 45
        assert verify_stored_chain(cycle.chain_id).ok
        for district in cycle.districts:
            outcome = count_district(district)
            assert outcome.total_cost <= district.budget
            assert outcome.selected, district.slug


def test_the_demo_letter_and_the_roll_details_are_one_vote(app, runner):
    seeded = runner.invoke(args=["demo", "--voters", "6"])
    assert seeded.exit_code == 0, seeded.output
    letter = re.search(r"Access code mailed to R000001 \((\w+)\): ([0-9A-Z-]{14})",
                       seeded.output)
    resident = re.search(r"^  (\w+) +([^;]+); ([0-9-]+); ([^;]+); R000001$", seeded.output,
                         re.MULTILINE)
    assert letter and resident and letter.group(1) == resident.group(1)
    with app.app_context(), write_intent():
        cycle = get_cycle("safer-streets-2027")
        district = cycle.district_by_slug(resident.group(1))
        voter = voting.verify_by_code(cycle, district, letter.group(2))
        voting.cast_ballot(voter, random_selections(district.ballot_design(),
                                                    district.project_costs(), random.Random(1)))
        db.session.commit()
        with pytest.raises(AlreadyVoted):
            voting.verify_by_roll(cycle, district, resident.group(2),
                                  dt.date.fromisoformat(resident.group(3)), resident.group(4))
