"""Why each project was or was not funded, in figures: computed from a count's trace.

Pure and exact (ints and Fractions). :func:`analyse` takes the instance, the profile and the
:class:`~pbvote.tally.Outcome` a rule produced and returns a JSON-ready dict (exact numbers
as ints or exact strings) that the results document stores and the verifier recomputes.

Method of Equal Shares (any ``equalshares*`` rule; the rounds of the accepted run in the
trace, with the per-voter budget it used):

* **effective support** of a project: the largest share of its cost its supporters could pay
  at the price per unit of utility of some round (each supporter paying that price for their
  utility, or all they had left), or with all their money once the rounds ended. A project
  not funded stays below 100 %. For a funded project it is measured in a count without it
  (so it says by how much it would have won), as pabutools'
  ``calculate_effective_support`` does, whose integer percent equals ``effective_support_percent``;
* **when it was considered**: for a funded project its round; otherwise the first moment its
  supporters' money left was less than its cost (round 0: even the full equal shares were
  not enough). ``supporters_money`` is their money then, and ``spent_on`` lists the funded
  projects they had paid for by then: amount and how many of them paid (pabutools'
  ``calculate_project_loss`` for funded projects);
* **what it would have needed**: ``shortfall`` (its cost less what its supporters could pay
  at its best moment) and ``more_supporters``, a lower bound: each extra supporter would
  bring at most one equal share, and at most the going price for their utility.

Greedy rules: for a project that was not funded, the funded project that took the last money
it needed (``taker``: after that project the money left was less than its cost) and the
score gap to it (``score_gap``: how many more votes or points it needed to come before it);
below a threshold, the gap to the threshold.

Every district: voters with none of the projects they supported funded, under the rule and
under plain greedy on the same scores, and for each project's supporters their average share
of the money spent (each funded project's cost split equally among its supporters).
"""
from __future__ import annotations

from fractions import Fraction
from math import ceil, floor
from typing import Any

from .exact import json_exact, normalize
from .instance import Instance, Profile, Project
from .outcome import Outcome
from .registry import RULES, run_rule

ANALYSIS_FORMAT = 1
#: parameters a re-count for the analysis keeps from the original count, when the rule takes them
_KEPT_PARAMS = ("ties", "tie_seed", "tie_break", "scoring_fn", "utilities")


def analyse(instance: Instance, profile: Profile, outcome: Outcome,
            after_payment: bool = False) -> dict[str, Any]:
    """The analysis of one district's count (see the module docstring), JSON-ready.
    ``after_payment``: measure covers as pabutools does (differential tests only; see
    :func:`_best_covers`)."""
    trace = outcome.trace
    scoring_fn = outcome.params.get("scoring_fn") if profile.ballot_type == "ordinal" else None
    if any(step.get("type") == "mes_start" for step in trace):
        kind, projects = "mes", _mes_projects(instance, profile, outcome, scoring_fn, after_payment)
    elif any(step.get("type") == "greedy" for step in trace):
        kind, projects = "greedy", _greedy_projects(instance, outcome)
    else:
        kind, projects = "none", {}
    return _jsonable({
        "format": ANALYSIS_FORMAT,
        "kind": kind,
        "projects": projects,
        "district": _district(instance, profile, outcome, scoring_fn),
    })


# ----- Method of Equal Shares ----------------------------------------------------------------
def _mes_groups(instance: Instance, profile: Profile, utilities: str, scoring_fn):
    """Voter groups (identical ballots) as ``(weight, {project: utility})`` over the projects
    MES can fund, with the utilities the count used."""
    fundable = {p.id for p in instance.projects if p.selectable and p.cost > 0}
    groups = []
    for weight, pairs in profile.utilities(scoring_fn):
        items = {}
        for pid, u in pairs:
            if pid not in fundable:
                continue
            if utilities == "cost":
                u = instance.by_id[pid].cost
            elif utilities == "cardinality":
                u = 1
            items[pid] = Fraction(u)
        if items:
            groups.append((weight, items))
    return groups


def _rounds(trace: list[dict], instance: Instance, utilities: str) -> list[tuple[str, Fraction]]:
    """``(winner, price per unit of utility)`` for every round of the traced MES run."""
    rounds = []
    for step in trace:
        if step.get("type") != "mes_round":
            continue
        pid = step["project"]
        if "price_per_point" in step:
            rho = Fraction(step["price_per_point"])
        elif utilities == "cost":
            rho = Fraction(step["payment"]) / instance.by_id[pid].cost
        else:
            rho = Fraction(step["payment"])
        rounds.append((pid, rho))
    return rounds


