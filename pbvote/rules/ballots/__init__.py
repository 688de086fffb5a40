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

One module per concern: :mod:`.design` (designs, reasons, costs, the summary),
:mod:`.parse` (form input), :mod:`.validate` (the rules) and :mod:`.storage` (JSON).
Callers import from this package, not from the modules.
"""

from __future__ import annotations

from pbvote.rules.ballots.design import (
    BALLOT_KINDS,
    BallotDesign,
    Reason,
    Selections,
    ballot_cost,
    describe,
    format_money,
    minimum_spend,
    remaining_budget,
)
from pbvote.rules.ballots.parse import (
    POINTS_FIELD_PREFIX,
    PROJECT_FIELD,
    RANK_FIELD_PREFIX,
    choice_map,
    choices_as_typed,
    parse_form,
)
from pbvote.rules.ballots.storage import selections_from_json, selections_to_json
from pbvote.rules.ballots.validate import validate_ballot

__all__ = [
    "BALLOT_KINDS",
    "POINTS_FIELD_PREFIX",
    "PROJECT_FIELD",
    "RANK_FIELD_PREFIX",
    "BallotDesign",
    "Reason",
    "Selections",
    "ballot_cost",
    "choice_map",
    "choices_as_typed",
    "describe",
    "format_money",
    "minimum_spend",
    "parse_form",
    "remaining_budget",
    "selections_from_json",
    "selections_to_json",
    "validate_ballot",
]
