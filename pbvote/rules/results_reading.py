"""Plain-language reading of a results document (see pbvote.services.publication).

Pure: works on the stored JSON only, so the public page never recounts. Money is formatted
by a function the caller passes in (the web layer formats it per locale).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from pbvote.i18n_hook import N_, _, format_fixed, format_number, n_, ordinal_text, translate
from pbvote.tally import Instance, Outcome, explain, parse_exact
from pbvote.tally.exact import fmt_approx, fmt_exact
from pbvote.tally.explain import tie_reason
from pbvote.tally.registry import RULES

Money = Callable[[int | Fraction], str]

#: trace fields that hold exact numbers (ints, or strings such as "1/3" once stored)
NUMERIC_FIELDS = frozenset({
    "score", "cost", "remaining", "density", "threshold", "per_voter", "budget_used", "payment",
    "price_per_point", "effective_votes", "total_left", "max_left", "min_left", "total_cost",
    "total_cost_at_least", "last_per_voter", "load"})
ORDINALS = {1: "st", 2: "nd", 3: "rd"}
#: score labels stored in results documents, marked for translation
SCORE_LABELS = (N_("votes"), N_("points"))


def exact(value) -> int | Fraction:
    """A stored exact number back to int/Fraction."""
    if isinstance(value, int):
        return value
    return parse_exact(str(value))


def ordinal(n: int) -> str:
    """1st, 2nd … in English; the app's hook gives 1.º / 第1 in other languages."""
    suffix = "th" if 10 <= n % 100 <= 20 else ORDINALS.get(n % 10, "th")
    return ordinal_text(n, f"{n}{suffix}")


def scored(text: str, label: str, value: int | Fraction | None = None) -> str:
    """"9 points" / "1 vote" (the label as the results document stores it); `value` picks
    the plural form (a fraction of a point reads as plural)."""
    count = value if isinstance(value, int) else (2 if value is not None else 0)
    if label == "points":
        return n_("%(score)s point", "%(score)s points", count, score=text)
    if label == "votes":
        return n_("%(score)s vote", "%(score)s votes", count, score=text)
    return f"{text} {label}"


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
        if isinstance(self.score, Fraction):
            return format_fixed(fmt_exact(self.score))
        return format_number(self.score)


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
    #: (name, value, meaning) of the rule's parameters, for the auditors' section
    parameters: list[tuple[str, str, str]] = field(default_factory=list)


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


def trace_lines(district: dict, parameters: bool = False) -> list[str]:
    """The round-by-round count, as the tally engine's own explanation renders it; the rule's
    raw parameters only with `parameters` (the auditors' trace page)."""
    outcome = _outcome_from_dict(district["outcome"])
    instance = Instance.from_plain(budget=district["budget"], projects=[
        {"id": p["id"], "cost": p["cost"], "name": p["title"]} for p in district["projects"]])
    text = explain(outcome, instance, parameters=parameters)
    return [line for line in text.splitlines() if line.strip()]


def parameter_rows(rule: str, params: dict) -> list[tuple[str, str, str]]:
    """(name, value as counted, what it means) for the auditors' section of the results."""
    spec = RULES.get(rule)
    described = spec.params if spec else {}
    return [(name, _param_text(value),
             translate(described[name][1]) if name in described else "")
            for name, value in sorted(params.items())]


def _param_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


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
        rule_description=translate(spec.description) if spec else district["rule"],
        params=district["params"], score_label=label, ballots=district["ballots"],
        participations=district["participations"]["total"],
        participations_by_channel=district["participations"]["by_channel"],
        eligible=district.get("eligible", district.get("roll_size", 0)),
        turnout_percent=turnout["percent"] if turnout else None,
        turnout_fraction=turnout["fraction"] if turnout else None,
        projects=projects, funded=[by_id[pid] for pid in selected if pid in by_id],
        total_cost=exact(outcome["total_cost"]), leftover=exact(outcome["leftover_budget"]),
        trace_lines=trace_lines(district), tie_lines=_tie_lines(outcome, by_id),
        parameters=parameter_rows(district["rule"], district["params"]))


def _name(pid: str, by_id: dict[str, ProjectResult]) -> str:
    return by_id[pid].title if pid in by_id else pid


def _amount(value, money: Money) -> str:
    return money(exact(value))


def _tie_lines(outcome: dict, by_id) -> list[str]:
    lines = []
    for tie in outcome.get("ties", []):
        tied = ", ".join(_name(pid, by_id) for pid in tie["tied"])
        if tie.get("order"):
            lines.append(_("%(tied)s were tied; the tie-break ordered %(order)s (decided by "
                           "%(how)s).", tied=tied, how=tie_reason(tie["decided_by"]),
                           order=", ".join(_name(pid, by_id) for pid in tie["order"])))
        else:
            lines.append(_("%(tied)s were tied; the tie-break chose %(chosen)s (decided by "
                           "%(how)s).", tied=tied, how=tie_reason(tie["decided_by"]),
                           chosen=_name(tie["chosen"], by_id)))
    return lines


