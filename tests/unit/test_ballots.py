"""Unit tests for pbvote.rules.ballots: designs, form parsing, validation, storage form."""

from __future__ import annotations

import json

import pytest

from pbvote.rules.ballots import (
    BALLOT_KINDS,
    BallotDesign,
    Reason,
    ballot_cost,
    describe,
    format_money,
    minimum_spend,
    parse_form,
    remaining_budget,
    selections_from_json,
    selections_to_json,
    validate_ballot,
)

COSTS = {"park": 100_000, "library": 250_000, "bikes": 50_000, "trees": 30_000}


class FakeMultiDict:
    """Just enough of werkzeug's MultiDict: keys() and getlist()."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def keys(self) -> list[str]:
        return list(dict.fromkeys(key for key, _ in self._pairs))

    def getlist(self, key: str) -> list[str]:
        return [value for k, value in self._pairs if k == key]

    def get(self, key: str) -> str | None:  # a trap: parse_form must prefer getlist
        values = self.getlist(key)
        return values[0] if values else None


def codes(reasons: list[Reason]) -> list[str]:
    return [reason.code for reason in reasons]


def only(reasons: list[Reason], code: str) -> Reason:
    matching = [reason for reason in reasons if reason.code == code]
    assert len(matching) == 1, reasons
    return matching[0]


def approval(**kw) -> BallotDesign:
    return BallotDesign("approval", 400_000, **kw)


def knapsack(**kw) -> BallotDesign:
    return BallotDesign("knapsack", 400_000, **kw)


def ranked(**kw) -> BallotDesign:
    kw.setdefault("max_choices", 3)
    return BallotDesign("ranked", 400_000, **kw)


def cumulative(**kw) -> BallotDesign:
    kw.setdefault("points", 10)
    return BallotDesign("cumulative", 400_000, **kw)


# ---------------------------------------------------------------------------
# Money and describe


def test_format_money_uses_thousands_separators_and_optional_currency() -> None:
    assert format_money(400_000) == "400,000"
    assert format_money(400_000, "$") == "$400,000"
    assert format_money(0, "€") == "€0"
    assert format_money(-1_500, "$") == "-$1,500"


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        (approval(max_choices=3), "Choose up to 3 projects."),
        (approval(max_choices=1), "Choose up to 1 project."),
        (approval(), "Choose as many projects as you like."),
        (approval(min_choices=2), "Choose at least 2 projects."),
        (approval(max_choices=3, min_choices=2), "Choose at least 2 and at most 3 projects."),
        (knapsack(), "Choose projects whose total cost is at most $400,000."),
        (
            knapsack(min_spend_percent=50),
            "Choose projects whose total cost is at most $400,000 and at least 50% of it.",
        ),
        (ranked(), "Rank up to 3 projects, 1 for your favourite."),
        (cumulative(), "Spread up to 10 points across the projects."),
        (
            cumulative(max_points_per_project=4),
            "Spread up to 10 points across the projects, at most 4 on any one project.",
        ),
        (BallotDesign("lottery", 1), "This ballot is not set up correctly."),
        (ranked(max_choices=None), "This ballot is not set up correctly."),
        (cumulative(points=None), "This ballot is not set up correctly."),
    ],
)
def test_describe(design: BallotDesign, expected: str) -> None:
    assert describe(design, "$") == expected


def test_describe_without_currency_is_plain_number() -> None:
    assert describe(knapsack()) == "Choose projects whose total cost is at most 400,000."


# ---------------------------------------------------------------------------
# Design problems


@pytest.mark.parametrize("kind", BALLOT_KINDS)
def test_sensible_designs_have_no_problems(kind: str) -> None:
    designs = {
        "approval": approval(max_choices=3, min_choices=1),
        "knapsack": knapsack(min_spend_percent=50),
        "ranked": ranked(),
        "cumulative": cumulative(max_points_per_project=5),
    }
    assert designs[kind].problems(4) == []


@pytest.mark.parametrize(
    ("design", "project_count", "code", "field"),
    [
        (BallotDesign("lottery", 1000), 4, "unknown_kind", "kind"),
        (approval(max_choices=5), 4, "max_choices_exceeds_projects", "max_choices"),
        (approval(max_choices=0), 4, "max_choices_not_positive", "max_choices"),
        (ranked(max_choices=None), 4, "max_choices_required", "max_choices"),
        (approval(max_choices=2, min_choices=3), 4, "min_exceeds_max", "min_choices"),
        (approval(min_choices=-1), 4, "min_choices_negative", "min_choices"),
        (knapsack(min_choices=5), 4, "min_choices_exceeds_projects", "min_choices"),
        (knapsack(min_spend_percent=101), 4, "min_spend_out_of_range", "min_spend_percent"),
        (knapsack(min_spend_percent=-1), 4, "min_spend_out_of_range", "min_spend_percent"),
        (BallotDesign("knapsack", 0), 4, "budget_not_positive", "budget"),
        (BallotDesign("knapsack", -5), 4, "budget_not_positive", "budget"),
        (cumulative(points=None), 4, "points_required", "points"),
        (cumulative(points=0), 4, "points_not_positive", "points"),
        (
            cumulative(max_points_per_project=0),
            4,
            "max_points_not_positive",
            "max_points_per_project",
        ),
        (
            cumulative(max_points_per_project=11),
            4,
            "max_points_exceeds_points",
            "max_points_per_project",
        ),
        (approval(points=10), 4, "not_applicable", "points"),
        (approval(min_spend_percent=10), 4, "not_applicable", "min_spend_percent"),
        (knapsack(max_choices=2), 4, "not_applicable", "max_choices"),
        (knapsack(max_points_per_project=2), 4, "not_applicable", "max_points_per_project"),
        (cumulative(min_choices=2), 4, "not_applicable", "min_choices"),
        (approval(), 0, "no_projects", "ballot"),
        (BallotDesign("approval", 1000, max_choices="3"), 4, "not_integer", "max_choices"),  # type: ignore[arg-type]
        (BallotDesign("knapsack", True), 4, "not_integer", "budget"),  # type: ignore[arg-type]
    ],
)
def test_design_problems(design: BallotDesign, project_count: int, code: str, field: str) -> None:
    problem = only(design.problems(project_count), code)
    assert problem.field == field
    assert problem.message.endswith(".") and len(problem.message) > 20


def test_design_problems_reports_all_at_once() -> None:
    design = BallotDesign("ranked", 0, max_choices=None, min_spend_percent=200)
    assert set(codes(design.problems(3))) >= {
        "budget_not_positive",
        "max_choices_required",
        "min_spend_out_of_range",
        "not_applicable",
    }


def test_design_is_frozen() -> None:
    with pytest.raises(AttributeError):
        approval().kind = "ranked"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Exact minimum spend


@pytest.mark.parametrize(
    ("budget", "percent", "least"),
    [
        (1000, 33, 330),
        (1000, 0, 0),
        (1000, 100, 1000),
        (999, 50, 500),  # 499.5 rounds up
        (1, 1, 1),  # 0.01 rounds up
        (3, 33, 1),  # 0.99 rounds up
        (10**18 + 1, 50, 5 * 10**17 + 1),  # no float rounding on huge budgets
    ],
)
def test_minimum_spend_is_exact_ceiling(budget: int, percent: int, least: int) -> None:
    assert minimum_spend(BallotDesign("knapsack", budget, min_spend_percent=percent)) == least


def test_minimum_spend_is_zero_for_other_kinds() -> None:
    assert minimum_spend(BallotDesign("approval", 1000, min_spend_percent=50)) == 0


@pytest.mark.parametrize(
    ("cost", "ok"), [(329, False), (330, True), (333, True), (1000, True), (1001, False)]
)
def test_min_spend_edges(cost: int, ok: bool) -> None:
    design = BallotDesign("knapsack", 1000, min_spend_percent=33)
    reasons = validate_ballot(design, {"a": cost, "b": 1}, ("a",))
    assert (reasons == []) is ok, reasons


def test_min_spend_edge_on_odd_budget() -> None:
    design = BallotDesign("knapsack", 999, min_spend_percent=50)
    assert codes(validate_ballot(design, {"a": 499}, ("a",))) == ["under_min_spend"]
    assert validate_ballot(design, {"a": 500}, ("a",)) == []


# ---------------------------------------------------------------------------
# Validation: every kind × every code


def test_valid_ballots_of_every_kind() -> None:
    assert validate_ballot(approval(max_choices=2), COSTS, ("bikes", "park")) == []
    assert validate_ballot(knapsack(min_spend_percent=50), COSTS, ("library", "park")) == []
    assert validate_ballot(ranked(), COSTS, ("trees", "park", "bikes")) == []
    assert (
        validate_ballot(cumulative(max_points_per_project=6), COSTS, (("bikes", 4), ("park", 6)))
        == []
    )


@pytest.mark.parametrize(
    "design",
    [approval(), knapsack(), ranked(), cumulative()],
    ids=BALLOT_KINDS,
)
def test_empty_ballot_is_rejected_with_abstention_advice(design: BallotDesign) -> None:
    reasons = validate_ballot(design, COSTS, ())
    assert codes(reasons) == ["empty"]
    assert reasons[0].field == "ballot"
    assert "simply not vote" in reasons[0].message


@pytest.mark.parametrize(
    ("design", "selections"),
    [
        (approval(), ("park", "zoo")),
        (knapsack(), ("park", "zoo")),
        (ranked(), ("park", "zoo")),
        (cumulative(), (("park", 1), ("zoo", 2))),
    ],
    ids=BALLOT_KINDS,
)
def test_unknown_project(design: BallotDesign, selections: tuple) -> None:
    reason = only(validate_ballot(design, COSTS, selections), "unknown_project")
    assert reason.field == "project:zoo"
    assert reason.message == "Project 'zoo' is not on this ballot."


@pytest.mark.parametrize(
    ("design", "selections"),
    [
        (approval(), ("park", "park")),
        (knapsack(), ("park", "park")),
        (ranked(), ("park", "park")),
        (cumulative(), (("park", 1), ("park", 2))),
    ],
    ids=BALLOT_KINDS,
)
def test_duplicate_project(design: BallotDesign, selections: tuple) -> None:
    reason = only(validate_ballot(design, COSTS, selections), "duplicate")
    assert reason.field == "project:park"
    assert "2 times" in reason.message


def test_approval_too_many() -> None:
    reason = only(validate_ballot(approval(max_choices=3), COSTS, tuple(sorted(COSTS))), "too_many")
    assert reason.field == "ballot"
    assert reason.message == "You chose 4 projects; you may choose at most 3."


def test_ranked_too_many() -> None:
    reason = only(
        validate_ballot(ranked(max_choices=2), COSTS, ("park", "bikes", "trees")), "too_many"
    )
    assert reason.message == "You ranked 3 projects; you may rank at most 2."


@pytest.mark.parametrize(
    ("design", "selections"),
    [
        (approval(min_choices=2), ("park",)),
        (knapsack(min_choices=2), ("park",)),
        (ranked(min_choices=2), ("park",)),
    ],
    ids=["approval", "knapsack", "ranked"],
)
def test_too_few(design: BallotDesign, selections: tuple) -> None:
    reason = only(validate_ballot(design, COSTS, selections), "too_few")
    assert reason.message == "You chose 1 project; please choose at least 2."


def test_approval_without_limit_accepts_every_project() -> None:
    assert validate_ballot(approval(), COSTS, tuple(sorted(COSTS))) == []


def test_knapsack_over_budget_message_names_cost_limit_and_excess() -> None:
    design = BallotDesign("knapsack", 300_000)
    reason = only(
        validate_ballot(design, COSTS, ("bikes", "library", "trees"), currency="$"), "over_budget"
    )
    assert reason.field == "ballot"
    assert reason.message.startswith(
        "Your choices cost $330,000, which is $30,000 more than the budget of $300,000."
    )


def test_knapsack_exactly_on_budget_is_fine() -> None:
    design = BallotDesign("knapsack", 300_000)
    assert validate_ballot(design, COSTS, ("bikes", "library")) == []


def test_knapsack_under_min_spend_message_names_cost_minimum_and_remaining() -> None:
    design = knapsack(min_spend_percent=50)
    reason = only(validate_ballot(design, COSTS, ("bikes",), currency="$"), "under_min_spend")
    assert reason.message == (
        "Your choices cost $50,000; please choose projects costing at least $200,000 "
        "(50% of the budget of $400,000). $150,000 more is needed, and $350,000 of the budget "
        "remains."
    )


def test_knapsack_reports_all_broken_rules_together() -> None:
    design = BallotDesign("knapsack", 300_000, min_choices=5)
    costs = {**COSTS, "pool": 1, "benches": 2}
    reasons = validate_ballot(design, costs, ("bikes", "library", "trees", "trees", "zoo"))
    assert codes(reasons) == ["duplicate", "unknown_project", "too_few", "over_budget"]


def test_knapsack_duplicate_is_costed_once() -> None:
    design = BallotDesign("knapsack", 100_000)
    assert codes(validate_ballot(design, COSTS, ("park", "park"))) == ["duplicate"]


def test_cumulative_points_exceeded() -> None:
    reason = only(
        validate_ballot(cumulative(), COSTS, (("bikes", 6), ("park", 5))), "points_exceeded"
    )
    assert reason.field == "ballot"
    assert reason.message == "You used 11 points; you have 10 to spread, so remove 1."


def test_cumulative_project_cap() -> None:
    design = cumulative(max_points_per_project=4)
    reason = only(
        validate_ballot(design, COSTS, (("bikes", 5), ("park", 1))), "project_points_exceeded"
    )
    assert reason.field == "project:bikes"
    assert (
        reason.message == "You gave project 'bikes' 5 points; at most 4 may go to any one project."
    )


@pytest.mark.parametrize(
    ("points", "code"),
    [
        (-1, "negative_points"),
        (0, "zero_points"),
        (1.5, "not_integer"),
        ("3", "not_integer"),
        (True, "not_integer"),
    ],
)
def test_cumulative_bad_point_values(points: object, code: str) -> None:
    reason = only(validate_ballot(cumulative(), COSTS, (("park", points),)), code)
    assert reason.field == "project:park"
    assert "park" in reason.message


def test_cumulative_negative_points_cannot_buy_room_for_more() -> None:
    reasons = validate_ballot(cumulative(), COSTS, (("bikes", -5), ("park", 15)))
    assert set(codes(reasons)) == {"negative_points", "points_exceeded"}


@pytest.mark.parametrize(
    ("design", "selections"),
    [
        (approval(), "park"),
        (approval(), ("park", 3)),
        (ranked(), None),
        (cumulative(), ("park",)),
        (cumulative(), (("park", 1, 2),)),
        (cumulative(), ((1, 1),)),
    ],
)
def test_malformed_selections_are_reported_not_raised(
    design: BallotDesign, selections: object
) -> None:
    assert codes(validate_ballot(design, COSTS, selections)) == ["malformed"]


def test_broken_design_blocks_every_ballot() -> None:
    for design in (cumulative(points=None), ranked(max_choices=None), BallotDesign("lottery", 1)):
        reason = only(validate_ballot(design, COSTS, ("park",)), "invalid_design")
        assert "election staff" in reason.message


def test_harmless_design_problem_does_not_block_voting() -> None:
    assert validate_ballot(approval(max_choices=10), COSTS, ("park",)) == []


# ---------------------------------------------------------------------------
# Costs and the meter


def test_ballot_cost_and_remaining_budget() -> None:
    assert ballot_cost(COSTS, ("bikes", "park")) == 150_000
    assert ballot_cost(COSTS, (("bikes", 3), ("park", 1))) == 150_000
    assert ballot_cost(COSTS, ()) == 0
    assert remaining_budget(knapsack(), COSTS, ("bikes", "park")) == 250_000
    assert remaining_budget(BallotDesign("knapsack", 100_000), COSTS, ("library",)) == -150_000


def test_ballot_cost_rejects_unknown_projects() -> None:
    with pytest.raises(KeyError):
        ballot_cost(COSTS, ("zoo",))


# ---------------------------------------------------------------------------
# parse_form: approval / knapsack


@pytest.mark.parametrize("design", [approval(), knapsack()], ids=["approval", "knapsack"])
def test_parse_checkboxes_from_multidict(design: BallotDesign) -> None:
    form = FakeMultiDict(
        [("csrf_token", "x"), ("project", "park"), ("project", "bikes"), ("submit", "Vote")]
    )
    assert parse_form(design, form) == (("bikes", "park"), [])


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"project": ["park", "bikes"]}, ("bikes", "park")),
        ({"project": "park"}, ("park",)),
        ({"project": " park "}, ("park",)),
        ({"project": ["", "park"]}, ("park",)),
        ({}, ()),
        ({"project": "zoo"}, ("zoo",)),  # kept for validate_ballot to flag
        ({"project": ["park", "park"]}, ("park", "park")),  # kept for validate_ballot to flag
    ],
)
def test_parse_checkboxes_from_dict(form: dict, expected: tuple) -> None:
    assert parse_form(approval(), form) == (expected, [])


def test_parse_then_validate_flags_unknown_and_duplicate_checkbox_values() -> None:
    selections, reasons = parse_form(approval(), {"project": ["park", "park", "zoo"]})
    assert reasons == []
    assert codes(validate_ballot(approval(), COSTS, selections)) == ["duplicate", "unknown_project"]


def test_parse_checkbox_value_that_is_not_text() -> None:
    selections, reasons = parse_form(approval(), {"project": [3]})  # type: ignore[list-item]
    assert selections is None
    assert codes(reasons) == ["not_text"]


# ---------------------------------------------------------------------------
# parse_form: ranked


def test_parse_ranks_sorts_best_first() -> None:
    form = {
        "rank_park": "2",
        "rank_bikes": "1",
        "rank_trees": "",
        "rank_library": "3",
        "csrf_token": "x",
    }
    assert parse_form(ranked(), form) == (("bikes", "park", "library"), [])


def test_parse_ranks_from_multidict() -> None:
    form = FakeMultiDict([("rank_park", "1"), ("rank_bikes", ""), ("rank_trees", "2")])
    assert parse_form(ranked(), form) == (("park", "trees"), [])


def test_parse_ranks_keeps_unknown_projects_for_validation() -> None:
    selections, reasons = parse_form(ranked(), {"rank_zoo": "1"})
    assert (selections, reasons) == (("zoo",), [])
    assert codes(validate_ballot(ranked(), COSTS, selections)) == ["unknown_project"]


def test_parse_ranks_duplicate_rank() -> None:
    selections, reasons = parse_form(ranked(), {"rank_park": "1", "rank_bikes": "1"})
    assert selections is None
    reason = only(reasons, "duplicate_rank")
    assert reason.field == "rank_park"  # the first of the two, so the summary links to it
    assert reason.message == "You gave rank 1 to 2 projects; each rank may be used only once."


def test_parse_ranks_not_consecutive() -> None:
    selections, reasons = parse_form(ranked(), {"rank_park": "1", "rank_bikes": "3"})
    assert selections is None
    reason = only(reasons, "ranks_not_consecutive")
    assert reason.message == "Ranks must start at 1 and have no gaps; you skipped rank 2."


def test_parse_ranks_not_starting_at_one() -> None:
    _, reasons = parse_form(ranked(), {"rank_park": "2"})
    assert codes(reasons) == ["ranks_not_consecutive"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("first", "not_integer"),
        ("1.0", "not_integer"),
        ("+1", "not_integer"),
        ("١", "not_integer"),  # Arabic-Indic digit one: only ASCII digits are ranks
        ("0", "rank_out_of_range"),
        ("-1", "rank_out_of_range"),
        ("4", "rank_out_of_range"),
        ("9" * 5000, "number_too_large"),
    ],
)
def test_parse_ranks_bad_values(value: str, code: str) -> None:
    selections, reasons = parse_form(ranked(), {"rank_park": value})
    assert selections is None
    reason = only(reasons, code)
    assert reason.field == "rank_park"
    assert "'park'" in reason.message


def test_parse_ranks_field_sent_twice() -> None:
    form = FakeMultiDict([("rank_park", "1"), ("rank_park", "2")])
    selections, reasons = parse_form(ranked(), form)
    assert selections is None
    assert codes(reasons) == ["multiple_values"]


def test_ranked_validation_flags_duplicates_in_a_tuple() -> None:
    assert codes(validate_ballot(ranked(), COSTS, ("park", "bikes", "park"))) == ["duplicate"]


# ---------------------------------------------------------------------------
# parse_form: cumulative


def test_parse_points() -> None:
    form = {"points_park": "3", "points_bikes": " 7 ", "points_trees": "", "points_library": "0"}
    assert parse_form(cumulative(), form) == ((("bikes", 7), ("park", 3)), [])


def test_parse_points_from_multidict() -> None:
    form = FakeMultiDict([("points_park", "3"), ("points_zoo", "1")])
    selections, reasons = parse_form(cumulative(), form)
    assert (selections, reasons) == ((("park", 3), ("zoo", 1)), [])
    assert codes(validate_ballot(cumulative(), COSTS, selections)) == ["unknown_project"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-2", "negative_points"),
        ("2.5", "not_integer"),
        ("lots", "not_integer"),
        ("1e3", "not_integer"),
        ("1" * 40, "number_too_large"),
    ],
)
def test_parse_points_bad_values(value: str, code: str) -> None:
    selections, reasons = parse_form(cumulative(), {"points_park": value, "points_bikes": "1"})
    assert selections is None
    reason = only(reasons, code)
    assert reason.field == "points_park"
    assert "'park'" in reason.message


def test_parse_points_collects_every_problem() -> None:
    _, reasons = parse_form(cumulative(), {"points_park": "-1", "points_bikes": "x"})
    assert sorted(codes(reasons)) == ["negative_points", "not_integer"]


def test_parse_then_validate_points_exceeded() -> None:
    selections, reasons = parse_form(cumulative(), {"points_park": "8", "points_bikes": "8"})
    assert reasons == []
    assert codes(validate_ballot(cumulative(), COSTS, selections)) == ["points_exceeded"]


def test_parse_unknown_kind() -> None:
    selections, reasons = parse_form(BallotDesign("lottery", 1), {"project": "park"})
    assert selections is None
    assert codes(reasons) == ["unknown_kind"]


def test_parse_accepts_werkzeug_multidict_when_available() -> None:
    datastructures = pytest.importorskip("werkzeug.datastructures")
    form = datastructures.MultiDict([("project", "park"), ("project", "bikes")])
    assert parse_form(knapsack(), form) == (("bikes", "park"), [])


# ---------------------------------------------------------------------------
# JSON storage form


@pytest.mark.parametrize(
    ("design", "selections", "stored"),
    [
        (approval(), ("bikes", "park"), ["bikes", "park"]),
        (knapsack(), ("bikes", "park"), ["bikes", "park"]),
        (ranked(), ("park", "bikes"), ["park", "bikes"]),
        (cumulative(), (("bikes", 7), ("park", 3)), {"bikes": 7, "park": 3}),
    ],
    ids=BALLOT_KINDS,
)
def test_json_round_trip(design: BallotDesign, selections: tuple, stored: object) -> None:
    data = selections_to_json(design, selections)
    assert data == stored
    assert selections_from_json(design, json.loads(json.dumps(data))) == selections


def test_json_from_unsorted_approval_is_canonicalised() -> None:
    assert selections_from_json(approval(), ["park", "bikes"]) == ("bikes", "park")


@pytest.mark.parametrize(
    ("design", "data"),
    [
        (approval(), {"park": 1}),
        (approval(), ["park", 3]),
        (approval(), ["park", "park"]),
        (approval(), "park"),
        (ranked(), ["park", "park"]),
        (ranked(), None),
        (cumulative(), ["park"]),
        (cumulative(), {"park": 0}),
        (cumulative(), {"park": -1}),
        (cumulative(), {"park": 1.5}),
        (cumulative(), {"park": True}),
        (cumulative(), {"park": "3"}),
        (BallotDesign("lottery", 1), ["park"]),
    ],
)
def test_json_malformed_raises_value_error(design: BallotDesign, data: object) -> None:
    with pytest.raises(ValueError):
        selections_from_json(design, data)


def test_to_json_unknown_kind_raises_value_error() -> None:
    with pytest.raises(ValueError):
        selections_to_json(BallotDesign("lottery", 1), ("park",))


def test_huge_rank_without_k_is_refused_quickly_and_cheaply():
    """A hostile rank must not make the parser build a range as large as the rank."""
    import time

    from pbvote.rules.ballots import BallotDesign, parse_form

    design = BallotDesign(kind="ranked", budget=100, max_choices=None)
    started = time.perf_counter()
    selections, reasons = parse_form(design, {"rank_p1": "1", "rank_p2": "100000000000"})
    assert time.perf_counter() - started < 1
    assert selections is None
    assert [r.code for r in reasons] == ["rank_out_of_range"]
