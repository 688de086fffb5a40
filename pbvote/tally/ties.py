"""The tie-break used by every rule, with the orders cities use (``tie_break``).

Default (``tie_break="lowest-cost"``): among tied projects prefer the **lowest cost**, then the
**most votes** (voters supporting the project, Pabulib's ``votes``), then a **lot**: the order
of ``sha256(seed + "\\0" + project_id)``. The seed must be published before the count, so
anyone can re-draw the lot. Other orders:

- ``highest-cost``: the most expensive first, then most votes, then the lot;
- ``most-votes``: most votes first, then lowest cost, then the lot;
- ``lot``: the lot alone (with a public seed).

``ties="error"`` raises :class:`TieError` instead of drawing lots. Every tie that needed a
decision is recorded for the trace, with the order used (``tie_break``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

DEFAULT_SEED = "pbvote"
DEFAULT_ORDER = "lowest-cost"
#: tie_break name -> the criteria applied in turn (each names the reason recorded in ``decided_by``)
ORDERS = {
    "lowest-cost": ("lowest cost", "most votes", "lot"),
    "highest-cost": ("highest cost", "most votes", "lot"),
    "most-votes": ("most votes", "lowest cost", "lot"),
    "lot": ("lot",),
}


class TieError(RuntimeError):
    """Raised when ``ties="error"`` and only the lot could decide."""


class TieBreaker:
    def __init__(self, instance, votes: dict[str, int], mode: str = "lot", seed: str = DEFAULT_SEED,
                 order: str = DEFAULT_ORDER):
        if mode not in ("lot", "error"):
            raise ValueError(f"ties must be 'lot' or 'error', not {mode!r}")
        if order not in ORDERS:
            raise ValueError(f"tie_break must be one of {', '.join(ORDERS)}, not {order!r}")
        self.mode = mode
        self.order_name = order
        self.criteria = ORDERS[order]
        self.seed = str(seed)
        self.votes = votes
        self.cost = {p.id: p.cost for p in instance.projects}
        self.records: list[dict] = []

    def _order_note(self) -> dict:
        """The order used, in every tie record unless it is the default (absent means default, so
        records published before the parameter existed stay the same)."""
        return {} if self.order_name == DEFAULT_ORDER else {"tie_break": self.order_name}

    def lot(self, pid: str) -> str:
        return hashlib.sha256(f"{self.seed}\0{pid}".encode()).hexdigest()

    def _value(self, criterion: str, pid: str):
        if criterion == "lowest cost":
            return self.cost[pid]
        if criterion == "highest cost":
            return -self.cost[pid]
        if criterion == "most votes":
            return -self.votes.get(pid, 0)
        return self.lot(pid)

    def key(self, pid: str):
        """Sort key: smaller is preferred."""
        return tuple(self._value(c, pid) for c in self.criteria)

    def _reason(self, a: str, b: str) -> str:
        """The first criterion that separates a and b."""
        for criterion in self.criteria:
            if criterion == "lot" or self._value(criterion, a) != self._value(criterion, b):
                return criterion
        return "lot"  # pragma: no cover - every order ends with the lot

    def order(self, pids: Iterable[str]) -> list[str]:
        return sorted(pids, key=self.key)

    def choose(self, tied: Sequence[str], context: str) -> str:
        """Pick one of ``tied`` (all equal under the rule) and record how."""
        if len(tied) == 1:
            return tied[0]
        ranked = self.order(tied)
        best, runner = ranked[0], ranked[1]
        decided_by = self._reason(best, runner)
        if decided_by == "lot" and self.mode == "error":
            raise TieError(f"{context}: tie between {', '.join(sorted(tied))} "
                           "that only a lot could break (ties=error)")
        self.records.append({"context": context, "tied": sorted(tied), "chosen": best,
                             "decided_by": decided_by, **self._order_note()})
        return best

    def rank(self, tied: Sequence[str], context: str) -> list[str]:
        """Order a whole group of equally ranked projects (greedy) and record it."""
        if len(tied) < 2:
            return list(tied)
        ranked = self.order(tied)
        reasons = []
        for a, b in zip(ranked, ranked[1:]):
            reason = self._reason(a, b)
            if reason == "lot" and self.mode == "error":
                raise TieError(f"{context}: tie between {a} and {b} "
                               "that only a lot could break (ties=error)")
            reasons.append(reason)
        # the deepest criterion that was needed anywhere in the group
        decided_by = next(r for r in reversed(self.criteria) if r in reasons)
        self.records.append({"context": context, "tied": sorted(tied), "order": ranked,
                             "chosen": ranked[0], "decided_by": decided_by, **self._order_note()})
        return ranked
