"""Profile.counted: each distinct ballot once with its number of voters gives the profile of
the ballots repeated (same groups, same order), so every rule's outcome is identical."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.tally import Instance, Profile, TallyInputError, run_rule

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RULES = [("equalshares/add1", {}), ("equalshares", {}), ("greedy", {}),
         ("greedy", {"scoring_fn": "borda"}), ("equalshares/add1", {"utilities": "cardinality"})]


@st.composite
def elections(draw):
    kind = draw(st.sampled_from(["approval", "ordinal", "cumulative"]))
    ids = [f"p{i}" for i in range(draw(st.integers(1, 5)))]
    costs = [draw(st.integers(1, 40)) for _ in ids]
    inst = Instance.from_plain(budget=draw(st.integers(0, 100)), projects=list(zip(ids, costs)))
    if kind == "approval":  # lists, so that ["a", "b"] and ["b", "a"] are one engine ballot
        ballot = st.lists(st.sampled_from(ids), unique=True).map(list)
    elif kind == "ordinal":
        ballot = st.permutations(ids).flatmap(
            lambda order: st.integers(0, len(order)).map(lambda k: list(order[:k])))
    else:
        ballot = st.dictionaries(st.sampled_from(ids), st.integers(0, 4))
    ballots = draw(st.lists(ballot, max_size=40))
    return inst, kind, ballots


def counted(ballots):
    """(ballot, voters) per distinct ballot, in the order of first appearance."""
    keys = Counter(repr(b) for b in ballots)
    first = {}
    for b in ballots:
        first.setdefault(repr(b), b)
    return [(first[k], n) for k, n in keys.items()]


@SETTINGS
@given(elections())
def test_counted_ballots_give_the_same_profile_and_outcomes(case):
    inst, kind, ballots = case
    one_each = Profile.from_plain(inst, kind, ballots)
    grouped = Profile.counted(inst, kind, counted(ballots))
    assert grouped.groups == one_each.groups
    assert grouped.num_voters == one_each.num_voters == len(ballots)
    for rule, params in RULES:
        if kind != "ordinal" and "scoring_fn" in params:
            continue
        try:
            expected = run_rule(inst, one_each, rule, params).to_dict()
        except TallyInputError as exc:
            with pytest.raises(TallyInputError, match=str(exc)[:30]):
                run_rule(inst, grouped, rule, params)
            continue
        assert run_rule(inst, grouped, rule, params).to_dict() == expected


def test_a_large_electorate_is_grouped_without_a_ballot_per_voter():
    rng = random.Random(5)
    inst = Instance.from_plain(budget=300, projects=[(f"p{i}", 40 + 10 * i) for i in range(6)])
    distinct = [sorted(rng.sample([f"p{i}" for i in range(6)], rng.randint(0, 4)))
                for _ in range(30)]
    weights = [rng.randint(1, 20_000) for _ in distinct]
    pairs = list(zip(distinct, weights))
    repeated = [b for b, n in pairs for _ in range(n)]
    for rule in ("equalshares/add1", "greedy"):
        assert (run_rule(inst, Profile.counted(inst, "approval", pairs), rule, {}).to_dict()
                == run_rule(inst, Profile.approval(inst, repeated), rule, {}).to_dict())


def test_a_bad_ballot_or_count_is_refused_as_from_plain_refuses_it():
    inst = Instance.from_plain(budget=10, projects=[("a", 5), ("b", 5)])
    with pytest.raises(TallyInputError, match="unknown project 'z'"):
        Profile.counted(inst, "approval", [(["a"], 3), (["z"], 1)])
    with pytest.raises(TallyInputError, match="lists a project twice"):
        Profile.counted(inst, "ordinal", [(["a", "a"], 2)])
    with pytest.raises(TallyInputError, match="whole number"):
        Profile.counted(inst, "approval", [(["a"], -1)])
    with pytest.raises(TallyInputError, match="whole number"):
        Profile.counted(inst, "approval", [(["a"], True)])
    assert Profile.counted(inst, "approval", [(["a"], 0), (["b"], 2)]).groups == [
        (frozenset({"b"}), 2)]
