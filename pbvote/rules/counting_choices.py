"""Counting rules as a clerk chooses them: plain names, a recommended rule per ballot type, and
each rule's settings as labelled fields with help text. Pure (standard library and the tally
engine's metadata only); the engine's own names and parameters are unchanged and are what
is stored.

Settings travel from a form as text: `params_from_form` turns the fields of the chosen rule
into the engine's parameter dict, keeping only values that differ from the rule's defaults,
and names each field it cannot read.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pbvote.i18n_hook import N_, _, translate
from pbvote.rules.ballots import Reason
from pbvote.tally.registry import CHOICES, RULES

#: plain-language names of the engine's rules, in the order the form offers them
RULE_TITLES: dict[str, str] = {
    "greedy": N_("Most votes first"),
    "equalshares/add1": N_("Equal Shares (proportional), spending the whole budget"),
    "equalshares": N_("Equal Shares (proportional)"),
    "equalshares/add1-comparison": N_("Equal Shares, checked against most votes first"),
    "phragmen": N_("Phragmén: share the load evenly"),
    "greedy-density": N_("Best value: votes per unit of cost first"),
    "greedy-threshold": N_("Most votes first, with a minimum number of votes"),
    "greedy-no-skip": N_("Most votes first, stopping at the first project that does not fit"),
    "greedy-exclusive": N_("Most votes first, at most one project of each exclusive group"),
    "equalshares-comparison": N_("Equal Shares without completion, checked against most votes "
                                 "first"),
}

#: the rule recommended (and preselected) for each ballot type
RECOMMENDED_RULE: dict[str, str] = {
    "approval": "greedy", "knapsack": "equalshares/add1", "ranked": "greedy",
    "cumulative": "greedy",
}

#: labels of the settings, shown instead of the engine's parameter names
PARAM_LABELS: dict[str, str] = {
    "skip": N_("Pass over a project that does not fit and go on"),
    "min_score": N_("Fewest votes (or points) a project needs to be funded"),
    "density": N_("Order projects by votes per unit of cost"),
    "scoring_fn": N_("Points for each place on a ranked ballot"),
    "ties": N_("How ties are broken"),
    "utilities": N_("What a project is worth to a voter who chose it"),
    "completion": N_("Spend money left over"),
    "exhaustive": N_("Stop as soon as no further project fits"),
    "integral": N_("Start from a whole currency unit per voter"),
    "increment": N_("Raise each voter's share by (currency units)"),
    "utilitarian_completion": N_("Then spend what is left on the most-voted projects that fit"),
    "comparison": N_("Compare with the most-votes-first outcome"),
    "on_unaffordable": N_("When the chosen project does not fit"),
    "exclusive": N_("Projects that exclude each other (codes separated by commas, groups by |)"),
    "tie_break": N_("Which tied project comes first"),
    "increment_unit": N_("Unit of each raise of the voters' shares"),
    "exhaustive_over": N_("Spend money left over until no project fits, counting"),
    "add1_if_all_fit": N_("Raise the shares even when every project fits"),
    "first_at_budget": N_("Count first at the real budget"),
}

#: labels of the choices a setting offers
CHOICE_LABELS: dict[tuple[str, str], str] = {
    ("ties", "lot"): N_("Lowest cost, then most votes, then a lot drawn from the cycle's seed"),
    ("ties", "error"): N_("Stop the count and ask staff"),
    ("utilities", "cost"): N_("Its cost (as equalshares.net)"),
    ("utilities", "cardinality"): N_("One per project"),
    ("completion", "none"): N_("No"),
    ("completion", "add1"): N_("Yes: raise every voter's share step by step (add1)"),
    ("comparison", "none"): N_("No comparison"),
    ("comparison", "satisfaction"): N_("By how many of each voter's projects are funded"),
    ("comparison", "exclusion_ratio"): N_("By whether any of each voter's projects is funded"),
    ("on_unaffordable", "stop"): N_("End the count"),
    ("on_unaffordable", "skip"): N_("Consider only projects that still fit"),
    ("tie_break", "lowest-cost"): N_("The cheaper one"),
    ("tie_break", "highest-cost"): N_("The more expensive one"),
    ("tie_break", "most-votes"): N_("The one with more votes"),
    ("tie_break", "lot"): N_("A lot drawn from the cycle's seed"),
    ("increment_unit", "voter"): N_("Currency units per voter"),
    ("increment_unit", "total"): N_("Currency units in total"),
    ("increment_unit", "percent"): N_("Percent of the budget"),
    ("exhaustive_over", "all"): N_("Every project"),
    ("exhaustive_over", "supported"): N_("Only projects someone voted for"),
    ("scoring_fn", "borda"): N_("Borda: on a top-3 ballot 3, 2 and 1 points"),
    ("scoring_fn", "dowdall"): N_("Dowdall: 1, 1/2, 1/3, …"),
}
YES_NO = {"true": N_("Yes"), "false": N_("No")}
BOOLEAN_PARAMS = frozenset({"skip", "density", "exhaustive", "integral",
                            "utilitarian_completion", "add1_if_all_fit", "first_at_budget"})
#: settings that are not the district's to choose (the seed is the cycle's)
HIDDEN_PARAMS = frozenset({"tie_seed"})
ENGINE_BALLOT_TYPE = {"approval": "approval", "knapsack": "approval", "ranked": "ordinal",
                      "cumulative": "cumulative"}


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    help: str
    #: "choice" (a select), "yes_no" or "text"
    kind: str
    default: str
    #: [(value, label)] for "choice" and "yes_no"
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RuleChoice:
    name: str
    title: str
    description: str
    settings: tuple[Setting, ...]
    #: ballot types (approval, knapsack, ranked, cumulative) the rule can count
    ballot_kinds: tuple[str, ...]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _setting(spec, name: str, default, help_text: str) -> Setting:
    label = translate(PARAM_LABELS.get(name, name))
    if name in BOOLEAN_PARAMS:
        return Setting(name, label, translate(help_text), "yes_no", _text(default),
                       tuple((value, translate(text)) for value, text in YES_NO.items()))
    if name in CHOICES or name == "scoring_fn":
        values = CHOICES.get(name, ("borda", "dowdall"))
        return Setting(name, label, translate(help_text), "choice", _text(default),
                       tuple((v, translate(CHOICE_LABELS.get((name, v), v))) for v in values))
    return Setting(name, label, translate(help_text), "text", _text(default))


def rule_choices(ballot_kind: str | None = None) -> list[RuleChoice]:
    """Every rule the form offers (those that can count `ballot_kind` when given)."""
    found = []
    for name in RULE_TITLES:
        spec = RULES.get(name)
        if spec is None:
            continue
        kinds = tuple(k for k, engine in ENGINE_BALLOT_TYPE.items() if engine in spec.ballot_types)
        if ballot_kind is not None and ballot_kind not in kinds:
            continue
        settings = tuple(_setting(spec, param, default, help_text)
                         for param, (default, help_text) in spec.params.items()
                         if param not in spec.fixed and param not in HIDDEN_PARAMS)
        found.append(RuleChoice(name, translate(RULE_TITLES[name]), translate(spec.description),
                                settings, kinds))
    return found


def rule_title(name: str) -> str:
    return translate(RULE_TITLES[name]) if name in RULE_TITLES else name


def field_name(rule: str, param: str) -> str:
    return f"param.{rule}.{param}"


def params_from_form(rule: str, form: Mapping[str, str]) -> tuple[dict, list[Reason]]:
    """The chosen rule's settings from the form's fields, as the engine's parameters (only
    those that differ from the rule's defaults), and a reason for each field that cannot
    be read."""
    spec = RULES.get(rule)
    if spec is None:
        return {}, []
    params: dict = {}
    reasons: list[Reason] = []
    for setting in next((c.settings for c in rule_choices() if c.name == rule), ()):
        key = field_name(rule, setting.name)
        text = (form.get(key) or "").strip()
        if not text or text == setting.default:
            continue
        if setting.kind in ("choice", "yes_no") and setting.name != "scoring_fn" \
                and text not in {value for value, _label in setting.options}:
            reasons.append(Reason(key, "setting_unknown",
                                  _("%(setting)s: choose one of the options.",
                                    setting=setting.label)))
            continue
        if setting.kind == "yes_no":
            params[setting.name] = text == "true"
        elif setting.kind == "text":
            try:
                params[setting.name] = int(text)
            except ValueError:
                reasons.append(Reason(key, "setting_not_whole_number",
                                      _("%(setting)s: enter a whole number, or leave it empty.",
                                        setting=setting.label)))
        else:
            params[setting.name] = text
    return params, reasons


def form_values(rule: str, params: Mapping[str, object]) -> dict[str, str]:
    """The fields of a stored rule's settings, for showing the form again."""
    return {field_name(rule, name): _text(value) for name, value in (params or {}).items()}
