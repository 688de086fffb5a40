"""Hand-checked explanation figures (pbvote.tally.analysis)."""
from __future__ import annotations

from pbvote.tally import Instance, Profile, run_rule
from pbvote.tally.analysis import analyse


def _mes_case():
    # 12 voters, 100 to share: 25/3 each
    inst = Instance.from_plain(budget=100, projects=[("a", 60), ("b", 40), ("c", 50), ("d", 30)])
    ballots = [{"a", "b"}] * 5 + [{"c"}] * 3 + [{"d", "a"}] * 2 + [{"c", "d"}] * 2
    return inst, Profile.approval(inst, ballots)


def test_mes_effective_support_losses_and_needs():
    inst, prof = _mes_case()
    outcome = run_rule(inst, prof, "equalshares", {"tie_seed": "x"})   # cost utilities
    assert outcome.selected == ["b", "d"]
    result = analyse(inst, prof, outcome)
    assert result["kind"] == "mes"
    a, b, c, d = (result["projects"][p] for p in "abcd")
    # b: 5 supporters pay 8 each in round 1 (8 per 40 beats d's 7.5 per 30)
    assert b["funded_in_round"] == 1 and b["spent_on"] == [] and b["supporters_who_paid"] == 0
    assert b["supporters_money"] == "125/3"
    assert d["funded_in_round"] == 2
    # a: 7 supporters × 25/3 = 175/3 < 60: never affordable, considered at the start
    assert a["considered_round"] == 0 and a["supporters_money"] == "175/3"
    # best moment for a: round 1, at 1/5 per unit of cost (12 for a), each pays all 25/3
    assert a["closest_round"] == 1 and a["effective_support"] == "35/36"
    assert a["effective_support_percent"] == 97 and a["shortfall"] == "5/3"
    assert a["more_supporters"] == 1
    # c: 5 supporters × 25/3 of 50
    assert c["effective_support_percent"] == 83 and c["shortfall"] == "25/3"
    assert c["more_supporters"] == 1


def test_mes_records_which_funded_projects_took_the_money():
    inst = Instance.from_plain(budget=90, projects=[("x", 30), ("y", 40), ("z", 45)])
    # 9 voters, 10 each. x: 6 supporters at 5; then z's supporters (x voters) have 5 left each
    ballots = [{"x", "z"}] * 6 + [{"y"}] * 3
    prof = Profile.approval(inst, ballots)
    outcome = run_rule(inst, prof, "equalshares", {"tie_seed": "x", "utilities": "cardinality"})
    assert outcome.selected == ["x"]
    z = analyse(inst, prof, outcome)["projects"]["z"]
    assert z["spent_on"] == [{"project": "x", "amount": 30, "voters": 6}]
    assert z["considered_round"] == 1 and z["supporters_money"] == 30
    assert z["supporters_who_paid"] == 6
    assert z["effective_support"] == "2/3"      # 6 × 5 at round 1's price, and 6 × 5 left
    assert z["closest_round"] == 1


def test_a_project_that_lost_a_tie_shows_full_effective_support():
    # one voter, two projects of cost 1, budget 1: they tie; pabutools 1.2.3 reports 0 %
    # for the loser because it measures after the winner is paid
    inst = Instance.from_plain(budget=1, projects=[("p0", 1), ("p1", 1)])
    prof = Profile.approval(inst, [{"p0", "p1"}])
    outcome = run_rule(inst, prof, "equalshares", {"tie_seed": "s1"})
    loser = ({"p0", "p1"} - set(outcome.selected)).pop()
    assert analyse(inst, prof, outcome)["projects"][loser]["effective_support_percent"] == 100
    assert analyse(inst, prof, outcome, after_payment=True)["projects"][loser][
        "effective_support_percent"] == 0


def test_greedy_taker_and_score_gap():
    inst = Instance.from_plain(budget=100, projects=[("a", 60), ("b", 30), ("c", 50), ("d", 200)])
    ballots = [{"a", "b", "c", "d"}] * 4 + [{"a", "c"}] * 3 + [{"b"}] * 2 + [{"c"}]
    prof = Profile.approval(inst, ballots)   # a 7, b 6, c 8, d 4
    outcome = run_rule(inst, prof, "greedy", {"tie_seed": "x"})
    assert outcome.selected == ["c", "b"]
    result = analyse(inst, prof, outcome)
    # a (7 votes) came after c (8): after c only 50 was left of the 60 it needed
    assert result["projects"]["a"] == {"rank": 2, "decision": "skipped", "taker": "c",
                                       "score_gap": 1}
    assert result["projects"]["d"]["never_fits"] is True
    district = result["district"]
    assert district["none_funded"] == 0 and district["none_funded_greedy"] == 0
    # c costs 50 over 8 supporters, b 30 over 6: a b-only voter's share is 5
    assert district["group_share"]["b"] == "55/6"  # (4 × (50/8 + 30/6) + 2 × 30/6) / 6


def test_none_funded_under_the_rule_and_under_greedy():
    inst, prof = _mes_case()
    outcome = run_rule(inst, prof, "equalshares", {"tie_seed": "x"})
    district = analyse(inst, prof, outcome)["district"]
    # MES funds b and d: the 3 c-only voters have nothing; greedy funds a and b: c and c+d
    # voters (5) have nothing
    assert district["none_funded"] == 3
    assert district["none_funded_greedy"] == 5
    assert district["greedy_selected"] == ["a", "b"]
    assert district["equal_share"] == "25/3"


def test_ranked_ballots_and_phragmen_are_analysed():
    inst = Instance.from_plain(budget=50, projects=[("a", 30), ("b", 30), ("c", 20)])
    prof = Profile.ordinal(inst, [("a", "b"), ("b", "c"), ("a",)], max_length=2)
    outcome = run_rule(inst, prof, "greedy", {"tie_seed": "x"})
    result = analyse(inst, prof, outcome)
    assert result["kind"] == "greedy" and result["projects"]["b"]["taker"] == "a"
    approval = Profile.approval(inst, [{"a"}, {"b", "c"}])
    phragmen = run_rule(inst, approval, "phragmen", {"tie_seed": "x"})
    assert analyse(inst, approval, phragmen)["kind"] == "none"


def test_the_analysis_does_not_depend_on_the_order_of_the_ballots():
    import random

    costs = {"NB-1": 120000, "NB-2": 85000, "NB-3": 95000, "NB-4": 140000, "NB-5": 160000}
    inst = Instance.from_plain(budget=400000, projects=list(costs.items()))
    for seed in range(12):
        rng = random.Random(seed)
        ballots = []
        for _ in range(rng.randint(8, 40)):
            ids, chosen, total = list(costs), [], 0
            rng.shuffle(ids)
            for pid in ids:
                if total + costs[pid] <= 400000 and rng.random() < 0.6:
                    chosen.append(pid)
                    total += costs[pid]
            ballots.append(chosen)
        results = []
        for _ in range(2):
            prof = Profile.approval(inst, ballots)
            outcome = run_rule(inst, prof, "equalshares/add1", {"tie_seed": "riverton"})
            results.append(analyse(inst, prof, outcome))
            rng.shuffle(ballots)
        assert results[0] == results[1], seed
