"""Ballot designs: the rules of one district's ballot, the :class:`Reason` every broken
rule is reported as, costs, and the plain-English summary shown on the ballot.

Selections (what a ballot holds) are described in the package docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pbvote.i18n_hook import _, format_currency, format_number, n_

BALLOT_KINDS: tuple[str, ...] = ("approval", "knapsack", "ranked", "cumulative")

# Canonical selections; see the package docstring for the shape per kind.
Selections = tuple


@dataclass(frozen=True)
class Reason:
    """One broken rule.

    ``field`` is ``"ballot"`` for whole-ballot problems, ``"project:<id>"`` for a
    specific project, or the name of a form or design field.
    """

    field: str
    code: str
    message: str


# ---------------------------------------------------------------------------
# Small formatting helpers


def format_money(amount: int, currency: str = "") -> str:
    """``400000 -> "400,000"``; with ``currency="$"`` -> ``"$400,000"``; with an ISO code
    (``"USD"``) the reader's own pattern, through the app's hook (``"400.000 US$"``)."""
    if len(currency) == 3 and currency.isascii() and currency.isupper():
        return format_currency(amount, currency)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency}{format_number(abs(amount))}"


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but True is not a number of points.
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# Ballot design


@dataclass(frozen=True)
class BallotDesign:
    """The rules of one district's ballot.

    ``max_choices`` is k for approval (``None`` = no limit) and ranked
    (required).  ``min_choices`` applies to approval, knapsack and ranked;
    whatever its value, an empty ballot is rejected.  ``min_spend_percent``
    applies to knapsack only.  ``points`` and ``max_points_per_project`` apply
    to cumulative only.
    """

    kind: str
    budget: int
    max_choices: int | None = None
    min_choices: int = 0
    min_spend_percent: int = 0
    points: int | None = None
    max_points_per_project: int | None = None

    def problems(self, project_count: int) -> list[Reason]:
        """Everything inconsistent about this design for a ballot of ``project_count`` projects."""
        found: list[Reason] = []
        if self.kind not in BALLOT_KINDS:
            found.append(
                Reason(
                    "kind",
                    "unknown_kind",
                    _("The ballot kind '%(kind)s' is not one of: %(kinds)s.",
                      kind=self.kind, kinds=", ".join(BALLOT_KINDS)),
                )
            )
        integer_fields: dict[str, object] = {
            "budget": self.budget,
            "min_choices": self.min_choices,
            "min_spend_percent": self.min_spend_percent,
        }
        for name in ("max_choices", "points", "max_points_per_project"):
            if getattr(self, name) is not None:
                integer_fields[name] = getattr(self, name)
        not_integers = {name for name, value in integer_fields.items() if not _is_int(value)}
        for name in sorted(not_integers):
            found.append(Reason(name, "not_integer", _("The setting %(name)s must be a whole "
                                                       "number.", name=name)))
        if not _is_int(project_count) or project_count < 1:
            found.append(Reason("ballot", "no_projects", _("A ballot needs at least one project.")))
            project_count = 0
        if not_integers:
            # Comparisons below would be meaningless (or raise) on non-integers.
            return found

        if self.budget <= 0:
            found.append(
                Reason("budget", "budget_not_positive", _("The budget must be more than zero."))
            )
        if self.min_choices < 0:
            found.append(
                Reason(
                    "min_choices",
                    "min_choices_negative",
                    _("The minimum number of choices cannot be negative."),
                )
            )

        uses_max_choices = self.kind in ("approval", "ranked")
        uses_min_choices = self.kind in ("approval", "ranked", "knapsack")
        if self.max_choices is not None and self.kind in BALLOT_KINDS and not uses_max_choices:
            found.append(_not_applicable("max_choices", self.kind))
        if self.min_choices and self.kind in BALLOT_KINDS and not uses_min_choices:
            found.append(_not_applicable("min_choices", self.kind))
        if self.min_spend_percent and self.kind in BALLOT_KINDS and self.kind != "knapsack":
            found.append(_not_applicable("min_spend_percent", self.kind))
        if self.points is not None and self.kind in BALLOT_KINDS and self.kind != "cumulative":
            found.append(_not_applicable("points", self.kind))
        if (
            self.max_points_per_project is not None
            and self.kind in BALLOT_KINDS
            and self.kind != "cumulative"
        ):
            found.append(_not_applicable("max_points_per_project", self.kind))

        if self.kind == "ranked" and self.max_choices is None:
            found.append(
                Reason(
                    "max_choices",
                    "max_choices_required",
                    _("A ranked ballot needs the number of projects a resident may rank."),
                )
            )
        if uses_max_choices and self.max_choices is not None:
            if self.max_choices < 1:
                found.append(
                    Reason(
                        "max_choices",
                        "max_choices_not_positive",
                        _("The maximum number of choices must be at least 1."),
                    )
                )
            elif project_count and self.max_choices > project_count:
                found.append(
                    Reason(
                        "max_choices",
                        "max_choices_exceeds_projects",
                        _("The maximum number of choices (%(max_choices)s) is more than the "
                          "number of projects on the ballot (%(project_count)s).",
                          max_choices=self.max_choices, project_count=project_count),
                    )
                )
            if self.min_choices > self.max_choices >= 1:
                found.append(
                    Reason(
                        "min_choices",
                        "min_exceeds_max",
                        _("The minimum number of choices (%(min_choices)s) is more than the "
                          "maximum (%(max_choices)s).",
                          min_choices=self.min_choices, max_choices=self.max_choices),
                    )
                )
        if uses_min_choices and project_count and self.min_choices > project_count:
            found.append(
                Reason(
                    "min_choices",
                    "min_choices_exceeds_projects",
                    _("The minimum number of choices (%(min_choices)s) is more than the number "
                      "of projects on the ballot (%(project_count)s).",
                      min_choices=self.min_choices, project_count=project_count),
                )
            )

        if not 0 <= self.min_spend_percent <= 100:
            found.append(
                Reason(
                    "min_spend_percent",
                    "min_spend_out_of_range",
                    _("The minimum share of the budget to spend must be between 0 and 100 "
                      "percent."),
                )
            )

        if self.kind == "cumulative":
            if self.points is None:
                found.append(
                    Reason(
                        "points",
                        "points_required",
                        _("A cumulative ballot needs the number of points to spread."),
                    )
                )
            elif self.points < 1:
                found.append(
                    Reason(
                        "points", "points_not_positive", _("The number of points must be at "
                                                           "least 1.")
                    )
                )
            if self.max_points_per_project is not None:
                if self.max_points_per_project < 1:
                    found.append(
                        Reason(
                            "max_points_per_project",
                            "max_points_not_positive",
                            _("The maximum points per project must be at least 1."),
                        )
                    )
                elif self.points is not None and self.max_points_per_project > self.points >= 1:
                    found.append(
                        Reason(
                            "max_points_per_project",
                            "max_points_exceeds_points",
                            _("The maximum points per project (%(cap)s) is more than the points "
                              "a resident has (%(points)s).",
                              cap=self.max_points_per_project, points=self.points),
                        )
                    )
        return found


def _not_applicable(field: str, kind: str) -> Reason:
    return Reason(
        field, "not_applicable", _("The setting %(field)s does not apply to a %(kind)s ballot.",
                                   field=field, kind=kind)
    )


# Design problems that do not make any ballot ambiguous or impossible; voting
# goes on while an administrator fixes them.
_HARMLESS_DESIGN_CODES = frozenset(
    {"max_choices_exceeds_projects", "not_applicable", "max_points_exceeds_points"}
)


def minimum_spend(design: BallotDesign) -> int:
    """The least a knapsack ballot must cost: ceil(min_spend_percent × budget / 100), exactly."""
    if design.kind != "knapsack" or design.min_spend_percent <= 0:
        return 0
    return -(-design.min_spend_percent * design.budget // 100)


# ---------------------------------------------------------------------------
# Costs


def _selected_ids(selections_or_ids: Iterable[Any]) -> list[str]:
    ids: list[str] = []
    for item in selections_or_ids:
        ids.append(item[0] if isinstance(item, tuple) else item)
    return ids


def ballot_cost(project_costs: Mapping[str, int], selections_or_ids: Iterable[Any]) -> int:
    """Total cost of the distinct projects chosen.

    Accepts plain project ids or cumulative ``(project_id, points)`` pairs.
    Raises ``KeyError`` for a project not in ``project_costs``: validate first.
    """
    return sum(project_costs[project_id] for project_id in set(_selected_ids(selections_or_ids)))


def remaining_budget(
    design: BallotDesign, project_costs: Mapping[str, int], ids: Iterable[Any]
) -> int:
    """Budget left after the chosen projects (negative when over budget), for the meter."""
    return design.budget - ballot_cost(project_costs, ids)


# ---------------------------------------------------------------------------
# Plain-English summary


def describe(design: BallotDesign, currency: str = "") -> str:
    """One sentence of rules for the top of the ballot."""
    at_least = max(design.min_choices, 1)
    if design.kind == "approval":
        if design.max_choices is None:
            if at_least > 1:
                return _("Choose at least %(min)s projects.", min=at_least)
            return _("Choose as many projects as you like.")
        if at_least > 1:
            return _("Choose at least %(min)s and at most %(max)s projects.",
                     min=at_least, max=design.max_choices)
        return n_("Choose up to %(num)s project.", "Choose up to %(num)s projects.",
                  design.max_choices)
    if design.kind == "knapsack":
        budget = format_money(design.budget, currency)
        if design.min_spend_percent > 0 and at_least > 1:
            return _("Choose projects whose total cost is at most %(budget)s and at least "
                     "%(percent)s%% of it, at least %(min)s projects.",
                     budget=budget, percent=design.min_spend_percent, min=at_least)
        if design.min_spend_percent > 0:
            return _("Choose projects whose total cost is at most %(budget)s and at least "
                     "%(percent)s%% of it.", budget=budget, percent=design.min_spend_percent)
        if at_least > 1:
            return _("Choose projects whose total cost is at most %(budget)s, at least "
                     "%(min)s projects.", budget=budget, min=at_least)
        return _("Choose projects whose total cost is at most %(budget)s.", budget=budget)
    if design.kind == "ranked" and design.max_choices is not None:
        if at_least > 1:
            return n_("Rank up to %(num)s project, 1 for your favourite; rank at least %(min)s.",
                      "Rank up to %(num)s projects, 1 for your favourite; rank at least %(min)s.",
                      design.max_choices, min=at_least)
        return n_("Rank up to %(num)s project, 1 for your favourite.",
                  "Rank up to %(num)s projects, 1 for your favourite.", design.max_choices)
    if design.kind == "cumulative" and design.points is not None:
        if design.max_points_per_project is not None:
            return n_("Spread up to %(num)s point across the projects, at most %(cap)s on any "
                      "one project.",
                      "Spread up to %(num)s points across the projects, at most %(cap)s on any "
                      "one project.", design.points, cap=design.max_points_per_project)
        return n_("Spread up to %(num)s point across the projects.",
                  "Spread up to %(num)s points across the projects.", design.points)
    return _("This ballot is not set up correctly.")