class _Replay:
    """Replays MES rounds, group by group, recording what each project's supporters could pay."""

    def __init__(self, instance: Instance, groups, per_voter: Fraction):
        self.instance = instance
        self.groups = groups
        self.budget = [Fraction(per_voter)] * len(groups)
        self.paid: list[dict[str, Fraction]] = [{} for _ in groups]  # per voter of the group
        self.funded: list[str] = []
        self.supporters: dict[str, list[int]] = {}
        for g, (_, items) in enumerate(groups):
            for pid in items:
                self.supporters.setdefault(pid, []).append(g)

    def money(self, pid: str) -> Fraction:
        return sum((self.groups[g][0] * self.budget[g] for g in self.supporters.get(pid, ())),
                   Fraction(0))

    def cover(self, pid: str, rho: Fraction | None) -> Fraction:
        """What pid's supporters could pay at price ``rho`` per unit of utility (None: all they have)."""
        if rho is None:
            return self.money(pid)
        total = Fraction(0)
        for g in self.supporters.get(pid, ()):
            weight, items = self.groups[g]
            total += weight * min(self.budget[g], rho * items[pid])
        return total

    def spent_on(self, pid: str) -> list[dict]:
        """Funded projects pid's supporters have paid for so far: amount and payers."""
        amounts: dict[str, list] = {}
        for g in self.supporters.get(pid, ()):
            weight = self.groups[g][0]
            for other, paid in self.paid[g].items():
                if paid:
                    entry = amounts.setdefault(other, [Fraction(0), 0])
                    entry[0] += weight * paid
                    entry[1] += weight
        # in the order the projects were funded, whatever the order of the ballots
        return [{"project": other, "amount": amounts[other][0], "voters": amounts[other][1]}
                for other in self.funded if other in amounts]

    def payers(self, pid: str) -> int:
        """How many of pid's supporters have paid for some funded project so far."""
        return sum(self.groups[g][0] for g in self.supporters.get(pid, ())
                   if any(self.paid[g].values()))

    def moment(self, pid: str, round_no: int | None) -> dict:
        return {"round": round_no, "money": self.money(pid), "spent_on": self.spent_on(pid),
                "payers": self.payers(pid)}

    def charge(self, pid: str, rho: Fraction) -> None:
        self.funded.append(pid)
        for g in self.supporters.get(pid, ()):
            pay = min(self.budget[g], rho * self.groups[g][1][pid])
            self.budget[g] -= pay
            self.paid[g][pid] = pay


def _best_covers(instance: Instance, groups, per_voter, rounds, watch: set[str],
                 after_payment: bool = False):
    """Replay ``rounds``; for each watched project the best cover, where it was reached and
    when its supporters' money fell below its cost (with what they had then).

    A round's cover is measured with the money supporters had when the round's winner was
    chosen. ``after_payment`` measures it once the winner is paid for instead, as pabutools
    1.2.3 does (its voters' budgets are already charged when it measures): only the
    differential tests use it. Measured that way, a project that tied with the winner and
    lost the tie-break can show 0 %; measured before, it shows 100 %."""
    replay = _Replay(instance, groups, per_voter)
    cost = {pid: instance.by_id[pid].cost for pid in watch}
    best: dict[str, tuple[Fraction, int | None, Fraction | None]] = {
        pid: (Fraction(-1), None, None) for pid in watch}
    considered: dict[str, dict] = {}
    funded_at: dict[str, dict] = {}

    def note_dropped(round_no):
        for pid in watch:
            if pid not in considered and pid not in funded_at and replay.money(pid) < cost[pid]:
                considered[pid] = replay.moment(pid, round_no)

    def note_covers(number, winner, rho):
        for pid in watch:
            if pid == winner or pid in funded_at:
                continue
            value = replay.cover(pid, rho)
            if value > best[pid][0]:
                best[pid] = (value, number, rho)

    note_dropped(0)
    for number, (winner, rho) in enumerate(rounds, 1):
        if not after_payment:
            note_covers(number, winner, rho)
        if winner in watch:
            funded_at[winner] = replay.moment(winner, number)
        replay.charge(winner, rho)
        if after_payment:
            note_covers(number, winner, rho)
        note_dropped(number)
    for pid in watch:
        if pid in funded_at:
            continue
        value = replay.cover(pid, None)
        if value > best[pid][0]:
            best[pid] = (value, None, None)
        considered.setdefault(pid, replay.moment(pid, None))
    return best, considered, funded_at


def _mes_projects(instance: Instance, profile: Profile, outcome: Outcome, scoring_fn,
                  after_payment: bool = False) -> dict:
    trace = outcome.trace
    start = next(step for step in trace if step.get("type") == "mes_start")
    utilities = start["utilities"]
    per_voter = Fraction(start["per_voter"])
    groups = _mes_groups(instance, profile, utilities, scoring_fn)
    rounds = _rounds(trace, instance, utilities)
    mes_funded = [pid for pid, _ in rounds]
    supporters = profile.supporters()
    fundable = [p for p in instance.projects if p.selectable and p.cost > 0 and supporters[p.id]]
    watch = {p.id for p in fundable}
    best, considered, funded_at = _best_covers(instance, groups, per_voter, rounds, watch,
                                               after_payment)
    projects: dict[str, dict] = {}
    for project in fundable:
        pid = project.id
        if pid in funded_at:
            cover = _cover_without(instance, profile, outcome, start, groups, per_voter, project,
                                   after_payment)
            # measured before payment a funded project's cover is at least its cost anyway
            # (its own price beat the winner's of the round it would have won)
            projects[pid] = _mes_entry(project, max(cover, Fraction(project.cost)),
                                       funded_at[pid], funded=True)
            continue
        value, round_no, rho = best[pid]
        entry = _mes_entry(project, value, considered[pid], funded=False)
        entry["closest_round"] = round_no
        shortfall = project.cost - value
        entry["shortfall"] = shortfall
        # every extra supporter brings at most an equal share, and at most the going price
        # for the largest utility any supporter has for this project
        utility = max((groups[g][1][pid] for g in range(len(groups)) if pid in groups[g][1]),
                      default=Fraction(1))
        bring = per_voter if rho is None else min(per_voter, rho * utility)
        entry["more_supporters"] = ceil(shortfall / bring) if bring > 0 else None
        projects[pid] = entry
    for pid in projects:
        projects[pid]["funded_by_rounds"] = pid in mes_funded
    return projects


