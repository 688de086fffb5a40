"""The one tie-break used by every rule.

Default (``ties="lot"``): among tied projects prefer the **lowest cost**, then the
**most votes** (voters supporting the project, Pabulib's ``votes``), then a **lot**:
the order of ``sha256(seed + "\\0" + project_id)``. The seed must be published before
the count, so anyone can re-draw the lot. ``ties="error"`` raises :class:`TieError`
instead of drawing lots. Every tie that needed a decision is recorded for the trace.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

DEFAULT_SEED = "pbvote"


class TieError(RuntimeError):
    """Raised when ``ties="error"`` and only the lot could decide."""


class TieBreaker:
    def __init__(self, instance, votes: dict[str, int], mode: str = "lot", seed: str = DEFAULT_SEED):
        if mode not in ("lot", "error"):
            raise ValueError(f"ties must be 'lot' or 'error', not {mode!r}")
        self.mode = mode
        self.seed = str(seed)
        self.votes = votes
        self.cost = {p.id: p.cost for p in instance.projects}
        self.records: list[dict] = []

    def lot(self, pid: str) -> str:
        return hashlib.sha256(f"{self.seed}\0{pid}".encode()).hexdigest()

    def key(self, pid: str):
        """Sort key: smaller is preferred."""
        return (self.cost[pid], -self.votes.get(pid, 0), self.lot(pid))

    def order(self, pids: Iterable[str]) -> list[str]:
        return sorted(pids, key=self.key)

    def choose(self, tied: Sequence[str], context: str) -> str:
        """Pick one of ``tied`` (all equal under the rule) and record how."""
        if len(tied) == 1:
            return tied[0]
        ranked = self.order(tied)
        best, runner = ranked[0], ranked[1]
        if self.cost[best] != self.cost[runner]:
            decided_by = "lowest cost"
        elif self.votes.get(best, 0) != self.votes.get(runner, 0):
            decided_by = "most votes"
        else:
            decided_by = "lot"
            if self.mode == "error":
                raise TieError(f"{context}: tie between {', '.join(sorted(tied))} "
                               "that only a lot could break (ties=error)")
        self.records.append({"context": context, "tied": sorted(tied), "chosen": best,
                             "decided_by": decided_by})
        return best

    def rank(self, tied: Sequence[str], context: str) -> list[str]:
        """Order a whole group of equally ranked projects (greedy) and record it."""
        if len(tied) < 2:
            return list(tied)
        ranked = self.order(tied)
        reasons = []
        for a, b in zip(ranked, ranked[1:]):
            if self.cost[a] != self.cost[b]:
                reasons.append("lowest cost")
            elif self.votes.get(a, 0) != self.votes.get(b, 0):
                reasons.append("most votes")
            else:
                if self.mode == "error":
                    raise TieError(f"{context}: tie between {a} and {b} "
                                   "that only a lot could break (ties=error)")
                reasons.append("lot")
        decided_by = next(r for r in ("lot", "most votes", "lowest cost") if r in reasons)
        self.records.append({"context": context, "tied": sorted(tied), "order": ranked,
                             "chosen": ranked[0], "decided_by": decided_by})
        return ranked
