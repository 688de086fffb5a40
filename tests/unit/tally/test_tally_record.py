"""What real city exports need: repeated projects in a ballot, META thresholds for every greedy
rule, greedy-custom, tie-break orders and exclusive groups."""
from __future__ import annotations

import pytest

from pbvote.tally import (
    Instance,
    PabulibError,
    Profile,
    default_rule_and_params,
    explain,
    parse_pabulib,
    run_rule,
)
from pbvote.tally.instance import TallyInputError

HEAD = """META
key;value
budget;100
vote_type;{vote_type}
rule;{rule}
{extra}PROJECTS
project_id;cost;votes;name;selected
a;60;3;Park;1
b;40;2;Library;1
c;50;1;Bench;0
VOTES
"""


def _pb(votes: str, vote_type="approval", rule="greedy", extra="", strict=False):
    return parse_pabulib(HEAD.format(vote_type=vote_type, rule=rule, extra=extra) + votes, "t.pb", strict=strict)


def test_a_repeated_approval_counts_once_and_is_reported():
    pb = _pb("voter_id;vote\n1;a,b,a\n2;a\n3;b\n")
    assert pb.profile.supporters() == {"a": 2, "b": 2, "c": 0}
    assert pb.duplicates == [{"line": 13, "voter": "1", "projects": ["a"]}]


def test_repeated_cumulative_points_are_summed():
    pb = _pb("voter_id;vote;points\n1;a,b,a;2,1,3\n2;c;4\n", vote_type="cumulative")
    assert pb.profile.scores() == {"a": 5, "b": 1, "c": 4}
    assert [d["projects"] for d in pb.duplicates] == [["a"]]


def test_a_repeated_ranking_entry_keeps_its_first_place():
    pb = _pb("voter_id;vote\n1;b,a,b\n", vote_type="ordinal")
    assert pb.profile.groups == [(("b", "a"), 1)]


def test_strict_mode_refuses_a_repeated_project_naming_line_and_column():
    with pytest.raises(PabulibError) as info:
        _pb("voter_id;vote\n1;a\n2;b,a,b\n", strict=True)
    assert (info.value.line, info.value.column) == (14, 3)
    assert "lists project(s) b more than once" in str(info.value)


def test_lenient_reading_keeps_a_cell_that_goes_on_after_its_closing_quote():
    text = (HEAD.format(vote_type="approval", rule="greedy", extra="")
            .replace("a;60;3;Park;1", 'a;60;3;"Odkupmy" i my;1') + "voter_id;vote\n1;a\n")
    pb = parse_pabulib(text, "t.pb", strict=False)
    assert pb.instance.by_id["a"].name == '"Odkupmy" i my'
    assert pb.warnings and "line 8, column 8" in pb.warnings[0]
    with pytest.raises(PabulibError, match=r"t.pb:8:8: a cell starts with a quote"):
        parse_pabulib(text, "t.pb")


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive"])
def test_the_meta_threshold_applies_to_every_greedy_rule(rule):
    pb = _pb("voter_id;vote\n1;a,b\n2;a,c\n3;a\n", rule=rule, extra="min_project_score_threshold;2\n")
    found, params, _ = default_rule_and_params(pb)
    assert found == rule and params["min_score"] == 2
    outcome = run_rule(pb.instance, pb.profile, rule, params)
    assert outcome.selected == ["a"]   # b has 1 vote < 2 and fits; below threshold
    assert [s["decision"] for s in outcome.trace if s.get("project") == "b"] == ["below threshold"]


def test_greedy_threshold_without_the_meta_key_names_it():
    pb = _pb("voter_id;vote\n1;a\n", rule="greedy-threshold")
    rule, params, _ = default_rule_and_params(pb)
    with pytest.raises(TallyInputError, match="META min_project_score_threshold"):
        run_rule(pb.instance, pb.profile, rule, params)


def test_a_bad_meta_threshold_names_the_key_and_line():
    with pytest.raises(PabulibError, match=r"t.pb:6:29: META min_project_score_threshold 'many'"):
        default_rule_and_params(_pb("voter_id;vote\n1;a\n", extra="min_project_score_threshold;many\n"))


