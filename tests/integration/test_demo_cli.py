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


def test_serve_prints_the_port_it_serves_and_shows_the_outbox(app, runner, monkeypatch):
    served = {}
    monkeypatch.setattr("pbvote.cli.serve.run_simple",
                        lambda host, port, application, **kw: served.update(
                            host=host, port=port, app=application))
    app.testing = False  # as `./run serve` runs: no test or debug mode
    result = runner.invoke(args=["serve", "--port", "5099", "--voters", "6"])
    assert result.exit_code == 0, result.output
    assert served["port"] == 5099 and served["host"] == "127.0.0.1" and served["app"] is app
    assert "http://127.0.0.1:5099" in result.output and ":5000" not in result.output
    # the demo's residents sign in by an emailed code: on the development backend the
    # outbox is shown, and the command says where
    assert "http://127.0.0.1:5099/dev/outbox" in result.output
    assert app.test_client().get("/dev/outbox").status_code == 200


def test_a_repeated_serve_marks_codes_and_residents_used_since(app, runner, monkeypatch):
    monkeypatch.setattr("pbvote.cli.serve.run_simple", lambda *args, **kw: None)
    first = runner.invoke(args=["serve", "--voters", "6"])
    assert first.exit_code == 0, first.output
    codes = re.findall(r"^  (\w[\w-]*) +([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})  ", first.output,
                       re.MULTILINE)
    district_slug, code = codes[0]
    with app.app_context(), write_intent():
        cycle = get_cycle("safer-streets-2027")
        district = cycle.district_by_slug(district_slug)
        voter = voting.verify_by_code(cycle, district, code)
        voting.cast_ballot(voter, random_selections(district.ballot_design(),
                                                    district.project_costs(), random.Random(1)))
        db.session.commit()
    again = runner.invoke(args=["serve", "--voters", "6"])
    assert again.exit_code == 0, again.output
    assert f"{code} (used)" in again.output
    assert again.output.count("(used)") == 1
    # the roll letter's resident has not voted
    assert "(voted)" not in again.output


def test_the_demo_has_a_cycle_collecting_ideas_a_newcomer_can_join(app, runner):
    seeded = runner.invoke(args=["demo", "--voters", "6"])
    assert seeded.exit_code == 0, seeded.output
    assert "/dev/outbox" in seeded.output
    client = app.test_client()
    board = client.get("/cycles/safer-streets-2028/ideas")
    assert board.status_code == 200
    assert "Walking bus to Eastside Primary" in board.text
    with app.app_context():
        from pbvote.models import Proposal, ProposalSupport
        from pbvote.services.proposals.intake import intake_open

        assert intake_open(get_cycle("safer-streets-2028"))
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 5
        assert db.session.scalar(select(func.count()).select_from(ProposalSupport)) == 10
        from pbvote.models import Comment

        assert db.session.scalar(select(func.count()).select_from(Comment)) == 4
    # a newcomer signs in by an emailed code and can send an idea
    page = client.get("/sign-in")
    from tests.conftest import csrf_token

    client.post("/sign-in", data={"csrf_token": csrf_token(page.text),
                                  "email": "newcomer@example.org", "next": ""})
    outbox = client.get("/dev/outbox").text
    code = re.search(r"\b(\d{6})\b", outbox.split("newcomer@example.org", 1)[1]).group(1)
    entered = client.post("/sign-in/code", data={"csrf_token": csrf_token(page.text),
                                                 "code": code})
    assert entered.status_code == 302, entered.text
    new_idea = client.get("/cycles/safer-streets-2028/ideas/new")
    assert new_idea.status_code == 200
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "2028" not in again.output  # seeded once


def test_the_demo_projects_show_as_cards_with_their_own_images(app, runner):
    assert runner.invoke(args=["demo", "--voters", "6"]).exit_code == 0
    client = app.test_client()
    page = client.get("/cycles/safer-streets-2027").text
    images = re.findall(r'<li class="project-card">\s*<img src="(/media/projects/[^"]+)"', page)
    assert len(images) == 14 and len(set(images)) == 14
    image = client.get(images[0])
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
