"""A tiny fixed election counted by the real engine, to show residents how their district's
rule works ("How the count works"). Pure: the same numbers in every run and every language.

Five neighbours, three projects and a budget of 100: small enough to follow by hand, and
chosen so that the rules differ (the most popular project is also the most expensive).
"""
from __future__ import annotations

from dataclasses import dataclass

from pbvote.i18n_hook import N_, _, n_, translate
from pbvote.tally import Instance, Profile, explain, run_rule

BUDGET = 100
#: (id, name, cost)
PROJECTS = (("A", N_("Street lights"), 60), ("B", N_("Safer crossing"), 40),
            ("C", N_("Youth evenings"), 30))
#: the same five neighbours' wishes, written for each kind of ballot
BALLOTS = {
    "approval": [("A",), ("A",), ("A", "B"), ("B", "C"), ("C",)],
    "ordinal": [("A", "B"), ("A", "C"), ("B", "A"), ("C", "B"), ("C", "A")],
    "cumulative": [{"A": 3}, {"A": 2, "B": 1}, {"B": 3}, {"B": 1, "C": 2}, {"C": 3}],
}
PROFILE_OF_BALLOT = {"approval": "approval", "knapsack": "approval", "ranked": "ordinal",
                     "cumulative": "cumulative"}


@dataclass(frozen=True)
class WorkedExample:
    budget: int
    #: (id, name, cost) in the reader's language
    projects: list[tuple[str, str, int]]
    #: one line per neighbour, e.g. "Neighbour 1: Street lights"
    ballots: list[str]
    #: names of the funded projects in the order chosen
    funded: list[str]
    total_cost: int
    #: the engine's own account of the count, in the reader's language
    lines: list[str]


def worked_example(ballot_kind: str, rule: str, params: dict) -> WorkedExample:
    """The example election under `rule` with the district's `params`, counted now."""
    profile_type = PROFILE_OF_BALLOT[ballot_kind]
    names = {pid: translate(name) for pid, name, _cost in PROJECTS}
    instance = Instance.from_plain(budget=BUDGET, projects=[
        {"id": pid, "cost": cost, "name": names[pid]} for pid, _name, cost in PROJECTS])
    ballots = BALLOTS[profile_type]
    profile = Profile.from_plain(instance, profile_type, ballots)
    # the district's own settings, but never its published seed: the example is not its draw
    outcome = run_rule(instance, profile, rule, {k: v for k, v in params.items()
                                                 if k != "tie_seed"})
    return WorkedExample(
        budget=BUDGET, projects=[(pid, names[pid], cost) for pid, _name, cost in PROJECTS],
        ballots=[_("Neighbour %(n)s: %(choices)s", n=number,
                   choices=_ballot_text(ballot, names, profile_type))
                 for number, ballot in enumerate(ballots, start=1)],
        funded=[names[pid] for pid in outcome.selected],
        total_cost=int(outcome.total_cost),
        lines=[line for line in explain(outcome, instance, parameters=False).splitlines()
               if line.strip()])


def _ballot_text(ballot, names: dict[str, str], profile_type: str) -> str:
    if profile_type == "cumulative":
        return ", ".join(n_("%(project)s (%(num)s point)", "%(project)s (%(num)s points)",
                            points, project=names[pid]) for pid, points in ballot.items())
    if profile_type == "ordinal":  # first choice first
        return " > ".join(names[pid] for pid in ballot)
    return ", ".join(names[pid] for pid in ballot)
