"""Ballot designs, parsing of HTML form input, and validation of ballots.

Pure standard-library code: no Flask, no database.  All arithmetic is on
integers (money in whole currency units, points, ranks), so the rules are
exact and a ballot is either valid or not, never "valid up to rounding".

Every rule a ballot breaks is reported as a :class:`Reason`, which carries a
stable machine ``code`` (for the web layer, the API and tests) and a plain
English ``message`` for the resident.

Canonical selections (what is stored and tallied):

* approval / knapsack: ``tuple[str, ...]`` of project ids, sorted;
* ranked: ``tuple[str, ...]`` of project ids, best first;
* cumulative: ``tuple[tuple[str, int], ...]`` of ``(project_id, points)`` with
  ``points >= 1``, sorted by project id.

An empty ballot is never valid: a resident who wants to abstain simply does
not vote.  So ``min_choices=0`` means "at least one".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pbvote.i18n_hook import N_, _, format_number, n_, translate

__all__ = [
    "BALLOT_KINDS",
    "BallotDesign",
    "Reason",
    "Selections",
    "ballot_cost",
    "describe",
    "format_money",
    "minimum_spend",
    "parse_form",
    "remaining_budget",
    "selections_from_json",
    "selections_to_json",
    "validate_ballot",
]

BALLOT_KINDS: tuple[str, ...] = ("approval", "knapsack", "ranked", "cumulative")

# Canonical selections; see the module docstring for the shape per kind.
Selections = tuple

# Form field names (HTML forms without JavaScript).
PROJECT_FIELD = "project"
RANK_FIELD_PREFIX = "rank_"
POINTS_FIELD_PREFIX = "points_"

# Anything longer than this is not a number a resident meant to type; refusing
# it early also keeps int() away from Python's 4300-digit conversion limit.
_MAX_NUMBER_DIGITS = 15
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


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
    """``400000 -> "400,000"``; with ``currency="$"`` -> ``"$400,000"``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency}{format_number(abs(amount))}"


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but True is not a number of points.
    return isinstance(value, int) and not isinstance(value, bool)


def _project_field(project_id: str) -> str:
    return f"project:{project_id}"


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
# Form parsing


def _form_values(form: Any, key: str) -> list[Any]:
    """All values for ``key`` from a MultiDict-like object or a plain mapping."""
    getlist = getattr(form, "getlist", None)
    if callable(getlist):
        return list(getlist(key))
    value = form.get(key)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _form_keys(form: Any) -> list[str]:
    return [key for key in form.keys() if isinstance(key, str)]


#: (not a whole number, far too large) for a rank and for points, by the project's id
_INTEGER_PROBLEMS = {
    "rank": (N_("The rank for project '%(project)s' must be a whole number."),
             N_("The rank for project '%(project)s' is far too large.")),
    "points": (N_("The number of points for project '%(project)s' must be a whole number."),
               N_("The number of points for project '%(project)s' is far too large.")),
}


def _integer_reason(key: str, what: str, project_id: str,
                    text: str) -> tuple[int | None, Reason | None]:
    """Parse a whole number typed by a resident: ASCII digits with an optional minus sign.
    `what` is "rank" or "points"."""
    not_integer, too_large = _INTEGER_PROBLEMS[what]
    text = text.strip()
    if not _INTEGER_TEXT.fullmatch(text):
        return None, Reason(key, "not_integer", translate(not_integer) % {"project": project_id})
    if len(text.lstrip("-").lstrip("0")) > _MAX_NUMBER_DIGITS:
        return None, Reason(key, "number_too_large",
                            translate(too_large) % {"project": project_id})
    return int(text), None


def _single_text_value(form: Any, key: str, reasons: list[Reason]) -> str:
    """The one non-blank value of a field ("" if none); flags fields sent twice."""
    values = _form_values(form, key)
    texts: list[str] = []
    for value in values:
        if not isinstance(value, str):
            reasons.append(
                Reason(key, "not_text", _("This answer was not sent as text; please try again."))
            )
            return ""
        if value.strip():
            texts.append(value)
    if len(texts) > 1:
        reasons.append(
            Reason(
                key,
                "multiple_values",
                _("This answer was sent more than once; please choose one value."),
            )
        )
        return ""
    return texts[0] if texts else ""


