"""Counting rules as a clerk chooses them (pure): plain names, a recommended rule that can
count each ballot type, settings read from form fields into the engine's parameters."""
from __future__ import annotations

import pytest

from pbvote.rules import counting_choices as choices
from pbvote.rules.setup import slug_from_name, tally_problems, timezone_names
from pbvote.tally.registry import RULES


def test_every_engine_rule_has_a_plain_name_and_each_kind_a_fitting_recommendation():
    assert set(choices.RULE_TITLES) == set(RULES)
    for kind, rule in choices.RECOMMENDED_RULE.items():
        assert kind in next(c for c in choices.rule_choices() if c.name == rule).ballot_kinds
        assert tally_problems(rule, {}, kind) == []
    assert {c.name for c in choices.rule_choices("ranked")} == \
        {name for name in RULES if "ordinal" in RULES[name].ballot_types}


def test_no_setting_is_shown_by_its_engine_name_or_as_a_literal():
    for rule in choices.rule_choices():
        for setting in rule.settings:
            assert setting.label != setting.name and "_" not in setting.label
            assert setting.name != "tie_seed"
            for _value, label in setting.options:
                assert label not in ("True", "False", "None")


@pytest.mark.parametrize("rule, form, expected", [
    ("greedy", {}, {}),
    ("greedy", {"param.greedy.skip": "true"}, {}),  # the default is not stored
    ("greedy", {"param.greedy.skip": "false", "param.greedy.min_score": "12"},
     {"skip": False, "min_score": 12}),
    ("greedy", {"param.greedy.scoring_fn": "dowdall"}, {"scoring_fn": "dowdall"}),
    ("equalshares/add1", {"param.equalshares/add1.utilities": "cardinality",
                          "param.greedy.skip": "false"}, {"utilities": "cardinality"}),
])
def test_settings_from_the_form_become_the_engines_parameters(rule, form, expected):
    params, reasons = choices.params_from_form(rule, form)
    assert (params, reasons) == (expected, [])
    assert tally_problems(rule, params, "approval") == []
    assert choices.params_from_form(rule, choices.form_values(rule, params))[0] == params


def test_unreadable_settings_name_their_field():
    _params, reasons = choices.params_from_form("greedy", {"param.greedy.min_score": "x",
                                                           "param.greedy.ties": "coin"})
    assert [r.field for r in reasons] == ["param.greedy.min_score", "param.greedy.ties"]


@pytest.mark.parametrize("name, slug", [
    ("Safer Streets 2027", "safer-streets-2027"), ("  Old Town!! ", "old-town"),
    ("Bürgerhaushalt Köln", "burgerhaushalt-koln"), ("安全街道", ""), ("x" * 120, "x" * 80),
])
def test_web_names_are_made_from_names(name, slug):
    assert slug_from_name(name) == slug


def test_the_time_zone_picker_lists_region_and_city_names():
    names = timezone_names()
    assert "America/Chicago" in names and "Asia/Shanghai" in names and names[-1] == "UTC"
    assert not any(name.startswith(("Etc/", "posix/")) for name in names)
