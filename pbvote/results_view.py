"""Plain-language reading of a results document (see pbvote.services.publication).

Pure: works on the stored JSON only, so the public page never recounts. Money is formatted
by a function the caller passes in (the web layer formats it per locale).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from pbvote.tally import Instance, Outcome, explain, parse_exact
from pbvote.tally.exact import fmt_approx, fmt_exact
from pbvote.tally.registry import RULES

Money = Callable[[int | Fraction], str]

#: trace fields that hold exact numbers (ints, or strings such as "1/3" once stored)
NUMERIC_FIELDS = frozenset({
    "score", "cost", "remaining", "density", "threshold", "per_voter", "budget_used", "payment",
    "price_per_point", "effective_votes", "total_left", "max_left", "min_left", "total_cost",
    "total_cost_at_least", "last_per_voter", "load"})
ORDINALS = {1: "st", 2: "nd", 3: "rd"}


def exact(value) -> int | Fraction:
    """A stored exact number back to int/Fraction."""
    if isinstance(value, int):
        return value
    return parse_exact(str(value))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINALS.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass
class ProjectResult:
    id: str
    title: str
    cost: int
    supporters: int
    score: int | Fraction
    funded: bool
    #: position in the selection order, 1-based; None when not funded
    selection_rank: int | None
    why: list[str] = field(default_factory=list)

    @property
    def score_text(self) -> str:
        return fmt_exact(self.score) if isinstance(self.score, Fraction) else f"{self.score:,}"


@dataclass
class DistrictResult:
    slug: str
    name: str
    budget: int
    ballot_kind: str
    rule: str
    rule_description: str
    params: dict
    score_label: str
    ballots: int
    participations: int
    participations_by_channel: dict[str, int]
    eligible: int
    turnout_percent: str | None
    turnout_fraction: str | None
    projects: list[ProjectResult]
    funded: list[ProjectResult]
    total_cost: int | Fraction
    leftover: int | Fraction
    trace_lines: list[str]
    tie_lines: list[str]


def _outcome_from_dict(data: dict) -> Outcome:
    def numbers(step):
        if isinstance(step, dict):
            return {k: (exact(v) if k in NUMERIC_FIELDS and isinstance(v, (int, str))
                        and not (k == "density" and v == "free") else numbers(v))
                    for k, v in step.items()}
        if isinstance(step, list):
            return [numbers(v) for v in step]
        return step

    return Outcome(rule=data["rule"], params=data["params"], selected=list(data["selected"]),
                   total_cost=exact(data["total_cost"]), budget=exact(data["budget"]),
                   trace=[numbers(step) for step in data["trace"]], ties=data["ties"],
                   notes=data.get("notes", []))


def trace_lines(district: dict) -> list[str]:
    """The round-by-round count, as the tally engine's own explanation renders it."""
    outcome = _outcome_from_dict(district["outcome"])
    instance = Instance.from_plain(budget=district["budget"], projects=[
        {"id": p["id"], "cost": p["cost"], "name": p["title"]} for p in district["projects"]])
    text = explain(outcome, instance)
    return [line for line in text.splitlines() if line.strip()]


def read_district(district: dict, money: Money) -> DistrictResult:
    outcome = district["outcome"]
    selected = list(outcome["selected"])
    label = district["score_label"]
    projects = []
    for p in district["projects"]:
        score = exact(district["scores"][p["id"]])
        funded = p["id"] in selected
        projects.append(ProjectResult(
            id=p["id"], title=p["title"], cost=p["cost"], supporters=p["supporters"],
            score=score, funded=funded,
            selection_rank=selected.index(p["id"]) + 1 if funded else None))
    by_id = {p.id: p for p in projects}
    for project in projects:
        project.why = why(project, outcome, by_id, label, money)
    turnout = district.get("turnout")
    spec = RULES.get(district["rule"])
    return DistrictResult(
        slug=district["slug"], name=district["name"], budget=district["budget"],
        ballot_kind=district["ballot_kind"], rule=district["rule"],
        rule_description=spec.description if spec else district["rule"],
        params=district["params"], score_label=label, ballots=district["ballots"],
        participations=district["participations"]["total"],
        participations_by_channel=district["participations"]["by_channel"],
        eligible=district.get("eligible", district.get("roll_size", 0)),
        turnout_percent=turnout["percent"] if turnout else None,
        turnout_fraction=turnout["fraction"] if turnout else None,
        projects=projects, funded=[by_id[pid] for pid in selected if pid in by_id],
        total_cost=exact(outcome["total_cost"]), leftover=exact(outcome["leftover_budget"]),
        trace_lines=trace_lines(district), tie_lines=_tie_lines(outcome, by_id))


def _name(pid: str, by_id: dict[str, ProjectResult]) -> str:
    return by_id[pid].title if pid in by_id else pid


def _amount(value, money: Money) -> str:
    return money(exact(value))


def _tie_lines(outcome: dict, by_id) -> list[str]:
    lines = []
    for tie in outcome.get("ties", []):
        tied = ", ".join(_name(pid, by_id) for pid in tie["tied"])
        if tie.get("order"):
            how = "ordered " + ", ".join(_name(pid, by_id) for pid in tie["order"])
        else:
            how = f"chose {_name(tie['chosen'], by_id)}"
        lines.append(f"{tied} were tied; the tie-break {how} (decided by {tie['decided_by']}).")
    return lines


