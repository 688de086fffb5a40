"""Sentences and figures the results page shows from a district's stored analysis."""
from __future__ import annotations

from fractions import Fraction

from pbvote.rules.results_insight import read_insight
from pbvote.tally import Instance, Profile, run_rule
from pbvote.tally.analysis import analyse


def _district():
    inst = Instance.from_plain(budget=90, projects=[("x", 30), ("y", 40), ("z", 45)])
    prof = Profile.approval(inst, [{"x", "z"}] * 6 + [{"y"}] * 3)
    outcome = run_rule(inst, prof, "equalshares", {"tie_seed": "s", "utilities": "cardinality"})
    supporters = prof.supporters()
    return {"rule": "equalshares", "budget": 90, "score_label": "votes",
            "projects": [{"id": p.id, "title": f"Project {p.id.upper()}", "cost": p.cost,
                          "supporters": supporters[p.id]} for p in inst.projects],
            "analysis": analyse(inst, prof, outcome)}


def money(value):
    return f"${value}"


def test_mes_sentences_say_who_paid_for_what_and_what_was_missing():
    district = _district()
    titles = {p["id"]: p["title"] for p in district["projects"]}
    insight = read_insight(district, titles, money)
    z = " ".join(insight.sentences["z"])
    assert ("It had 6 supporters. By the time it was considered they had $30 left between "
            "them, less than its cost of $45.") in z
    assert "That is because 6 of them had already paid for Project X ($30 from 6 supporters)." in z
    assert "Its effective support was 66 %" in z
    assert "It was $15 short; at least 3 more supporters with the same ballot" in z
    y = " ".join(insight.sentences["y"])
    assert "Even with their full equal shares of the budget, they had only $30 together" in y
    x = " ".join(insight.sentences["x"])
    # without X, Z is funded first at 7.5 per supporter: X's 6 supporters could pay 45 of 30
    assert "Its effective support was 150 %" in x and "funded in round 1" in x
    assert insight.effective_support == {"x": Fraction(3, 2), "y": Fraction(3, 4),
                                         "z": Fraction(2, 3)}
    assert insight.none_funded == 3 and insight.none_funded_greedy == 3
    assert "3 of the 9 voters who chose projects had none of their projects funded" in \
        insight.summary[0]
    assert "plain greedy" in insight.summary[1]


def test_no_analysis_no_insight():
    district = _district()
    del district["analysis"]
    assert read_insight(district, {}, money) is None