def test_greedy_custom_is_counted_without_skipping_and_says_so_without_claiming_a_match():
    pb = _pb("voter_id;vote\n1;a\n2;a\n3;c\n4;c\n5;b\n", rule="greedy-custom")
    rule, _params, notes = default_rule_and_params(pb)
    assert rule == "greedy-no-skip"
    assert "greedy-no-skip" in notes[0] and "selected=1" not in notes[0]


def _tied():
    inst = Instance.from_plain(100, [("cheap", 30), ("dear", 80), ("other", 20)])
    prof = Profile.approval(inst, [{"cheap"}, {"dear"}, {"dear"}, {"cheap"}, {"other"}, {"cheap", "dear"}])
    return inst, prof


@pytest.mark.parametrize("order, funded, decided_by", [
    ("lowest-cost", ["cheap", "other"], "lowest cost"),
    ("highest-cost", ["dear", "other"], "highest cost"),
    ("lot", None, "lot"),
])
def test_tie_break_orders_are_a_parameter_recorded_with_each_tie(order, funded, decided_by):
    inst, prof = _tied()
    outcome = run_rule(inst, prof, "greedy", {"tie_break": order, "tie_seed": "s"})
    if funded is not None:
        assert outcome.selected == funded
    tie = outcome.ties[0]
    assert tie["tied"] == ["cheap", "dear"] and tie["decided_by"] == decided_by
    if order == "lowest-cost":   # the default: left out of params and records, as before it existed
        assert "tie_break" not in tie and "tie_break" not in outcome.params
    else:
        assert tie["tie_break"] == order and outcome.params["tie_break"] == order


def test_most_votes_orders_ties_by_supporters_then_cost():
    inst = Instance.from_plain(100, [("x", 30), ("y", 80)])
    # cumulative: equal points, y has more supporters
    prof = Profile.cumulative(inst, [{"x": 4}, {"y": 2}, {"y": 2}])
    assert run_rule(inst, prof, "greedy", {"tie_break": "most-votes"}).selected == ["y"]
    assert run_rule(inst, prof, "greedy", {}).selected == ["x"]


def test_exclusive_groups_fund_at_most_one_per_group():
    inst = Instance.from_plain(100, [("a", 30), ("b", 30), ("c", 30)])
    prof = Profile.approval(inst, [{"a", "b"}, {"a", "b"}, {"a"}, {"c"}])
    outcome = run_rule(inst, prof, "greedy-exclusive", {"exclusive": "a,b"})
    assert outcome.selected == ["a", "c"]
    step = next(s for s in outcome.trace if s.get("project") == "b")
    assert step["decision"] == "excluded" and step["excluded_by"] == ["a"]
    assert "-> excluded: a, which excludes it, is already funded." in explain(outcome, inst)
    # no groups: plain greedy
    assert run_rule(inst, prof, "greedy-exclusive", {}).selected == ["a", "b", "c"]
    with pytest.raises(TallyInputError, match="unknown project"):
        run_rule(inst, prof, "greedy-exclusive", {"exclusive": "a,zz"})


def test_exclusive_groups_come_from_meta_or_a_projects_column():
    pb = _pb("voter_id;vote\n1;a,b\n", rule="greedy-exclusive", extra="exclusive_groups;a,b\n")
    assert default_rule_and_params(pb)[1]["exclusive"] == (("a", "b"),)
    text = (HEAD.format(vote_type="approval", rule="greedy-exclusive", extra="")
            .replace("name;selected", "name;selected;exclusive_group")
            .replace("Park;1", "Park;1;g1").replace("Library;1", "Library;1;g1").replace("Bench;0", "Bench;0;")
            + "voter_id;vote\n1;a,b\n2;a\n")
    pb = parse_pabulib(text, "t.pb")
    assert default_rule_and_params(pb)[1]["exclusive"] == (("a", "b"),)
    assert run_rule(pb.instance, pb.profile, "greedy-exclusive", default_rule_and_params(pb)[1]).selected == ["a"]