def why(project: ProjectResult, outcome: dict, by_id, label: str, money: Money) -> list[str]:
    """Sentences that answer "why was this funded / not funded?" from the trace."""
    pid = project.id
    sentences: list[str] = []
    trace = outcome["trace"]
    steps = [s for s in trace if s.get("project") == pid]
    kinds = {s["type"] for s in steps}
    score = f"{project.score_text} {label}"
    comparison = next((s for s in trace if s["type"] == "comparison"), None)

    if "withdrawn" in kinds:
        sentences.append("It was withdrawn, so it could not be funded.")
    elif "no_support" in kinds or (not project.funded and not project.score):
        kinds.add("no_support")  # rules other than greedy do not trace unsupported projects
        sentences.append(f"Nobody voted for it (0 {label}), so it could not be funded.")
    for step in steps:
        kind = step["type"]
        if kind == "greedy":
            sentences.append(_greedy_sentence(step, score, money))
        elif kind == "mes_round":
            sentences.append(_mes_sentence(step, money))
        elif kind == "completion":
            sentences.append("After the equal-shares rounds some money was left; it was added "
                             f"with that money because it had the most {label} of the projects "
                             "that still fitted.")
        elif kind == "phragmen_round":
            sentences.append(
                f"It was funded in round {step['round']}: sharing its cost "
                f"({_amount(step['cost'], money)}) among its {step['supporters']:,} supporters "
                f"kept their largest load lower than any other project would "
                f"({fmt_approx(exact(step['load']), 4)}).")
        elif kind == "phragmen_stop":
            sentences.append(
                f"It was next in line, but its cost ({_amount(step['cost'], money)}) did not fit "
                f"in the {_amount(step['remaining'], money)} left, so the count stopped there.")
    mes = any(s["type"] == "mes_start" for s in trace)
    if mes and not kinds & {"mes_round", "completion", "withdrawn", "no_support"}:
        if not project.funded or (comparison and comparison["use_greedy"]):
            sentences.append(
                f"With {score} from {project.supporters:,} supporters, its supporters' equal "
                f"shares of the budget were not enough to pay its cost of "
                f"{_amount(project.cost, money)} together, once the projects funded before it "
                "were paid for.")
    phragmen = any(s["type"] in ("phragmen_round", "phragmen_stop") for s in trace)
    if (phragmen and not project.funded
            and not kinds & {"phragmen_stop", "withdrawn", "no_support"}):
        sentences.append("The count stopped before it was reached: other projects spread the "
                         "cost more evenly among their supporters.")
    if comparison is not None and comparison["use_greedy"]:
        sentences.append(
            f"In the final comparison {comparison['prefer_greedy']:,} voters preferred the "
            f"most-{label} outcome and {comparison['prefer_mes']:,} the equal-shares outcome, so "
            f"the most-{label} outcome was used, which "
            + ("funds it." if project.funded else "does not fund it."))
    for tie in outcome.get("ties", []):
        if pid in tie["tied"]:
            others = ", ".join(_name(o, by_id) for o in tie["tied"] if o != pid)
            sentences.append(f"It was tied with {others}; the tie was decided by "
                             f"{tie['decided_by']}.")
    if not sentences:
        sentences.append("It is funded." if project.funded else "It was not funded.")
    return sentences


def _greedy_sentence(step: dict, score: str, money: Money) -> str:
    rank = ordinal(step["rank"])
    cost, remaining = exact(step["cost"]), exact(step["remaining"])
    decision = step["decision"]
    head = f"It came {rank} with {score}."
    if decision == "funded":
        return (f"{head} Its cost of {money(cost)} fitted in the {money(remaining)} still "
                f"available, so it was funded, leaving {money(remaining - cost)}.")
    if decision == "skipped":
        return (f"{head} Its cost of {money(cost)} did not fit in the {money(remaining)} left "
                "after the projects above it, so it was passed over.")
    if decision == "stopped":
        return (f"{head} Its cost of {money(cost)} did not fit in the {money(remaining)} left, "
                "and under this rule the count stops at the first project that does not fit.")
    if decision == "below threshold":
        return (f"{head} That is below the minimum of {fmt_exact(exact(step['threshold']))} "
                "needed to be funded.")
    return f"{head} The count had already stopped before it was reached."


def _mes_sentence(step: dict, money: Money) -> str:
    full, partial = step.get("full_payers", 0), step.get("partial_payers", 0)
    if "price_per_point" in step:
        price = f"{fmt_approx(exact(step['price_per_point']), 4)} per point they gave it"
    else:
        price = money(exact(step["payment"]))
    payers = []
    if full:
        payers.append(f"{full:,} supporters paid {price} each")
    if partial:
        payers.append(f"{partial:,} supporters paid all they had left")
    return (f"It was funded in round {step['round']} of equal shares: its cost of "
            f"{money(exact(step['cost']))} was shared out; {' and '.join(payers)}. It was the "
            "cheapest project per supporter at that point.")
