"""Greedy: order projects by score (or score per unit of cost) and fund them while they fit.

Variants (all explicit params):
  ``skip=True``   pass over a project that does not fit and go on (Pabulib ``greedy``);
  ``skip=False``  stop at the first project that does not fit (``greedy-no-skip``);
  ``min_score``   only projects whose score is at least this (``greedy-threshold``);
  ``density``     order by score / cost instead of score;
  ``exclusive``   groups of projects of which at most one is funded (the first reached);
                  the others are passed over ("excluded"), even without skipping.
Projects with score 0 and withdrawn projects are never funded.
"""
from __future__ import annotations

from fractions import Fraction
from itertools import groupby

from ..exact import to_number
from ..instance import Instance, Profile
from ..outcome import Outcome
from ..ties import TieBreaker
from .scoring import project_scores


def greedy_order(instance: Instance, scores, ties: TieBreaker, density: bool, context: str) -> list[str]:
    """Selectable projects with positive score, best first; equal ones ordered by the tie-break."""
    def merit(pid):
        cost = instance.by_id[pid].cost
        if not density:
            return scores[pid]
        return Fraction(scores[pid]) / cost if cost else None  # None: free project, ranks first

    candidates = [p.id for p in instance.projects if p.selectable and scores[p.id] > 0]
    free = [pid for pid in candidates if density and instance.by_id[pid].cost == 0]
    rest = sorted((pid for pid in candidates if pid not in free), key=lambda pid: -merit(pid))
    order = ties.rank(free, f"{context}: free projects") if free else []
    for value, group in groupby(rest, key=merit):
        order.extend(ties.rank(list(group), f"{context}: equal {'density' if density else 'score'} {value}"))
    return order


def greedy(instance: Instance, profile: Profile, params: dict, rule_name: str = "greedy") -> Outcome:
    scores = project_scores(instance, profile, params.get("scoring_fn"))
    ties = TieBreaker(instance, profile.supporters(), params["ties"], params["tie_seed"],
                         params.get("tie_break", "lowest-cost"))
    skip = params["skip"]
    density = params["density"]
    min_score = params.get("min_score")
    min_score = None if min_score is None else to_number(min_score)

    trace = []
    for p in instance.projects:
        if not p.selectable:
            trace.append({"type": "withdrawn", "project": p.id})
    for p in instance.projects:
        if p.selectable and scores[p.id] == 0:
            trace.append({"type": "no_support", "project": p.id})

    order = greedy_order(instance, scores, ties, density, "greedy order")
    group_of: dict[str, list[tuple[str, ...]]] = {}
    for group in params.get("exclusive") or ():
        for pid in group:
            group_of.setdefault(pid, []).append(group)
    funded: set[str] = set()
    selected, spent = [], 0
    stopped = False
    for rank, pid in enumerate(order, 1):
        cost = instance.by_id[pid].cost
        step = {"type": "greedy", "rank": rank, "project": pid, "score": scores[pid], "cost": cost,
                "remaining": instance.budget - spent}
        if density:
            step["density"] = Fraction(scores[pid]) / cost if cost else "free"
        if stopped:
            step["decision"] = "not considered"
        elif min_score is not None and scores[pid] < min_score:
            step["decision"] = "below threshold"
            step["threshold"] = min_score
        elif pid in group_of and any(other in funded for g in group_of[pid] for other in g):
            step["decision"] = "excluded"
            step["excluded_by"] = sorted(other for g in group_of[pid] for other in g if other in funded)
        elif spent + cost <= instance.budget:
            step["decision"] = "funded"
            funded.add(pid)
            selected.append(pid)
            spent += cost
        elif skip:
            step["decision"] = "skipped"
        else:
            step["decision"] = "stopped"
            stopped = True
        trace.append(step)
    return Outcome(rule=rule_name, params=dict(params), selected=selected, total_cost=spent,
                   budget=instance.budget, trace=trace, ties=ties.records)
