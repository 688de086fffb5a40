"""Rule names, their parameters (all explicit, with defaults) and plain-language descriptions.

Names follow what Pabulib's META ``rule`` field records.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pbvote.i18n_hook import N_, translate

from .exact import gc_paused, to_number
from .instance import Instance, Profile, TallyInputError
from .outcome import Outcome
from .ties import DEFAULT_ORDER, DEFAULT_SEED, ORDERS

TIE_PARAMS = {
    "ties": ("lot", N_("How ties are broken: 'lot' (by tie_break, ending with a lot drawn from "
                    "tie_seed) or 'error' (stop with an error instead of drawing lots).")),
    "tie_break": (DEFAULT_ORDER, N_("Order among tied projects: 'lowest-cost' (then most votes, then the lot), "
                                 "'highest-cost' (then most votes, then the lot), 'most-votes' (then lowest "
                                 "cost, then the lot) or 'lot' (the lot alone).")),
    "tie_seed": (DEFAULT_SEED, N_("Seed for the lot, published before the count.")),
}
ORDINAL_PARAMS = {
    "scoring_fn": ("borda", N_("Points for ranked ballots: 'borda' (over the ballot length: a top-3 ballot "
                            "gives 3-2-1), 'dowdall' (1, 1/2, 1/3, ...) or a list such as '5,3,1'.")),
}


@dataclass
class RuleSpec:
    name: str
    description: str
    run: Callable[[Instance, Profile, dict], Outcome]
    params: dict[str, tuple[Any, str]]        # name -> (default, description)
    ballot_types: tuple[str, ...]
    fixed: dict[str, Any] = field(default_factory=dict)   # params implied by the name
    required: tuple[str, ...] = ()


RULES: dict[str, RuleSpec] = {}


def _register(spec: RuleSpec) -> None:
    RULES[spec.name] = spec


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise TallyInputError(f"expected true/false, got {value!r}")


def _opt_number(value):
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    return to_number(value)


def _groups(value) -> tuple[tuple[str, ...], ...] | None:
    """Exclusive groups: ``"a,b,c|d,e"`` (groups separated by '|' or ';', ids by ','), or a list
    of lists. None / '' / 'none': no groups."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, str):
        raw = [g.split(",") for g in value.replace(";", "|").split("|")]
    else:
        raw = [list(g) for g in value]
    groups = []
    for group in raw:
        ids = tuple(dict.fromkeys(str(x).strip() for x in group if str(x).strip()))
        if len(ids) < 2:
            raise ValueError(f"an exclusive group needs at least two projects, got {list(ids)}")
        groups.append(ids)
    return tuple(groups) or None


COERCE = {
    "skip": _bool, "density": _bool, "exhaustive": _bool, "integral": _bool,
    "utilitarian_completion": _bool, "add1_if_all_fit": _bool, "first_at_budget": _bool,
    "increment_unit": str, "exhaustive_over": str, "min_score": _opt_number, "increment": to_number,
    "ties": str, "tie_seed": str, "scoring_fn": str, "utilities": str, "completion": str,
    "comparison": str, "on_unaffordable": str, "tie_break": str, "exclusive": _groups,
}

#: the Pabulib META key that sets a parameter, named in errors
META_KEYS = {"min_score": "min_project_score_threshold", "exclusive": "exclusive_groups",
             "scoring_fn": "scoring_fn", "tie_break": "tie_break"}

#: Parameters added after outcomes were first published: left out of ``Outcome.params`` when
#: they have their default, so that re-counting an earlier published outcome gives the same
#: JSON (the default is the behaviour those outcomes had).
QUIET_DEFAULTS = {"tie_break": DEFAULT_ORDER, "exclusive": None,
                  # add1 variants (rules/equal_shares.py ADD1_VARIANT_DEFAULTS)
                  "increment_unit": "voter", "exhaustive_over": "all", "add1_if_all_fit": False,
                  "first_at_budget": False}

CHOICES = {
    "ties": ("lot", "error"),
    "tie_break": tuple(ORDERS),
    "utilities": ("cost", "cardinality"),
    "completion": ("none", "add1"),
    "increment_unit": ("voter", "total", "percent"),
    "exhaustive_over": ("all", "supported"),
    "comparison": ("none", "satisfaction", "exclusion_ratio"),
    "on_unaffordable": ("stop", "skip"),
}


