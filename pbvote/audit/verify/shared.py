"""Pure definitions the exporter (:mod:`pbvote.audit.bundle`) uses too: digests, the
canonical ballot text, and the engine's instance, profile and parameters for a district."""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pbvote.audit.chain import canonical_json
from pbvote.tally import Instance, Profile
from pbvote.tally.exact import json_exact


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_digest(manifest: Any) -> str:
    return sha256_hex(canonical_json(manifest).encode("utf-8"))


def ballot_text(selections: Any) -> str:
    """One ballot's canonical text: the selections exactly as the chain stores them."""
    return canonical_json(selections)


def ballot_key(ballot: Any) -> tuple:
    """A hashable key with one ballot_text per key, cheaper to make than the text.

    A list of strings, or an object of strings to integers, is keyed by exactly those
    values (so True and 1, or 1 and 1.0, which write differently, are never merged); any
    other ballot by its text."""
    kind = type(ballot)
    if kind is list and all(type(x) is str for x in ballot):
        return ("list", *ballot)
    if kind is dict and all(type(k) is str and type(v) is int for k, v in ballot.items()):
        return ("dict", *ballot.items())
    return ("text", ballot_text(ballot))


def texts_of_keys(keyed: Counter) -> Counter:
    """Counter of ballot_key → Counter of ballot_text, each distinct ballot written once."""
    texts: Counter = Counter()
    for key, count in keyed.items():
        if key[0] == "text":
            texts[key[1]] += count
        else:
            texts[ballot_text(list(key[1:]) if key[0] == "list" else dict(key[1:]))] += count
    return texts


def ballot_text_counts(ballots: Iterable[Any]) -> Counter:
    """Counter(ballot_text(b) for b in ballots), each distinct ballot written once."""
    return texts_of_keys(Counter(map(ballot_key, ballots)))


def engine_ballot_type(ballot_kind: str) -> str:
    return {"approval": "approval", "knapsack": "approval", "ranked": "ordinal",
            "cumulative": "cumulative"}[ballot_kind]


def district_instance(district: dict) -> Instance:
    return Instance.from_plain(budget=district["budget"], projects=[
        {"id": p["id"], "cost": p["cost"], "name": p.get("title", "")}
        for p in district["projects"]])


def district_profile(district: dict, instance: Instance, ballots: list) -> Profile:
    """The engine's profile from stored selections: lists of ids, or {id: points}."""
    kind = district["ballot"]["kind"]
    if kind == "ranked":
        return Profile.ordinal(instance, ballots, max_length=district["ballot"].get("max_choices"))
    if kind == "cumulative":
        return Profile.cumulative(instance, [dict(b) for b in ballots])
    return Profile.approval(instance, ballots)


def district_profile_counted(district: dict, instance: Instance,
                             counted: list[tuple[Any, int]]) -> Profile:
    """district_profile over the ballots repeated, from (distinct ballot, voters) pairs in the
    order of first appearance: the same profile, without a ballot per voter."""
    kind = district["ballot"]["kind"]
    if kind == "ranked":
        return Profile.counted(instance, "ordinal", counted,
                               max_length=district["ballot"].get("max_choices"))
    if kind == "cumulative":
        return Profile.counted(instance, "cumulative", [(dict(b), n) for b, n in counted])
    return Profile.counted(instance, "approval", counted)


def tally_params(manifest: dict, district: dict) -> dict:
    """The parameters the count used: the cycle's published tie seed, then the district's."""
    return {"tie_seed": manifest["cycle"]["tie_break_seed"], **district["tally"]["params"]}


def exact_json(value: Any) -> Any:
    """Scores as results.json writes them: ints stay ints, fractions become exact strings."""
    if isinstance(value, int):
        return value
    return json_exact(value)
