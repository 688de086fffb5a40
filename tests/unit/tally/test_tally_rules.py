"""Hand-checked behaviour of each rule, the tie-break, the trace and the JSON form."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

from pbvote.tally import (
    RULES,
    Instance,
    Profile,
    TallyInputError,
    TieError,
    describe_rules,
    explain,
    run_rule,
)


def approval(budget, costs, ballots):
    inst = Instance.from_plain(budget=budget, projects=[{"id": k, "cost": v, "name": k.upper()}
                                                        for k, v in costs.items()])
    return inst, Profile.approval(inst, ballots)


# A majority (6 voters: A, B; 1 voter: A) and a minority (4 voters: C, D).
MAJ_MIN = ({"A": 60, "B": 60, "C": 40, "D": 40},
           [{"A", "B"}] * 6 + [{"A"}] + [{"C", "D"}] * 4)


# ----- greedy ---------------------------------------------------------------------------------
def test_greedy_skips_or_stops():
    inst, prof = approval(100, {"a": 70, "b": 40, "c": 20}, [{"a", "b", "c"}] * 3 + [{"a", "b"}] * 2 + [{"a"}])
    assert run_rule(inst, prof, "greedy").selected == ["a", "c"]
    out = run_rule(inst, prof, "greedy-no-skip")
    assert out.selected == ["a"]
    assert [s["decision"] for s in out.trace if s["type"] == "greedy"] == ["funded", "stopped", "not considered"]
    assert out.params["skip"] is False
    with pytest.raises(TallyInputError):
        run_rule(inst, prof, "greedy-no-skip", {"skip": True})


def test_greedy_threshold_and_density():
    inst, prof = approval(100, {"a": 90, "b": 10, "c": 10}, [{"a", "b"}] * 3 + [{"a"}] + [{"c"}])
    with pytest.raises(TallyInputError, match="min_score"):
        run_rule(inst, prof, "greedy-threshold")
    out = run_rule(inst, prof, "greedy-threshold", {"min_score": 2})
    assert out.selected == ["a", "b"]
    assert [s["decision"] for s in out.trace if s["project"] == "c"] == ["below threshold"]
    # density: b (3 votes / 10) and c (1/10) beat a (4/90)
    assert run_rule(inst, prof, "greedy-density").selected == ["b", "c"]


def test_projects_without_support_or_withdrawn_are_never_funded():
    inst = Instance.from_plain(budget=10**9, projects=[
        {"id": "a", "cost": 5}, {"id": "gone", "cost": 999_999_999}, {"id": "w", "cost": 1, "withdrawn": True},
        {"id": "nobody", "cost": 1}])
    prof = Profile.approval(inst, [{"a", "gone", "w"}])
    for rule in RULES:
        params = {"min_score": 1} if rule == "greedy-threshold" else {}
        assert run_rule(inst, prof, rule, params).selected == ["a"], rule


def test_ordinal_borda_over_ballot_length_and_dowdall():
    inst = Instance.from_plain(budget=100, projects=[("a", 50), ("b", 50), ("c", 50)])
    prof = Profile.ordinal(inst, [("a", "b", "c"), ("c", "b", "a"), ("b",)], max_length=3)
    assert prof.scores("borda") == {"a": 4, "b": 7, "c": 4}       # partial ballot: b gets 3
    assert prof.scores("dowdall") == {"a": Fraction(4, 3), "b": 2, "c": Fraction(4, 3)}
    assert prof.scores("5,1,0") == {"a": 5, "b": 7, "c": 5}
    out = run_rule(inst, prof, "greedy", {"scoring_fn": "borda", "tie_seed": "x"})
    assert out.selected[0] == "b" and len(out.selected) == 2
    assert out.ties and out.ties[0]["tied"] == ["a", "c"] and out.ties[0]["decided_by"] == "lot"


def test_cumulative_greedy_and_mes_use_points():
    inst = Instance.from_plain(budget=10, projects=[("x", 5), ("y", 5), ("z", 5)])
    prof = Profile.cumulative(inst, [{"x": 3, "y": 1}, {"x": 2, "z": 2}, {"z": 1}])
    assert prof.scores() == {"x": 5, "y": 1, "z": 3}
    assert run_rule(inst, prof, "greedy").selected == ["x", "z"]
    assert run_rule(inst, prof, "equalshares").selected[0] == "x"


# ----- ties -------------------------------------------------------------------------------------
def test_tie_break_lowest_cost_then_most_votes_then_lot_or_error():
    inst, prof = approval(10, {"a": 6, "b": 5}, [{"a", "b"}])
    out = run_rule(inst, prof, "greedy")
    assert out.selected == ["b"] and out.ties[0]["decided_by"] == "lowest cost"

    inst, prof = approval(10, {"a": 6, "b": 6}, [{"a", "b"}])
    first = run_rule(inst, prof, "greedy", {"tie_seed": "seed-1"}).selected
    assert first == run_rule(inst, prof, "greedy", {"tie_seed": "seed-1"}).selected  # reproducible
    seeds = {tuple(run_rule(inst, prof, "greedy", {"tie_seed": f"s{i}"}).selected) for i in range(20)}
    assert seeds == {("a",), ("b",)}                                             # the seed decides
    with pytest.raises(TieError):
        run_rule(inst, prof, "greedy", {"ties": "error"})
    with pytest.raises(TieError):
        run_rule(inst, prof, "equalshares", {"ties": "error"})

    # equal points and cost: the project more voters support wins
    inst = Instance.from_plain(budget=5, projects=[("x", 5), ("y", 5)])
    prof = Profile.cumulative(inst, [{"x": 2}, {"y": 1}, {"y": 1}])
    out = run_rule(inst, prof, "greedy")
    assert out.selected == ["y"] and out.ties[0]["decided_by"] == "most votes"


# ----- equal shares ------------------------------------------------------------------------------
def test_mes_is_proportional_where_greedy_is_not():
    inst, prof = approval(120, *MAJ_MIN)
    assert run_rule(inst, prof, "greedy").selected == ["A", "B"]
    out = run_rule(inst, prof, "equalshares")
    assert out.selected == ["A", "C"] and out.total_cost == 100 and out.leftover == 20
    rounds = [s for s in out.trace if s["type"] == "mes_round"]
    assert rounds[0]["project"] == "A" and rounds[0]["effective_votes"] == 7
    assert rounds[0]["payment"] == Fraction(60, 7) and rounds[0]["full_payers"] == 7
    assert rounds[1]["budgets_after"]["voters_with_money"] == 11   # A's voters keep small change
    text = explain(out, inst)
    assert "effective votes" in text and "Round 2: C (C)" in text


def test_comparison_step_falls_back_to_greedy_when_more_voters_prefer_it():
    inst, prof = approval(120, *MAJ_MIN)
    out = run_rule(inst, prof, "equalshares/add1-comparison")
    comp = [s for s in out.trace if s["type"] == "comparison"][0]
    assert (comp["prefer_mes"], comp["prefer_greedy"], comp["use_greedy"]) == (4, 6, True)
    assert out.selected == ["A", "B"]
    out = run_rule(inst, prof, "equalshares/add1-comparison", {"comparison": "exclusion_ratio"})
    comp = [s for s in out.trace if s["type"] == "comparison"][0]
    assert (comp["prefer_mes"], comp["prefer_greedy"], comp["use_greedy"]) == (4, 0, False)
    assert out.selected == ["A", "C"]


def test_add1_raises_budgets_until_exhaustive_or_overspending():
    inst, prof = approval(100, {"a": 60, "b": 30, "c": 25},
                          [{"a"}] * 5 + [{"b"}] * 3 + [{"c"}] * 2)
    # per voter 10: a (50 < 60) not affordable, b (30) and c (20 < 25): only b
    assert run_rule(inst, prof, "equalshares").selected == ["b"]
    out = run_rule(inst, prof, "equalshares/add1")
    # at 12 per voter a is affordable (60): a, b = 90, and c (25) no longer fits: exhaustive, stop
    assert out.selected == ["a", "b"]
    steps = [s for s in out.trace if s["type"] == "add1"]
    assert steps[-1]["result"] == "accepted" and steps[-1]["exhaustive"] and steps[-1]["per_voter"] == 12
    assert out.trace[0]["per_voter"] == 12
    # without the exhaustive stop: at 13 c is affordable too (26 >= 25), a+b+c = 115 > 100: rejected
    out = run_rule(inst, prof, "equalshares/add1", {"exhaustive": False})
    assert out.selected == ["a", "b"]
    steps = [s for s in out.trace if s["type"] == "add1"]
    assert steps[-1]["result"] == "overspends" and steps[-1]["per_voter"] == 13
    assert out.trace[0]["per_voter"] == 12
    # integral start: 101 / 10 voters starts from 10 per voter, not 10.1
    inst2 = Instance(inst.projects, 101)
    prof2 = Profile(inst2, "approval", prof.groups)
    assert [s for s in run_rule(inst2, prof2, "equalshares/add1").trace if s["type"] == "add1"][0]["per_voter"] == 10
    start = [s for s in run_rule(inst2, prof2, "equalshares/add1", {"integral": False}).trace
             if s["type"] == "add1"][0]["per_voter"]
    assert start == Fraction(101, 10)


def test_add1_is_skipped_when_everything_is_affordable_and_completion_fills_up():
    inst, prof = approval(1000, {"a": 600, "b": 300}, [{"a"}] * 1 + [{"b"}] * 9)
    out = run_rule(inst, prof, "equalshares/add1")
    assert out.trace[1]["type"] == "add1_skipped"
    assert out.selected == ["b"]          # a's single supporter has only 100
    out = run_rule(inst, prof, "equalshares/add1", {"utilitarian_completion": True})
    assert out.selected == ["b", "a"] and out.trace[-1]["type"] == "completion"


def test_cost_versus_cardinality_utilities():
    inst, prof = approval(110, {"x": 100, "y": 10}, [{"x", "y"}] * 5 + [{"x"}] * 5)
    assert run_rule(inst, prof, "equalshares", {"utilities": "cost"}).selected[0] == "x"
    assert run_rule(inst, prof, "equalshares", {"utilities": "cardinality"}).selected[0] == "y"


# ----- phragmén -----------------------------------------------------------------------------------
def test_phragmen_spreads_load_and_stops_at_first_unaffordable():
    inst, prof = approval(100, {"a": 40, "b": 40, "c": 30, "d": 50},
                          [{"a", "b"}] * 4 + [{"c"}] * 3 + [{"d"}])
    out = run_rule(inst, prof, "phragmen")
    # a: 40/4 = 10; c: 30/3 = 10 (tie, c cheaper); then a 10; then b: (40+40)/4 = 20 ... d: 50
    assert out.selected == ["c", "a"]
    assert out.trace[-1]["type"] == "phragmen_stop" and out.trace[-1]["project"] == "b"
    assert run_rule(inst, prof, "phragmen", {"on_unaffordable": "skip"}).selected == ["c", "a"]
    with pytest.raises(TallyInputError):
        run_rule(inst, Profile.ordinal(inst, [("a",)]), "phragmen")


# ----- API, params, JSON --------------------------------------------------------------------------
def test_params_are_checked():
    inst, prof = approval(10, {"a": 5}, [{"a"}])
    with pytest.raises(TallyInputError, match="unknown rule"):
        run_rule(inst, prof, "add1")
    with pytest.raises(TallyInputError, match="no parameter"):
        run_rule(inst, prof, "greedy", {"budget": 5})
    with pytest.raises(TallyInputError, match="must be one of"):
        run_rule(inst, prof, "equalshares", {"utilities": "happiness"})
    with pytest.raises(TallyInputError):
        run_rule(inst, prof, "equalshares", {"exhaustive": "perhaps"})
    out = run_rule(inst, prof, "equalshares/add1", {"exhaustive": "false", "increment": "2"})
    assert out.params["exhaustive"] is False and out.params["increment"] == 2


def test_every_rule_is_described_for_the_console():
    described = {d["name"]: d for d in describe_rules()}
    assert set(described) == set(RULES) >= {"greedy", "greedy-no-skip", "greedy-threshold", "equalshares",
                                            "equalshares/add1", "equalshares/add1-comparison", "phragmen"}
    for d in described.values():
        assert len(d["description"]) > 40 and all(p["description"] for p in d["params"])
    json.dumps(describe_rules(), default=str)


def test_outcome_json_is_canonical_and_exact():
    inst, prof = approval("120.5", *MAJ_MIN)
    out = run_rule(inst, prof, "equalshares/add1")
    text = out.to_json()
    data = json.loads(text)
    assert {"selected", "rule", "params", "total_cost", "trace", "leftover_budget", "ties"} <= set(data)
    assert data["budget"] == "120.5" and data["leftover_budget"] == "20.5"
    assert text == run_rule(inst, prof, "equalshares/add1").to_json()
    assert text == json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert "." not in json.dumps([v for v in _numbers(data) if not isinstance(v, str)])  # no floats


def _numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def test_plain_data_constructors_validate():
    inst = Instance.from_plain(budget=10, projects=[("a", 5, "A"), {"id": "b", "cost": "2.5"}])
    assert inst.by_id["b"].cost == Fraction(5, 2)
    with pytest.raises(TallyInputError):
        Profile.approval(inst, [{"zz"}])
    with pytest.raises(TallyInputError):
        Profile.ordinal(inst, [("a", "a")])
    with pytest.raises(TallyInputError):
        Profile.cumulative(inst, [{"a": -1}])
    with pytest.raises(TypeError):
        Instance.from_plain(budget=10.0, projects=[])
    with pytest.raises(TallyInputError):
        Instance.from_plain(budget=10, projects=[("a", 1), ("a", 2)])
    prof = Profile.approval(inst, [["a"], ("a",), {"a", "b"}, []])
    assert prof.num_voters == 4 and dict(prof.groups)[frozenset({"a"})] == 2