def resolve_params(spec: RuleSpec, given: dict | None) -> dict:
    """Defaults + given params, checked and converted; names implied by the rule win."""
    given = dict(given or {})
    unknown = set(given) - set(spec.params)
    if unknown:
        raise TallyInputError(f"rule {spec.name!r} has no parameter(s) {', '.join(sorted(unknown))}; "
                              f"it takes {', '.join(sorted(spec.params))}")
    params = {}
    for name, (default, _) in spec.params.items():
        value = given.get(name, default)
        if name in spec.fixed:
            if name in given and COERCE.get(name, lambda v: v)(given[name]) != spec.fixed[name]:
                raise TallyInputError(f"rule {spec.name!r} always uses {name}={spec.fixed[name]!r}")
            value = spec.fixed[name]
        if value is not None and name in COERCE:
            try:
                value = COERCE[name](value)
            except (TypeError, ValueError) as exc:
                raise TallyInputError(f"parameter {name}: {exc}") from None
        if name in CHOICES and value not in CHOICES[name]:
            raise TallyInputError(f"parameter {name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
        params[name] = value
    if params.get("increment") is not None and params["increment"] <= 0:
        raise TallyInputError("parameter increment must be positive")
    for name in spec.required:
        if params.get(name) is None:
            hint = f" (in a Pabulib file: META {META_KEYS[name]})" if name in META_KEYS else ""
            raise TallyInputError(f"rule {spec.name!r} needs parameter {name}{hint}")
    return params


def run_rule(instance: Instance, profile: Profile, rule_name: str, params: dict | None = None) -> Outcome:
    """The single entry point: count ``profile`` under ``rule_name`` with ``params``."""
    if rule_name not in RULES:
        raise TallyInputError(f"unknown rule {rule_name!r}; known rules: {', '.join(RULES)}")
    spec = RULES[rule_name]
    if profile.instance is not instance and profile.instance.by_id.keys() != instance.by_id.keys():
        raise TallyInputError("the profile was built for a different instance")
    if profile.ballot_type not in spec.ballot_types:
        raise TallyInputError(f"rule {rule_name!r} does not take {profile.ballot_type} ballots "
                              f"(it takes {', '.join(spec.ballot_types)})")
    params = resolve_params(spec, params)
    for group in params.get("exclusive") or ():
        unknown = [pid for pid in group if pid not in instance.by_id]
        if unknown:
            raise TallyInputError(f"parameter exclusive names unknown project(s) {', '.join(unknown)}")
    with gc_paused():
        outcome = spec.run(instance, profile, params)
    for name, default in QUIET_DEFAULTS.items():
        if name in outcome.params and outcome.params[name] == default:
            del outcome.params[name]
    return outcome


def describe_rules() -> list[dict]:
    """For the staff console: each rule, its description and its parameters."""
    out = []
    for spec in RULES.values():
        out.append({
            "name": spec.name,
            "description": translate(spec.description),
            "ballot_types": list(spec.ballot_types),
            "params": [{"name": n, "default": spec.fixed.get(n, d), "description": translate(text),
                        "fixed": n in spec.fixed, "choices": list(CHOICES.get(n, ()))}
                       for n, (d, text) in spec.params.items()],
        })
    return out


# ----- the rules ------------------------------------------------------------------------------
def _greedy_runner(name):
    def run(instance, profile, params):
        from .rules.greedy import greedy
        return greedy(instance, profile, params, rule_name=name)
    return run


ALL_BALLOTS = ("approval", "ordinal", "cumulative", "scoring")
GREEDY_PARAMS = {
    "skip": (True, N_("Pass over a project that does not fit and go on (true), or stop at the first "
                   "project that does not fit (false).")),
    "min_score": (None, N_("Only projects whose score is at least this can be funded (none: no threshold).")),
    "density": (False, N_("Order projects by score per unit of cost instead of by score.")),
    "exclusive": (None, N_("Groups of projects that exclude each other (at most one of each group is "
                        "funded, the first reached): ids separated by ',', groups by '|'.")),
    **ORDINAL_PARAMS,
    **TIE_PARAMS,
}

_register(RuleSpec(
    "greedy",
    N_("Projects are ranked by their number of votes (or points) and funded from the top while the "
    "money lasts; a project that no longer fits is passed over and the count goes on with the next."),
    _greedy_runner("greedy"), GREEDY_PARAMS, ALL_BALLOTS))
_register(RuleSpec(
    "greedy-no-skip",
    N_("Projects are ranked by their number of votes (or points) and funded from the top; the count "
    "stops at the first project that does not fit in the remaining budget."),
    _greedy_runner("greedy-no-skip"), GREEDY_PARAMS, ALL_BALLOTS, fixed={"skip": False}))
_register(RuleSpec(
    "greedy-threshold",
    N_("Like greedy, but only projects with at least a minimum number of votes (or points) can be funded."),
    _greedy_runner("greedy-threshold"), GREEDY_PARAMS, ALL_BALLOTS, required=("min_score",)))
_register(RuleSpec(
    "greedy-exclusive",
    N_("Like greedy, but some projects exclude each other (for example two plans for the same "
    "place): once one project of such a group is funded, the others are passed over."),
    _greedy_runner("greedy-exclusive"), GREEDY_PARAMS, ALL_BALLOTS))
_register(RuleSpec(
    "greedy-density",
    N_("Projects are ranked by votes (or points) per unit of cost, so cheaper well-supported projects "
    "come first, and funded while they fit."),
    _greedy_runner("greedy-density"), GREEDY_PARAMS, ALL_BALLOTS, fixed={"density": True}))


def _mes_runner(name):
    def run(instance, profile, params):
        from .rules.equal_shares import equal_shares
        return equal_shares(instance, profile, params, rule_name=name)
    return run


MES_PARAMS = {
    "utilities": ("cost", N_("Approval ballots only: 'cost' (a voter's utility for a project is its cost; "
                          "equalshares.net's default) or 'cardinality' (1 per approved project). Points "
                          "ballots always use the points.")),
    "completion": ("none", N_("'none', or 'add1': raise every voter's budget step by step while the "
                           "outcome stays within the real budget.")),
    "exhaustive": (True, N_("add1: stop as soon as no further project fits in the budget.")),
    "integral": (True, N_("add1: start from a per-voter budget rounded down to a whole currency unit.")),
    "increment": (1, N_("add1: how much each voter's budget rises per step (currency units).")),
    "increment_unit": ("voter", N_("add1: what the increment is counted in: 'voter' (currency units "
                                "per voter), 'total' (currency units added to the whole budget) or "
                                "'percent' (percent of the budget added to the whole budget).")),
    "exhaustive_over": ("all", N_("add1: which projects the exhaustive stop looks at: 'all' (any "
                               "project that still fits, as equalshares.net) or 'supported' (only "
                               "projects someone voted for, as pabutools).")),
    "add1_if_all_fit": (False, N_("add1: raise the budgets even when every project together fits "
                               "in the budget (as pabutools).")),
    "first_at_budget": (False, N_("add1: the first outcome is the count at the real budget; the raise "
                               "then continues from the rounded-down start (as Pabulib's checker).")),
    "utilitarian_completion": (False, N_("Afterwards, spend what is left on the most-voted projects that "
                                      "still fit.")),
    "comparison": ("none", N_("Comparison step: 'none', 'satisfaction' (each voter compares how many of "
                           "their projects each outcome funds) or 'exclusion_ratio' (whether any of "
                           "them is funded); if more voters prefer the greedy outcome, it is used.")),
    **ORDINAL_PARAMS,
    **TIE_PARAMS,
}

_register(RuleSpec(
    "equalshares",
    N_("Method of Equal Shares: the budget is split equally among all voters; a project is funded "
    "when its supporters can pay for it together, each paying an equal share (or all they have "
    "left), cheapest per supporter first. This gives groups of voters a share of the budget in "
    "proportion to their size."),
    _mes_runner("equalshares"), MES_PARAMS, ALL_BALLOTS))
_register(RuleSpec(
    "equalshares-comparison",
    N_("Method of Equal Shares without completion, then a comparison with the greedy outcome: if "
    "more voters are better off (more of their projects funded) under greedy, greedy is used."),
    _mes_runner("equalshares-comparison"),
    {**MES_PARAMS, "comparison": ("satisfaction", MES_PARAMS["comparison"][1])}, ALL_BALLOTS))
_register(RuleSpec(
    "equalshares/add1",
    N_("Method of Equal Shares with the add1 completion (as on equalshares.net and in Pabulib): if "
    "money is left over, every voter's share is raised by one currency unit at a time and the count "
    "is repeated, keeping the last outcome that fits in the real budget and stopping once no "
    "further project fits."),
    _mes_runner("equalshares/add1"), MES_PARAMS, ALL_BALLOTS, fixed={"completion": "add1"}))
_register(RuleSpec(
    "equalshares/add1-comparison",
    N_("Method of Equal Shares with the add1 completion, then a comparison with the greedy outcome: "
    "if more voters are better off (more of their projects funded) under greedy, greedy is used."),
    _mes_runner("equalshares/add1-comparison"),
    {**MES_PARAMS, "comparison": ("satisfaction", MES_PARAMS["comparison"][1])}, ALL_BALLOTS,
    fixed={"completion": "add1"}))


def _phragmen(instance, profile, params):
    from .rules.phragmen import sequential_phragmen
    return sequential_phragmen(instance, profile, params, rule_name="phragmen")


_register(RuleSpec(
    "phragmen",
    N_("Sequential Phragmén: each funded project's cost is a load shared by its supporters; each round "
    "funds the project that keeps its supporters' largest load lowest, so that the burden is spread "
    "evenly. The count stops when the next project does not fit."),
    _phragmen,
    {"on_unaffordable": ("stop", N_("'stop' ends the count at the first chosen project that does not fit "
                                 "(as in pabutools); 'skip' only considers projects that still fit.")),
     **TIE_PARAMS},
    ("approval",)))
