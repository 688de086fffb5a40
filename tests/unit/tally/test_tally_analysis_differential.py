"""The explanation figures (pbvote.tally.analysis) against pabutools 1.2.3's MES analytics on
random small elections, with pabutools given our tie-break (see test_tally_differential).

* effective support: ``calculate_effective_supports`` on the per-voter budget the count used
  equals our ``effective_support_percent`` for every supported project;
* project loss: for every funded project, ``calculate_project_loss`` gives the same money
  its supporters had when it was funded and the same amounts paid for each earlier project.
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from pabutools.analysis.mesanalytics import calculate_effective_support, calculate_project_loss
from pabutools.election import Cardinality_Sat, Cost_Sat
from pabutools.rules import method_of_equal_shares
from test_tally_differential import elections, to_pabutools

from pbvote.tally import run_rule
from pbvote.tally.analysis import analyse
from pbvote.tally.exact import parse_exact

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def exact(value):
    return value if isinstance(value, int) else parse_exact(value)


def _compare(case, rule, utilities):
    inst, prof, ballots, seed = case
    outcome = run_rule(inst, prof, rule, {"tie_seed": seed, "utilities": utilities})
    ours = analyse(inst, prof, outcome, after_payment=True)["projects"]
    start = next(s for s in outcome.trace if s["type"] == "mes_start")
    pinst, pprof, tie = to_pabutools(inst, ballots, seed, prof)
    pinst.budget_limit = Fraction(start["budget_used"])
    sat = Cost_Sat if utilities == "cost" else Cardinality_Sat
    alloc = method_of_equal_shares(pinst, pprof, sat_class=sat, tie_breaking=tie, analytics=True)
    assert [p.name for p in alloc] == [s["project"] for s in outcome.trace if s["type"] == "mes_round"]
    votes = prof.supporters()
    for project in pinst:
        if votes[project.name] == 0:  # pabutools cannot measure a project nobody supports
            assert project.name not in ours
            continue
        percent = calculate_effective_support(
            pinst, pprof, project, project in alloc, {"sat_class": sat, "tie_breaking": tie})
        assert ours[project.name]["effective_support_percent"] == percent, project.name
    # pabutools' project loss reads every iteration's selected project; the last iteration
    # (nothing selected) makes it fail, so it gets the iterations that selected one
    alloc.details.iterations = [it for it in alloc.details.iterations if it.selected_project]
    losses = {loss.name: loss for loss in calculate_project_loss(alloc.details)}
    for pid, entry in ours.items():
        if "funded_in_round" not in entry:
            continue
        loss = losses[pid]
        assert exact(entry["supporters_money"]) == loss.supporters_budget
        theirs = {p.name: amount for p, amount in loss.budget_lost.items() if amount}
        assert {s["project"]: exact(s["amount"]) for s in entry["spent_on"]} == theirs


@SETTINGS
@given(elections())
def test_mes_cost_utilities_analysis_matches_pabutools(case):
    _compare(case, "equalshares", "cost")


@SETTINGS
@given(elections())
def test_mes_cardinality_analysis_matches_pabutools(case):
    _compare(case, "equalshares", "cardinality")


@SETTINGS
@given(elections(all_supported=True))
def test_mes_add1_analysis_matches_pabutools_at_the_final_budget(case):
    _compare(case, "equalshares/add1", "cost")
