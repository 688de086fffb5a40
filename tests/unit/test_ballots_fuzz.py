"""Property tests: hostile form input and stored data never crash the ballot code,
and validate_ballot never accepts a ballot that breaks the budget, k or points rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pbvote.rules.ballots import (
    BALLOT_KINDS,
    BallotDesign,
    Reason,
    minimum_spend,
    parse_form,
    selections_from_json,
    selections_to_json,
    validate_ballot,
)

PROJECT_IDS = ["p1", "p2", "p3", "p4", "p5", "p6"]

project_ids = st.one_of(st.sampled_from(PROJECT_IDS), st.text(max_size=8))
numberish = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-3, max_value=12).map(str),
    st.text(alphabet="0123456789-+. eE", max_size=12),
    st.text(max_size=12),
    st.just("9" * 5000),
)
field_names = st.one_of(
    st.just("project"),
    project_ids.map(lambda pid: "rank_" + pid),
    project_ids.map(lambda pid: "points_" + pid),
    st.text(max_size=12),
)
form_values = st.one_of(
    numberish, project_ids, st.lists(st.one_of(numberish, project_ids), max_size=4)
)
forms = st.dictionaries(field_names, form_values, max_size=10)

designs = st.builds(
    BallotDesign,
    kind=st.sampled_from(BALLOT_KINDS),
    budget=st.integers(min_value=1, max_value=10**7),
    max_choices=st.one_of(st.none(), st.integers(min_value=1, max_value=len(PROJECT_IDS))),
    min_choices=st.integers(min_value=0, max_value=3),
    min_spend_percent=st.integers(min_value=0, max_value=100),
    points=st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
    max_points_per_project=st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
)
project_costs = st.fixed_dictionaries(
    {pid: st.integers(min_value=1, max_value=10**6) for pid in PROJECT_IDS}
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=20,
)


class MultiDictForm:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def keys(self) -> list[str]:
        return list(dict.fromkeys(key for key, _ in self._pairs))

    def getlist(self, key: str) -> list[str]:
        return [value for k, value in self._pairs if k == key]


def _check_parse_result(design: BallotDesign, result: object) -> None:
    selections, reasons = result  # type: ignore[misc]
    assert all(isinstance(reason, Reason) for reason in reasons)
    assert (selections is None) == bool(reasons)
    if selections is not None:
        # A parsed ballot is always in canonical shape, so storing it cannot fail.
        assert isinstance(selections, tuple)
        if design.kind == "cumulative":
            assert all(isinstance(points, int) and points > 0 for _, points in selections)


@settings(max_examples=300, deadline=None)
@given(designs, forms)
def test_parse_form_never_raises_on_dicts(design: BallotDesign, form: dict) -> None:
    _check_parse_result(design, parse_form(design, form))


@settings(max_examples=200, deadline=None)
@given(designs, st.lists(st.tuples(field_names, st.one_of(numberish, project_ids)), max_size=10))
def test_parse_form_never_raises_on_multidicts(
    design: BallotDesign, pairs: list[tuple[str, str]]
) -> None:
    _check_parse_result(design, parse_form(design, MultiDictForm(pairs)))


@settings(max_examples=300, deadline=None)
@given(designs, project_costs, forms)
def test_parsed_and_valid_ballots_obey_every_limit(
    design: BallotDesign, costs: dict, form: dict
) -> None:
    selections, reasons = parse_form(design, form)
    if selections is None:
        return
    validation = validate_ballot(design, costs, selections)
    if validation:
        return
    _assert_within_limits(design, costs, selections)
    stored = selections_to_json(design, selections)
    assert selections_from_json(design, stored) == selections


def _assert_within_limits(design: BallotDesign, costs: dict, selections: tuple) -> None:
    assert selections, "an empty ballot was accepted"
    if design.kind == "cumulative":
        ids = [pid for pid, _ in selections]
        assert design.points is not None
        assert sum(points for _, points in selections) <= design.points
        for _, points in selections:
            assert isinstance(points, int) and not isinstance(points, bool) and points >= 1
            if design.max_points_per_project is not None:
                assert points <= design.max_points_per_project
    else:
        ids = list(selections)
        if design.max_choices is not None:
            assert len(ids) <= design.max_choices
        assert len(ids) >= design.min_choices
    assert len(set(ids)) == len(ids)
    assert set(ids) <= set(costs)
    if design.kind == "knapsack":
        total = sum(costs[pid] for pid in ids)
        assert minimum_spend(design) <= total <= design.budget


raw_selections = st.one_of(
    st.lists(project_ids, max_size=8).map(tuple),
    st.lists(
        st.tuples(project_ids, st.one_of(st.integers(-5, 60), st.booleans(), st.floats())),
        max_size=8,
    ).map(tuple),
    json_values,
)


@settings(max_examples=500, deadline=None)
@given(designs, project_costs, raw_selections)
def test_validate_never_accepts_a_ballot_that_breaks_the_rules(
    design: BallotDesign, costs: dict, selections: object
) -> None:
    reasons = validate_ballot(design, costs, selections)
    assert all(isinstance(reason, Reason) for reason in reasons)
    if not reasons:
        assert isinstance(selections, (tuple, list))
        _assert_within_limits(design, costs, tuple(selections))


@settings(max_examples=500, deadline=None)
@given(designs, json_values)
def test_selections_from_json_raises_only_value_error(design: BallotDesign, data: object) -> None:
    try:
        selections = selections_from_json(design, data)
    except ValueError:
        return
    assert isinstance(selections, tuple)
    assert selections_from_json(design, selections_to_json(design, selections)) == selections