def _mes_entry(project: Project, cover: Fraction, at: dict, funded: bool) -> dict:
    support = cover / project.cost
    return {
        "effective_support": support,
        "effective_support_percent": floor(support * 100),
        "considered_round": at["round"],
        "supporters_money": at["money"],
        "spent_on": at["spent_on"],
        "supporters_who_paid": at["payers"],
    } | ({"funded_in_round": at["round"]} if funded else {})


def _cover_without(instance: Instance, profile: Profile, outcome: Outcome, start: dict, groups,
                   per_voter: Fraction, project: Project, after_payment: bool) -> Fraction:
    """Effective support of a funded project: its best cover in an equal-shares count with the
    same per-voter money and the project left out (as pabutools measures it)."""
    others = [p if p.id != project.id else
              Project(p.id, p.cost, p.name, withdrawn=True) for p in instance.projects]
    reduced = Instance(others, start["budget_used"], instance.meta)
    spec = RULES["equalshares"]
    params = {k: v for k, v in outcome.params.items() if k in _KEPT_PARAMS and k in spec.params}
    params["utilities"] = "cost" if start["utilities"] == "cost" else "cardinality"
    rerun = run_rule(reduced, profile, "equalshares", params)
    best, _, _ = _best_covers(instance, groups, per_voter,
                              _rounds(rerun.trace, instance, start["utilities"]), {project.id},
                              after_payment)
    return best[project.id][0]


# ----- greedy --------------------------------------------------------------------------------
def _greedy_projects(instance: Instance, outcome: Outcome) -> dict:
    steps = [s for s in outcome.trace if s.get("type") == "greedy"]
    density = bool(outcome.params.get("density"))
    funded_steps = [s for s in steps if s["decision"] == "funded"]
    projects: dict[str, dict] = {}
    for step in steps:
        pid, decision = step["project"], step["decision"]
        cost, score = step["cost"], step["score"]
        entry: dict[str, Any] = {"rank": step["rank"], "decision": decision}
        if decision == "below threshold":
            entry["score_gap"] = step["threshold"] - score
        elif decision in ("skipped", "stopped", "not considered"):
            if cost > instance.budget:
                entry["never_fits"] = True
            else:
                taker = next((s for s in funded_steps if s["rank"] < step["rank"]
                              and s["remaining"] >= cost > s["remaining"] - s["cost"]), None)
                if taker is not None:
                    entry["taker"] = taker["project"]
                    target = (Fraction(taker["score"]) / taker["cost"] * cost
                              if density and taker["cost"] else taker["score"])
                    entry["score_gap"] = target - score
        projects[pid] = entry
    return projects


# ----- the district --------------------------------------------------------------------------
def _district(instance: Instance, profile: Profile, outcome: Outcome, scoring_fn) -> dict:
    selected = set(outcome.selected)
    spec = RULES["greedy"]
    params = {k: v for k, v in outcome.params.items() if k in _KEPT_PARAMS and k in spec.params}
    greedy_selected = set(run_rule(instance, profile, "greedy", params).selected)
    supporters = profile.supporters()
    share = {pid: Fraction(instance.by_id[pid].cost, 1) / supporters[pid]
             for pid in selected if supporters.get(pid)}
    with_choice = none_rule = none_greedy = 0
    group_money = {p.id: Fraction(0) for p in instance.projects}
    for ballot, weight in profile.groups:
        ids = set(profile._ids(ballot))
        if not ids:
            continue
        with_choice += weight
        none_rule += weight * (not ids & selected)
        none_greedy += weight * (not ids & greedy_selected)
        money = sum((share[pid] for pid in ids if pid in share), Fraction(0))
        for pid in ids:
            group_money[pid] += weight * money
    n = profile.num_voters
    return {
        "voters": n,
        "voters_with_choices": with_choice,
        "none_funded": none_rule,
        "none_funded_greedy": none_greedy,
        "greedy_selected": [p.id for p in instance.projects if p.id in greedy_selected],
        "equal_share": Fraction(instance.budget) / n if n else 0,
        "group_share": {pid: group_money[pid] / supporters[pid]
                        for pid in group_money if supporters.get(pid)},
    }


def _jsonable(value):
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Fraction) or type(value).__name__ == "mpq":
        return json_exact(normalize(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__}")
