"""Form parsing: submitted HTML form input to canonical selections, and back again to
the numbers a ballot form shows when it is filled in again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pbvote.i18n_hook import N_, _, format_number, translate
from pbvote.rules.ballots.design import BallotDesign, Reason, Selections

# Form field names (HTML forms without JavaScript).
PROJECT_FIELD = "project"
RANK_FIELD_PREFIX = "rank_"
POINTS_FIELD_PREFIX = "points_"

# Anything longer than this is not a number a resident meant to type; refusing
# it early also keeps int() away from Python's 4300-digit conversion limit.
_MAX_NUMBER_DIGITS = 15
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


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
            # the field of the first project holding it: the summary's link lands there and
            # the ballot marks every project that holds the rank
            reasons.append(
                Reason(
                    RANK_FIELD_PREFIX + by_rank[rank][0],
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
