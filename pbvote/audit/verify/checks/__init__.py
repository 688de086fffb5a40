"""The checks, one module each (the chain's own ones together). Each is a function of the
:class:`State` that returns its detail line or raises CheckFailed; a check reads what the
earlier ones left in the state, so :mod:`pbvote.audit.verify.run` keeps their order."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class State:
    """The bundle's files and chain export, and what the checks have read from them so far."""

    files: dict[str, bytes]
    chain: list[dict] | None
    sums: dict[str, str] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    districts: dict[str, dict] = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    results_by_district: dict[str, dict] = field(default_factory=dict)
    ballots: dict[str, list] = field(default_factory=dict)
    receipts: dict[str, list[str]] = field(default_factory=dict)
    participation: dict[str, dict[str, int]] = field(default_factory=dict)
    #: district slug → desk check-ins that cast nothing (paper_audit.json)
    not_cast: dict[str, int] = field(default_factory=dict)
    #: district slug → (.pb file name, projects its 'selected' column marks)
    pb_selected: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    #: the cycle's receipt key (hex; "" for cycles with unkeyed receipts), or None when the
    #: verifier does not hold it: then chain-receipts compares numbers, not receipts
    receipt_key: str | None = None
    #: district slug → (instance, profile, outcome) of the verifier's own re-count
    recounts: dict[str, tuple] = field(default_factory=dict)
    #: (entry data, entry hash) of each ballot in the chain export
    chain_ballots: list[tuple[dict, str]] = field(default_factory=list)


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: int(value) for key, value in sorted(counts.items()) if value}