def parse_form(design: BallotDesign, form: Any) -> tuple[Selections | None, list[Reason]]:
    """Turn submitted form input into canonical selections.

    ``form`` may be a werkzeug ``MultiDict`` (anything with ``.getlist``) or a
    plain mapping whose values are ``str`` or ``list[str]``.  Unrelated fields
    (CSRF token, buttons) are ignored.  Unknown project ids and duplicates are
    kept so that :func:`validate_ballot` can report them.

    Returns ``(selections, [])`` when the input was well formed, and
    ``(None, reasons)`` otherwise, so a half-understood ballot is never stored.
    Validation rules (limits, budget, empty ballot) are not checked here: call
    :func:`validate_ballot` on the result.
    """
    if design.kind in ("approval", "knapsack"):
        return _parse_checkboxes(form)
    if design.kind == "ranked":
        return _parse_ranks(design, form)
    if design.kind == "cumulative":
        return _parse_points(form)
    return None, [
        Reason(
            "ballot",
            "unknown_kind",
            _("This ballot is not set up correctly; please tell the election staff."),
        )
    ]


def _parse_checkboxes(form: Any) -> tuple[Selections | None, list[Reason]]:
    reasons: list[Reason] = []
    ids: list[str] = []
    for value in _form_values(form, PROJECT_FIELD):
        if not isinstance(value, str):
            reasons.append(
                Reason(
                    PROJECT_FIELD, "not_text", _("A choice was not sent as text; please try "
                                                 "again.")
                )
            )
            continue
        if value.strip():
            ids.append(value.strip())
    if reasons:
        return None, reasons
    return tuple(sorted(ids)), []


def _parse_ranks(design: BallotDesign, form: Any) -> tuple[Selections | None, list[Reason]]:
    reasons: list[Reason] = []
    ranked: list[tuple[int, str]] = []
    rank_keys = [key for key in _form_keys(form) if key.startswith(RANK_FIELD_PREFIX)]
    # Without k, no rank can exceed the number of rank fields: this also bounds the work
    # a hostile form can cause (a rank of 10^11 must not build a 10^11-element range).
    limit = design.max_choices if design.max_choices is not None else len(rank_keys)
    for key in rank_keys:
        project_id = key[len(RANK_FIELD_PREFIX) :]
        text = _single_text_value(form, key, reasons)
        if not text:
            continue
        rank, problem = _integer_reason(key, "rank", project_id, text)
        if rank is None:
            reasons.append(problem)  # type: ignore[arg-type]
            continue
        if rank < 1 or rank > limit:
            reasons.append(
                Reason(
                    key, "rank_out_of_range", _("The rank for project '%(project)s' must be 1 to "
                                                "%(limit)s.", project=project_id,
                                                limit=format_number(limit))
                )
            )
            continue
        ranked.append((rank, project_id))

    by_rank: dict[int, list[str]] = {}
    for rank, project_id in ranked:
        by_rank.setdefault(rank, []).append(project_id)
    for rank in sorted(by_rank):
        if len(by_rank[rank]) > 1:
            reasons.append(
                Reason(
                    "ballot",
                    "duplicate_rank",
                    _("You gave rank %(rank)s to %(count)s projects; each rank may be used only "
                      "once.", rank=rank, count=len(by_rank[rank])),
                )
            )
    used = sorted(by_rank)
    if used and used != list(range(1, len(used) + 1)):
        present = set(used)
        missing = [r for r in range(1, len(used) + 1) if r not in present]
        reasons.append(
            Reason(
                "ballot",
                "ranks_not_consecutive",
                _("Ranks must start at 1 and have no gaps; you skipped rank %(missing)s.",
                  missing=", ".join(str(r) for r in missing)),
            )
        )
    if reasons:
        return None, reasons
    return tuple(project_id for _, project_id in sorted(ranked)), []


def _parse_points(form: Any) -> tuple[Selections | None, list[Reason]]:
    reasons: list[Reason] = []
    pairs: list[tuple[str, int]] = []
    for key in _form_keys(form):
        if not key.startswith(POINTS_FIELD_PREFIX):
            continue
        project_id = key[len(POINTS_FIELD_PREFIX) :]
        text = _single_text_value(form, key, reasons)
        if not text:
            continue
        points, problem = _integer_reason(key, "points", project_id, text)
        if points is None:
            reasons.append(problem)  # type: ignore[arg-type]
        elif points < 0:
            reasons.append(
                Reason(
                    key,
                    "negative_points",
                    _("The points for project '%(project)s' cannot be negative.",
                      project=project_id),
                )
            )
        elif points > 0:  # 0 means "no points", same as a blank box
            pairs.append((project_id, points))
    if reasons:
        return None, reasons
    return tuple(sorted(pairs)), []


# ---------------------------------------------------------------------------
# Validation


