"""The result of a count: what was funded, why, and a canonical JSON form."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .exact import Number, json_exact


@dataclass
class Outcome:
    rule: str
    params: dict[str, Any]
    selected: list[str]            # project ids, in the order they were selected
    total_cost: Number
    budget: Number
    trace: list[dict[str, Any]] = field(default_factory=list)  # round by round, see explain.py
    ties: list[dict[str, Any]] = field(default_factory=list)   # every tie and how it was broken
    notes: list[str] = field(default_factory=list)

    @property
    def leftover(self) -> Number:
        return self.budget - self.total_cost

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "rule": self.rule,
            "params": self.params,
            "selected": list(self.selected),
            "total_cost": self.total_cost,
            "budget": self.budget,
            "leftover_budget": self.leftover,
            "trace": self.trace,
            "ties": self.ties,
            "notes": self.notes,
        })

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON: sorted keys, no extra spaces, UTF-8; exact numbers are ints or
        exact strings ("12.5", "1/3")."""
        if indent is None:
            return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, indent=indent)


def _jsonable(value):
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):  # never produced by the engine; refuse silently-lossy output
        raise TypeError("floats are not allowed in an Outcome")
    if isinstance(value, Fraction) or type(value).__name__ == "mpq":
        return json_exact(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