def why(project: ProjectResult, outcome: dict, by_id, label: str, money: Money) -> list[str]:
    """Sentences that answer "why was this funded / not funded?" from the trace."""
    pid = project.id
    sentences: list[str] = []
    trace = outcome["trace"]
    steps = [s for s in trace if s.get("project") == pid]
    kinds = {s["type"] for s in steps}
    score = scored(project.score_text, label, project.score)
    label_text = translate(label)
    comparison = next((s for s in trace if s["type"] == "comparison"), None)

    if "withdrawn" in kinds:
        sentences.append(_("It was withdrawn, so it could not be funded."))
    elif "no_support" in kinds or (not project.funded and not project.score):
        kinds.add("no_support")  # rules other than greedy do not trace unsupported projects
        sentences.append(_("Nobody voted for it (%(zero)s), so it could not be funded.",
                           zero=scored("0", label)))
    for step in steps:
        kind = step["type"]
        if kind == "greedy":
            sentences.append(_greedy_sentence(step, score, money))
        elif kind == "mes_round":
            sentences.append(_mes_sentence(step, money))
        elif kind == "completion":
            sentences.append(_("After the equal-shares rounds some money was left; it was "
                               "added with that money because it had the most %(label)s of the "
                               "projects that still fitted.", label=label_text))
        elif kind == "phragmen_round":
            sentences.append(n_(
                "It was funded in round %(round)s: its cost (%(cost)s) fell on its "
                "%(num)s supporter, whose load stayed lower than any other project would "
                "make it (%(load)s).",
                "It was funded in round %(round)s: sharing its cost (%(cost)s) among its "
                "%(num)s supporters kept their largest load lower than any other "
                "project would (%(load)s).", step["supporters"], round=step["round"],
                cost=_amount(step["cost"], money),
                load=format_fixed(fmt_approx(exact(step["load"]), 4))))
        elif kind == "phragmen_stop":
            sentences.append(_(
                "It was next in line, but its cost (%(cost)s) did not fit in the %(left)s left, "
                "so the count stopped there.", cost=_amount(step["cost"], money),
                left=_amount(step["remaining"], money)))
    mes = any(s["type"] == "mes_start" for s in trace)
    if mes and not kinds & {"mes_round", "completion", "withdrawn", "no_support"}:
        if not project.funded or (comparison and comparison["use_greedy"]):
            sentences.append(n_(
                "With %(score)s from %(num)s supporter, its supporter's equal share of the "
                "budget was not enough to pay its cost of %(cost)s, once the projects funded "
                "before it were paid for.",
                "With %(score)s from %(num)s supporters, its supporters' equal shares "
                "of the budget were not enough to pay its cost of %(cost)s together, once the "
                "projects funded before it were paid for.", project.supporters, score=score,
                cost=_amount(project.cost, money)))
    phragmen = any(s["type"] in ("phragmen_round", "phragmen_stop") for s in trace)
    if (phragmen and not project.funded
            and not kinds & {"phragmen_stop", "withdrawn", "no_support"}):
        sentences.append(_("The count stopped before it was reached: other projects spread "
                           "the cost more evenly among their supporters."))
    if comparison is not None and comparison["use_greedy"]:
        numbers = {"greedy": format_number(comparison["prefer_greedy"]),
                   "mes": format_number(comparison["prefer_mes"]), "label": label_text}
        if project.funded:
            sentences.append(_(
                "In the final comparison %(greedy)s voters preferred the most-%(label)s outcome "
                "and %(mes)s the equal-shares outcome, so the most-%(label)s outcome was used, "
                "which funds it.", **numbers))
        else:
            sentences.append(_(
                "In the final comparison %(greedy)s voters preferred the most-%(label)s outcome "
                "and %(mes)s the equal-shares outcome, so the most-%(label)s outcome was used, "
                "which does not fund it.", **numbers))
    for tie in outcome.get("ties", []):
        if pid in tie["tied"]:
            others = ", ".join(_name(o, by_id) for o in tie["tied"] if o != pid)
            sentences.append(_("It was tied with %(others)s; the tie was decided by %(how)s.",
                               others=others, how=tie_reason(tie["decided_by"])))
    if not sentences:
        sentences.append(_("It is funded.") if project.funded else _("It was not funded."))
    return sentences


def _greedy_sentence(step: dict, score: str, money: Money) -> str:
    rank = ordinal(step["rank"])
    cost, remaining = exact(step["cost"]), exact(step["remaining"])
    decision = step["decision"]
    head = _("It came %(ordinal)s with %(score)s.", ordinal=rank, score=score)
    if decision == "funded":
        return head + " " + _("Its cost of %(cost)s fitted in the %(left)s still available, so "
                              "it was funded, leaving %(after)s.", cost=money(cost),
                              left=money(remaining), after=money(remaining - cost))
    if decision == "skipped":
        return head + " " + _("Its cost of %(cost)s did not fit in the %(left)s left after the "
                              "projects above it, so it was passed over.", cost=money(cost),
                              left=money(remaining))
    if decision == "stopped":
        return head + " " + _("Its cost of %(cost)s did not fit in the %(left)s left, and under "
                              "this rule the count stops at the first project that does not "
                              "fit.", cost=money(cost), left=money(remaining))
    if decision == "below threshold":
        return head + " " + _("That is below the minimum of %(minimum)s needed to be funded.",
                              minimum=format_fixed(fmt_exact(exact(step["threshold"]))))
    return head + " " + _("The count had already stopped before it was reached.")


def _mes_sentence(step: dict, money: Money) -> str:
    full, partial = step.get("full_payers", 0), step.get("partial_payers", 0)
    if "price_per_point" in step:
        price = _("%(price)s per point they gave it",
                  price=format_fixed(fmt_approx(exact(step["price_per_point"]), 4)))
    else:
        price = money(exact(step["payment"]))
    payers = []
    if full:
        payers.append(n_("%(num)s supporter paid %(price)s", "%(num)s supporters paid %(price)s "
                         "each", full, price=price))
    if partial:
        payers.append(n_("%(num)s supporter paid all they had left",
                         "%(num)s supporters paid all they had left", partial))
    return _("It was funded in round %(round)s of equal shares: its cost of %(cost)s was shared "
             "out; %(payers)s. It was the cheapest project per supporter at that point.",
             round=step["round"], cost=money(exact(step["cost"])),
             payers=f" {_('and')} ".join(payers))
