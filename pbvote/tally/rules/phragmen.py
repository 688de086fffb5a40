"""Sequential Phragmén for approval ballots.

Each funded project puts a *load* (its cost) on its supporters, spread so that their
total loads become equal. In each round the project that would give its supporters the
lowest new maximal load is chosen: ``(cost + supporters' current loads) / supporters``.
``on_unaffordable="stop"`` (default, as in pabutools) ends the count when the chosen
project does not fit in the remaining budget; ``"skip"`` only considers projects that fit.
Projects nobody approves, and projects dearer than the whole budget, are never considered.

Voters are grouped by the last funded project they approve: everyone in a group carries
the same load, so a round costs a few operations per group instead of per voter.
"""
from __future__ import annotations

from ..exact import Rational as Q
from ..exact import normalize
from ..instance import Instance, Profile
from ..outcome import Outcome
from ..ties import TieBreaker


def sequential_phragmen(instance: Instance, profile: Profile, params: dict, rule_name: str = "phragmen") -> Outcome:
    supporters = profile.supporters()
    ties = TieBreaker(instance, supporters, params["ties"], params["tie_seed"],
                         params.get("tie_break", "lowest-cost"))
    skip = params["on_unaffordable"] == "skip"
    projects = instance.projects
    index = {p.id: i for i, p in enumerate(projects)}
    cost = [Q(p.cost) for p in projects]
    votes = [supporters[p.id] for p in projects]
    # a project dearer than the whole budget can never fit, so it must not stop the count
    remaining = {i for i, p in enumerate(projects) if p.selectable and votes[i] > 0 and p.cost <= instance.budget}

    # group -> class: -1 is "no load yet"; otherwise the round index whose load the group carries
    weights, ballots, groups_of = [], [], [[] for _ in projects]
    for ballot, n in profile.groups:
        g = len(weights)
        weights.append(n)
        items = tuple(index[pid] for pid in ballot)
        ballots.append(items)
        for c in items:
            groups_of[c].append(g)
    load_of = {-1: Q(0)}
    group_class = [-1] * len(weights)
    counts = [{-1: votes[c]} if votes[c] else {} for c in range(len(projects))]

    selected, spent, trace = [], Q(0), []
    budget = Q(instance.budget)
    while remaining:
        best_load, best = None, []
        for c in remaining:
            if skip and spent + cost[c] > budget:
                continue
            load = (cost[c] + sum((load_of[k] * w for k, w in counts[c].items()), Q(0))) / votes[c]
            if best_load is None or load < best_load:
                best_load, best = load, [c]
            elif load == best_load:
                best.append(c)
        if not best:
            break
        chosen = best[0] if len(best) == 1 else index[
            ties.choose([projects[c].id for c in best], f"Phragmén round {len(selected) + 1}")]
        if spent + cost[chosen] > budget:
            trace.append({"type": "phragmen_stop", "project": projects[chosen].id,
                          "cost": projects[chosen].cost, "remaining": normalize(budget - spent)})
            break
        remaining.discard(chosen)
        selected.append(projects[chosen].id)
        spent += cost[chosen]
        round_no = len(selected)
        load_of[round_no] = best_load
        for g in groups_of[chosen]:
            old, w = group_class[g], weights[g]
            group_class[g] = round_no
            for p in ballots[g]:
                if p in remaining:
                    d = counts[p]
                    d[old] -= w
                    if not d[old]:
                        del d[old]
                    d[round_no] = d.get(round_no, 0) + w
        trace.append({"type": "phragmen_round", "round": round_no, "project": projects[chosen].id,
                      "cost": projects[chosen].cost, "supporters": votes[chosen],
                      "load": normalize(best_load)})
    return Outcome(rule=rule_name, params=dict(params), selected=selected, total_cost=normalize(spent),
                   budget=instance.budget, trace=trace, ties=ties.records)