def validate_ballot(
    design: BallotDesign,
    project_costs: Mapping[str, int],
    selections: Any,
    *,
    currency: str = "",
) -> list[Reason]:
    """Every rule the ballot breaks; an empty list means the ballot is valid.

    ``project_costs`` maps each project on this ballot to its cost and so also
    defines which projects belong to the ballot.  Malformed ``selections`` are
    reported as reasons, never raised.
    """
    design_problems = [
        problem
        for problem in design.problems(len(project_costs))
        if problem.code not in _HARMLESS_DESIGN_CODES
    ]
    if design_problems:
        return [
            Reason(
                "ballot",
                "invalid_design",
                _("This ballot is not set up correctly, so no vote can be accepted yet; please "
                  "tell the election staff."),
            )
        ]
    if not isinstance(selections, (tuple, list)):
        return [_malformed()]

    if design.kind == "cumulative":
        return _validate_points(design, project_costs, selections)

    if not all(isinstance(project_id, str) for project_id in selections):
        return [_malformed()]
    ids: list[str] = list(selections)
    if not ids:
        return [_empty()]
    reasons = _membership_reasons(project_costs, ids)
    distinct = len(set(ids))

    if design.max_choices is not None and distinct > design.max_choices:
        if design.kind == "ranked":
            message = n_("You ranked %(num)s project; you may rank at most %(max)s.",
                         "You ranked %(num)s projects; you may rank at most %(max)s.",
                         distinct, max=design.max_choices)
        else:
            message = n_("You chose %(num)s project; you may choose at most %(max)s.",
                         "You chose %(num)s projects; you may choose at most %(max)s.",
                         distinct, max=design.max_choices)
        reasons.append(Reason("ballot", "too_many", message))
    if distinct < design.min_choices:
        reasons.append(
            Reason(
                "ballot",
                "too_few",
                n_("You chose %(num)s project; please choose at least %(min)s.",
                   "You chose %(num)s projects; please choose at least %(min)s.",
                   distinct, min=design.min_choices),
            )
        )
    if design.kind == "knapsack":
        known = [project_id for project_id in set(ids) if project_id in project_costs]
        reasons.extend(_budget_reasons(design, ballot_cost(project_costs, known), currency))
    return reasons


def _malformed() -> Reason:
    return Reason("ballot", "malformed",
                  _("Your ballot could not be read; please fill it in again."))


def _empty() -> Reason:
    return Reason(
        "ballot",
        "empty",
        _("You have not chosen any projects. An empty ballot cannot be submitted; "
          "if you do not wish to support any project, you can simply not vote."),
    )


def _membership_reasons(project_costs: Mapping[str, int], ids: Sequence[str]) -> list[Reason]:
    reasons: list[Reason] = []
    counts = Counter(ids)
    for project_id in sorted(counts):
        if project_id not in project_costs:
            reasons.append(
                Reason(
                    _project_field(project_id),
                    "unknown_project",
                    _("Project %(project)s is not on this ballot.", project=repr(project_id)),
                )
            )
        if counts[project_id] > 1:
            reasons.append(
                Reason(
                    _project_field(project_id),
                    "duplicate",
                    _("Project %(project)s was chosen %(times)s times; each project counts once.",
                      project=repr(project_id), times=counts[project_id]),
                )
            )
    return reasons


def _budget_reasons(design: BallotDesign, cost: int, currency: str) -> list[Reason]:
    reasons: list[Reason] = []
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    if cost > design.budget:
        reasons.append(
            Reason(
                "ballot",
                "over_budget",
                _("Your choices cost %(cost)s, which is %(over)s more than the budget of "
                  "%(budget)s. Remove projects to get back within budget.",
                  cost=money(cost), over=money(cost - design.budget),
                  budget=money(design.budget)),
            )
        )
    least = minimum_spend(design)
    if cost < least:
        reasons.append(
            Reason(
                "ballot",
                "under_min_spend",
                _("Your choices cost %(cost)s; please choose projects costing at least "
                  "%(least)s (%(percent)s%% of the budget of %(budget)s). %(missing)s more is "
                  "needed, and %(left)s of the budget remains.",
                  cost=money(cost), least=money(least), percent=design.min_spend_percent,
                  budget=money(design.budget), missing=money(least - cost),
                  left=money(design.budget - cost)),
            )
        )
    return reasons


