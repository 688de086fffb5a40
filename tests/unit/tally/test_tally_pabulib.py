"""Pabulib .pb reading and writing: every real file round-trips; bad files name the line."""
from __future__ import annotations

from fractions import Fraction

import pytest
from tally_testdata import pabulib_dir

from pbvote.tally import (
    Instance,
    PabulibError,
    Profile,
    dumps_pabulib,
    from_election,
    parse_pabulib,
    read_pabulib,
    run_rule,
)

GOOD = """META
key;value
description;"Test; with a semicolon"
budget;100.5
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;votes;name;selected
a;50.25;2;"Park; north";1
b;50;1;Library;0
w;999999999;1;Withdrawn;0
VOTES
voter_id;vote;age
1;a,b;30
2;a,w;
"""


def _strip_lines(rows):
    return [{k: v for k, v in r.items() if k != "_line"} for r in rows]


def test_parse_exact_costs_quoting_and_optional_fields():
    pb = parse_pabulib(GOOD)
    assert pb.meta["description"] == "Test; with a semicolon"
    inst = pb.instance
    assert inst.budget == Fraction(201, 2)
    assert inst.by_id["a"].cost == Fraction(201, 4) and inst.by_id["a"].name == "Park; north"
    assert inst.by_id["a"].extra["selected"] == "1"
    assert not inst.by_id["w"].selectable
    assert pb.votes[0]["age"] == "30" and pb.votes[1]["age"] == ""
    assert pb.profile.num_voters == 2
    assert pb.official_selection == {"a"}
    assert run_rule(inst, pb.profile, "greedy").selected == ["a", "b"]


@pytest.mark.parametrize("path", sorted(pabulib_dir().glob("*.pb")), ids=lambda p: p.stem)
def test_real_files_round_trip(path):
    pb = read_pabulib(path)
    again = parse_pabulib(dumps_pabulib(pb), "rewritten")
    assert again.meta == pb.meta
    assert again.project_columns == pb.project_columns and again.vote_columns == pb.vote_columns
    assert _strip_lines(again.projects) == _strip_lines(pb.projects)
    assert _strip_lines(again.votes) == _strip_lines(pb.votes)
    assert again.profile.groups == pb.profile.groups
    assert int(pb.meta["num_votes"]) == pb.profile.num_voters
    assert int(pb.meta["num_projects"]) == len(pb.instance.projects)
    # Pabulib's votes column is the number of supporters
    if "votes" in pb.project_columns:
        sup = pb.profile.supporters()
        assert all(sup[p.id] == int(p.extra["votes"]) for p in pb.instance.projects)


def test_cumulative_points_are_read_exactly(pabulib_path):
    pb = read_pabulib(pabulib_path / "Switzerland_Zurich_D10.pb")
    assert pb.profile.ballot_type == "cumulative"
    scores = pb.profile.scores()
    assert all(scores[p.id] == int(p.extra["score"]) for p in pb.instance.projects)


def test_decimal_costs_are_exact(pabulib_path):
    pb = read_pabulib(pabulib_path / "Poland_Krakow_2023_Nowa_Huta.pb")
    assert pb.instance.budget == Fraction(245848822, 100)
    pb = read_pabulib(pabulib_path / "France_Toulouse_2024.pb")
    assert all(isinstance(p.cost, int) for p in pb.instance.projects)  # "100000.0" -> 100000


def test_from_election_writes_a_file_that_reads_back():
    inst = Instance.from_plain(budget="10.5", projects=[("x", 3, "X"), ("y", Fraction(7, 2), "Y")])
    prof = Profile.cumulative(inst, [{"x": 2, "y": 1}, {"x": 2, "y": 1}, {"y": 3}])
    text = dumps_pabulib(from_election(inst, prof, {"description": "demo"}, selected=["x"]))
    back = parse_pabulib(text)
    assert back.instance.budget == Fraction(21, 2)
    assert back.instance.by_id["y"].cost == Fraction(7, 2)
    assert sorted(back.profile.groups) == sorted(prof.groups)
    assert back.official_selection == {"x"}


def _bad(text):
    with pytest.raises(PabulibError) as info:
        parse_pabulib(text, "bad.pb")
    return info.value


@pytest.mark.parametrize("mutate, line, column, words", [
    (lambda t: t.replace("a;50.25;2", "a;fifty;2"), 9, 3, "cost 'fifty' is not a number"),
    (lambda t: t.replace("1;a,b;30", "1;a,zz;30"), 14, 3, "votes for project 'zz', which is not in PROJECTS"),
    (lambda t: t.replace("b;50;1;Library;0", "b;50;1;Library"), 10, 15, "has 4 fields but the header has 5"),
    (lambda t: t.replace("b;50;1;Library;0", "a;50;1;Library;0"), 10, 1, "'a' appears twice"),
    (lambda t: t.replace("1;a,b;30", "1;a,a;30"), 14, 3, "lists project(s) a more than once"),
    (lambda t: t.replace("project_id;cost", "id;cost"), 8, 1, "must start with 'project_id'"),
    (lambda t: "junk\n" + t, 1, 1, "before the first section"),
    (lambda t: t.replace("b;50;1;Library;0", 'b;50;1;"Lib"rary;0'), 10, 8,
     "a cell starts with a quote, but its closing quote is followed by 'rary'"),
    (lambda t: t.replace("b;50;1;Library;0", 'b;50;1;"Library;0'), 10, 8, "never closed"),
    (lambda t: t.replace("b;50;1;Library;0", "b;-5;1;Library;0"), 10, 3, "negative cost"),
    (lambda t: t.replace("b;50;1;Library;0", "b;1e999999999;1;Library;0"), 10, 3,
     "has an exponent beyond the bound (at most 100)"),
    (lambda t: t.replace("b;50;1;Library;0", f"b;{'9' * 5000};1;Library;0"), 10, 3,
     "5000 characters long; a number here has at most 60"),
    (lambda t: t.replace("budget;100.5", "budget;lots"), 4, 8, "META budget 'lots' is not a number"),
    (lambda t: t.replace("project_id;cost;votes", "project_id;cost;cost"), 8, 17, "repeats the column 'cost'"),
])
def test_bad_files_name_the_line_column_and_problem(mutate, line, column, words):
    err = _bad(mutate(GOOD))
    assert (err.line, err.column) == (line, column), str(err)
    assert words in str(err) and f"bad.pb:{line}:{column}: " in str(err)


@pytest.mark.parametrize("mutate, words", [
    (lambda t: t.split("VOTES")[0], "missing VOTES section"),
    (lambda t: t.replace("budget;100.5\n", ""), "META has no 'budget'"),
    (lambda t: t.replace("vote_type;approval", "vote_type;telepathy"), "unknown vote_type"),
])
def test_bad_files_without_a_single_line_still_say_what_is_wrong(mutate, words):
    assert words in str(_bad(mutate(GOOD)))


def test_points_must_match_votes():
    text = GOOD.replace("vote_type;approval", "vote_type;cumulative").replace(
        "voter_id;vote;age", "voter_id;vote;points").replace("1;a,b;30", "1;a,b;3").replace("2;a,w;", "2;a;1")
    err = _bad(text)
    assert err.line == 14 and "2 projects but 1 points" in str(err)
