"""Properties that hold for every rule on random elections."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import RULES, Instance, Profile, TieError, explain, run_rule

REPO = Path(__file__).resolve().parents[3]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULE_PARAMS = [(name, {"min_score": 2} if name == "greedy-threshold" else {}) for name in RULES]


@st.composite
def elections(draw, ballot_type=None):
    kind = ballot_type or draw(st.sampled_from(["approval", "ordinal", "cumulative", "scoring"]))
    n = draw(st.integers(1, 6))
    ids = [f"p{i}" for i in range(n)]
    costs = [draw(st.one_of(st.integers(0, 40), st.fractions(0, 40, max_denominator=4))) for _ in ids]
    budget = draw(st.one_of(st.integers(0, 100), st.fractions(0, 100, max_denominator=100)))
    inst = Instance.from_plain(budget=budget, projects=list(zip(ids, costs)))
    voters = draw(st.integers(0, 10))
    if kind == "approval":
        ballots = [draw(st.sets(st.sampled_from(ids))) for _ in range(voters)]
    elif kind == "ordinal":
        ballots = [tuple(draw(st.permutations(ids)))[:draw(st.integers(0, n))] for _ in range(voters)]
    else:
        ballots = [draw(st.dictionaries(st.sampled_from(ids), st.integers(0, 5))) for _ in range(voters)]
    return inst, Profile.from_plain(inst, kind, ballots), ballots


@SETTINGS
@given(elections())
def test_budget_is_never_exceeded_and_selection_is_consistent(case):
    inst, prof, _ = case
    for name, params in RULE_PARAMS:
        if prof.ballot_type not in RULES[name].ballot_types:
            continue
        out = run_rule(inst, prof, name, params)
        assert out.total_cost == sum((inst.by_id[p].cost for p in out.selected), 0)
        assert out.total_cost <= inst.budget
        assert len(set(out.selected)) == len(out.selected)
        assert all(inst.by_id[p].selectable for p in out.selected)
        json.loads(out.to_json())
        text = explain(out, inst)           # every trace entry has a plain-language rendering
        assert "{'type'" not in text and "Selected (" in text


@SETTINGS
@given(elections())
def test_completions_are_exhaustive_where_promised(case):
    inst, prof, _ = case
    votes = prof.supporters()
    scores = prof.scores()
    fundable = [p for p in inst.projects if p.selectable and scores[p.id] > 0]

    def exhaustive(out, pool):
        return not any(p.id not in out.selected and out.total_cost + p.cost <= inst.budget for p in pool)

    # greedy (skip) and MES + utilitarian completion: no supported project still fits
    assert exhaustive(run_rule(inst, prof, "greedy"), fundable)
    out = run_rule(inst, prof, "equalshares/add1", {"utilitarian_completion": True, "comparison": "satisfaction"})
    assert exhaustive(out, fundable)
    assert "{'type'" not in explain(out, inst)
    # add1 with its exhaustive stop: exhaustive, or the next step would have overspent, or every
    # supported project is funded (then no amount of money changes the outcome)
    out = run_rule(inst, prof, "equalshares/add1")
    kinds = [s["type"] for s in out.trace]
    if "add1" in kinds:
        last = [s for s in out.trace if s["type"] == "add1"][-1]
        all_funded = all(p.id in out.selected for p in inst.projects
                         if p.selectable and p.cost > 0 and votes[p.id] > 0)
        assert (last["result"] == "overspends" or all_funded
                or exhaustive(out, [p for p in inst.projects if p.selectable]))


@SETTINGS
@given(elections(), st.randoms(use_true_random=False))
def test_relabelling_projects_changes_nothing_but_the_tie_break(case, rnd):
    """Renaming and reordering projects (and shuffling ballots) gives the renamed outcome,
    unless a tie only the lot could break occurred (ties=error makes that visible)."""
    inst, prof, ballots = case
    ids = [p.id for p in inst.projects]
    new_ids = [f"q{i}" for i in range(len(ids))]
    rnd.shuffle(new_ids)
    rename = dict(zip(ids, new_ids))
    projects = [(rename[p.id], p.cost) for p in inst.projects]
    rnd.shuffle(projects)
    inst2 = Instance.from_plain(budget=inst.budget, projects=projects)
    if prof.ballot_type == "approval":
        ballots2 = [{rename[p] for p in b} for b in ballots]
    elif prof.ballot_type == "ordinal":
        ballots2 = [tuple(rename[p] for p in b) for b in ballots]
    else:
        ballots2 = [{rename[p]: v for p, v in b.items()} for b in ballots]
    rnd.shuffle(ballots2)
    prof2 = Profile.from_plain(inst2, prof.ballot_type, ballots2)
    for name, params in RULE_PARAMS:
        if prof.ballot_type not in RULES[name].ballot_types:
            continue
        params = {**params, "ties": "error"}
        try:
            first = run_rule(inst, prof, name, params)
        except TieError:
            continue
        second = run_rule(inst2, prof2, name, params)
        assert second.selected == [rename[p] for p in first.selected], name
        assert second.total_cost == first.total_cost


def test_gmpy2_and_fraction_give_identical_results(pabulib_path):
    """gmpy2 is only a speed-up: the same count with plain Fractions gives the same JSON."""
    code = (
        "import sys, json\n"
        "if sys.argv[1] == 'fraction': sys.modules['gmpy2'] = None\n"
        "from pbvote.tally import read_pabulib, run_rule, HAVE_GMPY2\n"
        "assert HAVE_GMPY2 == (sys.argv[1] == 'gmpy2')\n"
        "pb = read_pabulib(sys.argv[2])\n"
        "print(run_rule(pb.instance, pb.profile, 'equalshares/add1-comparison', {'exhaustive': False}).to_json())\n"
        "print(run_rule(pb.instance, pb.profile, 'phragmen').to_json())\n"
    )
    path = str(pabulib_path / "Netherlands_Assen_2024.pb")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outs = [subprocess.run([sys.executable, "-c", code, mode, path], capture_output=True, text=True,
                           env=env, check=True).stdout for mode in ("gmpy2", "fraction")]
    assert outs[0] == outs[1] and len(outs[0]) > 1000


def test_exact_number_helpers():
    from pbvote.tally.exact import fmt_approx, fmt_exact, json_exact, parse_exact
    assert parse_exact("2458488.22") == Fraction(245848822, 100)
    assert parse_exact("100000.0") == 100000 and isinstance(parse_exact("100000.0"), int)
    assert parse_exact("1e3") == 1000 and parse_exact("3/4") == Fraction(3, 4)
    for bad in ("nan", "inf", "", "1,5", "abc"):
        try:
            parse_exact(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    assert fmt_exact(Fraction(1, 8)) == "0.125" and fmt_exact(Fraction(1, 3)) == "1/3"
    assert fmt_exact(Fraction(-5, 2)) == "-2.5" and json_exact(Fraction(4, 2)) == 2
    assert fmt_approx(Fraction(2, 3), 2) == "0.67"