def _validate_points(
    design: BallotDesign, project_costs: Mapping[str, int], selections: Sequence[Any]
) -> list[Reason]:
    pairs: list[tuple[str, Any]] = []
    for item in selections:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            return [_malformed()]
        pairs.append((item[0], item[1]))
    if not pairs:
        return [_empty()]
    reasons = _membership_reasons(project_costs, [project_id for project_id, _ in pairs])

    total = 0
    cap = design.max_points_per_project
    for project_id, points in pairs:
        field = _project_field(project_id)
        if not _is_int(points):
            reasons.append(
                Reason(
                    field,
                    "not_integer",
                    _("The points for project '%(project)s' must be a whole number.",
                      project=project_id),
                )
            )
            continue
        if points < 0:
            reasons.append(
                Reason(
                    field,
                    "negative_points",
                    _("The points for project '%(project)s' cannot be negative.",
                      project=project_id),
                )
            )
            continue
        if points == 0:
            reasons.append(
                Reason(
                    field,
                    "zero_points",
                    _("Project '%(project)s' was given 0 points; leave it blank instead.",
                      project=project_id),
                )
            )
            continue
        if cap is not None and points > cap:
            reasons.append(
                Reason(
                    field,
                    "project_points_exceeded",
                    n_("You gave project '%(project)s' %(num)s point; at most %(cap)s may go to "
                       "any one project.",
                       "You gave project '%(project)s' %(num)s points; at most %(cap)s may go to "
                       "any one project.", points, project=project_id, cap=format_number(cap)),
                )
            )
        total += points
    assert design.points is not None  # guaranteed by design.problems()
    if total > design.points:
        reasons.append(
            Reason(
                "ballot",
                "points_exceeded",
                n_("You used %(num)s point; you have %(points)s to spread, so remove %(extra)s.",
                   "You used %(num)s points; you have %(points)s to spread, so remove %(extra)s.",
                   total, points=format_number(design.points),
                   extra=format_number(total - design.points)),
            )
        )
    return reasons


# ---------------------------------------------------------------------------
# Storage form


def selections_to_json(design: BallotDesign, selections: Selections) -> list | dict:
    """Stable JSON-able form: a list of ids, or for cumulative a ``{id: points}`` object."""
    if design.kind == "cumulative":
        return {project_id: points for project_id, points in sorted(selections)}
    if design.kind == "ranked":
        return list(selections)
    if design.kind in ("approval", "knapsack"):
        return sorted(selections)
    raise ValueError(f"unknown ballot kind {design.kind!r}")


def selections_from_json(design: BallotDesign, data: Any) -> Selections:
    """Inverse of :func:`selections_to_json`; raises ``ValueError`` on malformed data.

    Only the shape is checked (types, duplicates, positive points); whether the
    ballot obeys the rules is :func:`validate_ballot`'s job.
    """
    if design.kind == "cumulative":
        if not isinstance(data, dict):
            raise ValueError("cumulative selections must be an object of project id -> points")
        pairs: list[tuple[str, int]] = []
        for project_id, points in data.items():
            if not isinstance(project_id, str):
                raise ValueError("project ids must be strings")
            if not _is_int(points) or points < 1:
                raise ValueError(f"points for {project_id!r} must be a positive integer")
            pairs.append((project_id, points))
        return tuple(sorted(pairs))
    if design.kind not in BALLOT_KINDS:
        raise ValueError(f"unknown ballot kind {design.kind!r}")
    if not isinstance(data, list):
        raise ValueError(f"{design.kind} selections must be a list of project ids")
    if not all(isinstance(project_id, str) for project_id in data):
        raise ValueError("project ids must be strings")
    if len(set(data)) != len(data):
        raise ValueError("a project appears more than once")
    return tuple(data) if design.kind == "ranked" else tuple(sorted(data))


# ---------------------------------------------------------------------------
# Filling a ballot form in again


def choice_map(design: BallotDesign, selections: Selections | None) -> dict[str, int]:
    """project id → 1 (chosen), its rank, or its points: what a ballot form shows."""
    if not selections:
        return {}
    if design.kind == "ranked":
        return {project_id: rank for rank, project_id in enumerate(selections, start=1)}
    if design.kind == "cumulative":
        return dict(selections)
    return {project_id: 1 for project_id in selections}


def _whole_number_typed(form: Any, key: str) -> int | None:
    values = _form_values(form, key)
    text = values[0].strip() if values and isinstance(values[0], str) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def choices_as_typed(design: BallotDesign, project_ids: Iterable[str], form: Any
                     ) -> dict[str, int]:
    """For a form :func:`parse_form` could not read: project id → the whole number typed
    for it (rank or points) or 1 (ticked), for the given projects only; anything else is
    left blank, so the voter fixes one field instead of filling in the ballot again."""
    ids = list(project_ids)
    if design.kind in ("ranked", "cumulative"):
        prefix = RANK_FIELD_PREFIX if design.kind == "ranked" else POINTS_FIELD_PREFIX
        typed = {project_id: _whole_number_typed(form, prefix + project_id)
                 for project_id in ids}
        return {project_id: number for project_id, number in typed.items()
                if number is not None}
    ticked = {value for value in _form_values(form, PROJECT_FIELD) if isinstance(value, str)}
    return {project_id: 1 for project_id in ids if project_id in ticked}


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
