"""Storage form: selections to and from the JSON kept with each cast ballot."""

from __future__ import annotations

from typing import Any

from pbvote.rules.ballots.design import BALLOT_KINDS, BallotDesign, Selections, _is_int


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
