"""Configuration consistency: every reason, on the field it belongs to."""
from __future__ import annotations

import datetime as dt

import pytest

from pbvote.rules import setup as rules
from pbvote.rules.ballots import BallotDesign
from pbvote.rules.eligibility import EligibilityRules

UTC = dt.UTC


def codes(reasons):
    return {(r.field, r.code) for r in reasons}


def cycle(**changes):
    values = dict(slug="safer-2027", name="Safer", currency="USD", total_budget=1000,
                  timezone="Europe/London", tie_break_seed="seed")
    values.update(changes)
    return rules.CycleSettings(**values)


def district(kind="approval", budget=500, rule="greedy", params=None, **design):
    defaults = {"approval": {"max_choices": 2}, "knapsack": {}, "ranked": {"max_choices": 2},
                "cumulative": {"points": 10}}.get(kind, {})
    return rules.DistrictSettings("north", "North", budget,
                                  BallotDesign(kind=kind, budget=budget, **{**defaults, **design}),
                                  rule, params or {})


def at(day, hour=0):
    return dt.datetime(2027, 1, day, hour, tzinfo=UTC)


def test_a_good_cycle_has_no_problems():
    assert rules.cycle_problems(cycle()) == []


@pytest.mark.parametrize("changes, expected", [
    ({"slug": ""}, ("slug", "slug_required")),
    ({"slug": "Safer 2027"}, ("slug", "slug_invalid")),
    ({"slug": "a--b"}, ("slug", "slug_invalid")),
    ({"name": "  "}, ("name", "name_required")),
    ({"currency": "usd"}, ("currency", "currency_invalid")),
    ({"total_budget": 0}, ("total_budget", "not_positive")),
    ({"total_budget": 1.5}, ("total_budget", "not_integer")),
    ({"total_budget": 10**16}, ("total_budget", "too_large")),
    ({"timezone": "Mars/Olympus"}, ("timezone", "timezone_unknown")),
    ({"timezone": ""}, ("timezone", "timezone_unknown")),
    ({"tie_break_seed": "x" * 129}, ("tie_break_seed", "seed_too_long")),
])
def test_cycle_reasons(changes, expected):
    assert expected in codes(rules.cycle_problems(cycle(**changes)))


def test_phases_in_order_without_overlap_are_fine_and_gaps_are_allowed():
    windows = [rules.PhaseWindow("intake", at(1), at(2)), rules.PhaseWindow("review", at(2), at(3)),
               rules.PhaseWindow("voting", at(5), at(9)), rules.PhaseWindow("tally", at(9), at(10)),
               rules.PhaseWindow("published", at(10), at(30))]
    assert rules.phase_problems(windows) == []


@pytest.mark.parametrize("windows, expected", [
    ([rules.PhaseWindow("intake", at(1), at(2))], ("voting_starts_at", "phase_required")),
    ([rules.PhaseWindow("voting", at(3), at(3))], ("voting_ends_at", "phase_ends_before_start")),
    ([rules.PhaseWindow("voting", at(3), at(2))], ("voting_ends_at", "phase_ends_before_start")),
    ([rules.PhaseWindow("review", at(1), at(4)), rules.PhaseWindow("voting", at(3), at(6))],
     ("voting_starts_at", "phase_overlap")),
    ([rules.PhaseWindow("voting", at(3), at(6)), rules.PhaseWindow("tally", at(1), at(2))],
     ("tally_starts_at", "phase_overlap")),
    ([rules.PhaseWindow("voting", at(3), at(6)), rules.PhaseWindow("voting", at(7), at(8))],
     ("voting_starts_at", "phase_repeated")),
    ([rules.PhaseWindow("voting", at(3), at(6)), rules.PhaseWindow("party", at(7), at(8))],
     ("party_starts_at", "phase_unknown")),
])
def test_phase_reasons(windows, expected):
    assert expected in codes(rules.phase_problems(windows))


def test_local_times_are_read_in_the_cycle_zone():
    assert rules.parse_local_datetime("2027-07-01T09:30", "Europe/London") == \
        dt.datetime(2027, 7, 1, 8, 30, tzinfo=UTC)
    assert rules.parse_local_datetime("yesterday", "UTC") is None
    assert rules.parse_local_datetime("2027-07-01T09:30", "Nowhere/Else") is None


