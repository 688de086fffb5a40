"""The checks, one module each (the chain's own ones together). Each is a function of the
:class:`State` that returns its detail line or raises CheckFailed; a check reads what the
earlier ones left in the state, so :mod:`pbvote.audit.verify.run` keeps their order."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pbvote.audit.verify.counting import BallotCounts
from pbvote.tally import Profile


@dataclass
class State:
    """The bundle's files and chain export, and what the checks have read from them so far."""

    files: dict[str, bytes]
    #: the chain export's entries (dicts), iterated once; None without an export
    chain: Iterable[dict] | None
    sums: dict[str, str] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    districts: dict[str, dict] = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    results_by_district: dict[str, dict] = field(default_factory=dict)
    #: district slug → its ballots in ballots.json, each distinct ballot once with its voters
    ballots: dict[str, BallotCounts] = field(default_factory=dict)
    #: district slug → the engine's profile of those ballots
    profiles: dict[str, Profile] = field(default_factory=dict)
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
    #: district slug → Counter of ballot_text of its ballots in ballots.json
    ballot_texts: dict[str, Counter] = field(default_factory=dict)
    #: what the chain export's ballot entries hold, gathered in one pass over the export
    #: (which is read as a stream, never held whole)
    chain_ballots: ChainBallots = field(default_factory=lambda: ChainBallots())
    #: check a long chain export in worker processes (the command line's choice)
    parallel: bool = False
    #: the chain export's check, started before the bundle's checks (None: not started)
    chain_check: Any = None


@dataclass
class ChainBallots:
    """The chain's ballot entries, counted: per district, their canonical selections, their
    channels and (with the receipt key) the receipts they derive."""

    #: district slug → ballot entries
    count: Counter = field(default_factory=Counter)
    #: district slug → Counter of ballot_text of the entries' selections
    selections: dict[str, Counter] = field(default_factory=dict)
    #: district slug → Counter of the entries' channels
    channels: dict[str, Counter] = field(default_factory=dict)
    #: district slug → Counter of derived receipts; None when the verifier lacks the key
    receipts: dict[str, Counter] | None = None
    #: a field some ballot entry lacks → the KeyError the check that reads it fails with
    missing: dict[str, KeyError] = field(default_factory=dict)

    def require(self, *names: str) -> None:
        """Fail (as malformed content) the check that reads a field some entry lacks."""
        for name in names:
            if name in self.missing:
                raise self.missing[name]


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: int(value) for key, value in sorted(counts.items()) if value}
