"""Charts and the plain-language reading of results: pure, no database."""
from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest

from pbvote.rules import charts
from pbvote.rules.results_reading import ordinal, read_district
from pbvote.tally import RULES, Instance, Profile, run_rule


def _money(amount) -> str:
    return f"${amount}" if isinstance(amount, int) else f"${float(amount):.2f}"


def _district(rule: str, ballots, params=None, budget=100) -> dict:
    costs = {"A": 60, "B": 40, "C": 30, "D": 20}
    instance = Instance.from_plain(budget=budget, projects=[
        {"id": pid, "cost": cost, "name": f"Project {pid}"} for pid, cost in costs.items()])
    profile = Profile.approval(instance, ballots)
    outcome = run_rule(instance, profile, rule, params or {})
    return {
        "slug": "d", "name": "D", "budget": budget, "ballot_kind": "approval", "rule": rule,
        "params": {}, "score_label": "votes", "ballots": profile.num_voters,
        "participations": {"total": profile.num_voters, "by_channel": {}},
        "eligible": 10, "turnout": {"fraction": "1/2", "percent": "50.0"},
        "projects": [{"id": pid, "title": f"Project {pid}", "cost": cost,
                      "supporters": profile.supporters()[pid]} for pid, cost in costs.items()],
        "scores": profile.scores(), "outcome": outcome.to_dict()}


def test_greedy_reasons_follow_the_trace():
    ballots = [{"A", "B"}] * 3 + [{"C"}] * 2
    result = read_district(_district("greedy", ballots), _money)
    why = {p.id: " ".join(p.why) for p in result.projects}
    assert [p.id for p in result.funded] == ["B", "A"]
    assert "It came 1st with 3 votes. Its cost of $40 fitted in the $100" in why["B"]
    assert "tied with Project A; the tie was decided by lowest cost" in why["B"]
    assert "It came 3rd with 2 votes. Its cost of $30 did not fit in the $0 left" in why["C"]
    assert "Nobody voted for it" in why["D"]
    assert result.total_cost == 100 and result.leftover == 0
    assert any("B (Project B): score 3, cost 40 -> funded" in line for line in result.trace_lines)


def test_equal_shares_reasons_name_the_round_and_the_payment():
    ballots = [{"A"}] * 6 + [{"C", "D"}] * 4
    result = read_district(_district("equalshares", ballots), _money)
    why = {p.id: " ".join(p.why) for p in result.projects}
    assert {p.id for p in result.funded} == {"A", "D"}
    assert ("It was funded in round 1 of equal shares: its cost of $60 was shared out; 6 "
            "supporters paid all they had left.") in why["A"]
    assert "2 of equal shares: its cost of $20 was shared out; 4 supporters paid $5 each" \
        in why["D"]
    assert "equal shares of the budget were not enough" in why["C"]
    assert "Nobody voted for it" in why["B"]


@pytest.mark.parametrize("rule", [name for name, spec in RULES.items()
                                  if "approval" in spec.ballot_types])
def test_every_project_gets_an_answer_under_every_rule(rule):
    rng = random.Random(rule)
    for _ in range(15):
        ballots = [set(rng.sample("ABCD", rng.randint(1, 3))) for _ in range(rng.randint(1, 12))]
        params = {"min_score": 2} if rule == "greedy-threshold" else {}
        result = read_district(_district(rule, ballots, params), _money)
        for project in result.projects:
            assert project.why, (rule, project.id)
            assert all(sentence.endswith(".") for sentence in project.why)
        assert result.trace_lines


def test_ordinal_suffixes():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_bar_chart_is_labelled_escaped_and_proportional():
    svg = charts.bar_chart("Votes <per> project", "Longest bar: most votes & funded.", [
        charts.Bar("Lights & <paths>", 30, "30 votes", highlighted=True, tag="funded"),
        charts.Bar("Crossings", 15, "15 votes"),
        charts.Bar("Nothing", 0, "0 votes"),
        charts.Bar("A third", Fraction(10, 3), "10/3 points")])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "Votes &lt;per&gt; project" in svg and "Lights &amp; &lt;paths&gt;" in svg
    assert "30 votes · funded" in svg and "15 votes<" in svg
    assert "style=" not in svg
    widths = [int(w) for w in re.findall(r'class="chart-bar" x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths[0] == 2 * widths[1]
    assert widths[2] == 0 and widths[3] > 0


def test_chart_ids_are_unique_on_a_page():
    first = charts.bar_chart("a", "b", [charts.Bar("x", 1, "1")])
    second = charts.bar_chart("a", "b", [charts.Bar("x", 1, "1")])
    id_of = re.compile(r'<title id="([^"]+)"')
    assert id_of.search(first).group(1) != id_of.search(second).group(1)