def test_a_good_district_has_no_problems():
    assert rules.district_problems(district(), project_count=3) == []
    assert rules.district_problems(district("ranked", rule="greedy",
                                            params={"scoring_fn": "dowdall"}), 3) == []
    assert rules.district_problems(district("cumulative", rule="equalshares"), 3) == []


@pytest.mark.parametrize("settings, count, expected", [
    (district(budget=0), 3, ("budget", "not_positive")),
    (district(max_choices=4), 3, ("max_choices", "max_choices_exceeds_projects")),
    (district("knapsack", min_spend_percent=101), 3,
     ("min_spend_percent", "min_spend_out_of_range")),
    (district("knapsack", min_spend_percent=-1), 3,
     ("min_spend_percent", "min_spend_out_of_range")),
    (district("ranked", max_choices=None), 3, ("max_choices", "max_choices_required")),
    (district("cumulative", points=None), 3, ("points", "points_required")),
    (district("lottery"), 3, ("ballot_kind", "unknown_kind")),
    (district(), 0, ("projects", "no_projects")),
    (district(rule="borda-magic"), 3, ("tally_rule", "rule_unknown")),
    (district("ranked", rule="phragmen"), 3, ("tally_rule", "rule_ballot_mismatch")),
    (district("cumulative", rule="phragmen"), 3, ("tally_rule", "rule_ballot_mismatch")),
    (district(params={"tie_seed": "mine"}), 3, ("tally_params", "params_cycle_level")),
    (district(params={"colour": "red"}), 3, ("tally_params", "params_invalid")),
    (district(rule="greedy-threshold"), 3, ("tally_params", "params_invalid")),
    (district(params={"ties": "coin"}), 3, ("tally_params", "params_invalid")),
])
def test_district_reasons(settings, count, expected):
    assert expected in codes(rules.district_problems(settings, count))


def test_k_is_not_compared_with_projects_before_there_are_any():
    assert rules.district_problems(district(max_choices=4), None) == []


def test_rule_ballot_types_match_the_tally_service():
    from pbvote.services.tally import ENGINE_BALLOT_TYPES

    assert rules.ENGINE_BALLOT_TYPES == ENGINE_BALLOT_TYPES


def test_tally_params_box_takes_a_json_object():
    assert rules.parse_tally_params("") == ({}, [])
    assert rules.parse_tally_params('{"skip": false}') == ({"skip": False}, [])
    for text in ("[1]", "{oops", '"x"'):
        value, reasons = rules.parse_tally_params(text)
        assert value is None and codes(reasons) == {("tally_params", "params_not_object")}


def test_district_budgets_may_not_exceed_the_total():
    assert rules.budget_sum_problems(1000, {"a": 500, "b": 500}) == []
    assert codes(rules.budget_sum_problems(1000, {"a": 500, "b": 501})) == \
        {("budget", "districts_exceed_total")}


@pytest.mark.parametrize("settings, expected", [
    (rules.ProjectSettings("", "Lights", 10), ("code", "code_invalid")),
    (rules.ProjectSettings("NB 1", "Lights", 10), ("code", "code_invalid")),
    (rules.ProjectSettings("NB-1", "Lights", 10), ("code", "code_taken")),
    (rules.ProjectSettings("NB-2", " ", 10), ("title", "title_required")),
    (rules.ProjectSettings("NB-2", "Lights", 0), ("cost", "not_positive")),
    (rules.ProjectSettings("NB-2", "Lights", 501), ("cost", "cost_exceeds_budget")),
])
def test_project_reasons(settings, expected):
    assert expected in codes(rules.project_problems(settings, 500, ["NB-1"]))
    assert rules.project_problems(rules.ProjectSettings("NB-2", "Lights", 500), 500, ["NB-1"]) == []


def test_the_whole_configuration_prefixes_district_fields():
    windows = [rules.PhaseWindow("voting", at(1), at(2))]
    good = rules.configuration_problems(cycle(), windows, EligibilityRules(),
                                        [(district(), 3)])
    assert good == []
    bad = rules.configuration_problems(
        cycle(total_budget=400), windows,
        EligibilityRules(minimum_age=200, allowed_methods=frozenset()),
        [(district(max_choices=5), 3)])
    assert {("district:north:max_choices", "max_choices_exceeds_projects"),
            ("total_budget", "districts_exceed_total"), ("minimum_age", "age_out_of_range"),
            ("allowed_methods", "no_methods")} <= codes(bad)
    assert codes(rules.configuration_problems(cycle(), windows, EligibilityRules(), [])) == \
        {("districts", "no_districts")}
