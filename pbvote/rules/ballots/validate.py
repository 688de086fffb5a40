"""Validation: every rule a ballot breaks, as :class:`Reason` objects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pbvote.i18n_hook import _, format_number, n_
from pbvote.rules.ballots.design import (
    _HARMLESS_DESIGN_CODES,
    BallotDesign,
    Reason,
    _is_int,
    ballot_cost,
    format_money,
    minimum_spend,
)


def _project_field(project_id: str) -> str:
    return f"project:{project_id}"


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
