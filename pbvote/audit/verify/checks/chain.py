"""chain-integrity, chain-receipts, chain-ballots: the chain export is whole, ends at the
published head, holds the count's entry and no later ballot, and its ballots give the
published receipts and ballots."""
from __future__ import annotations

import json
from collections import Counter

from pbvote.audit.chain import ChainEntry, receipt_from_entry_hash, verify_chain
from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import (
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
)
from pbvote.audit.verify.reading import parse_chain_head, read_text
from pbvote.audit.verify.report import CheckFailed, multiset_difference
from pbvote.audit.verify.shared import ballot_text


def check_chain_integrity(state: State) -> str:
    head, length = parse_chain_head(read_text(state.files, CHAIN_HEAD_FILE))
    report = verify_chain(ChainEntry(e["position"], e["entry_json"], e["previous_hash"],
                                     e["entry_hash"]) for e in state.chain)
    if not report.ok:
        raise CheckFailed(
            f"chain broken after entry {report.verified_length}: {report.problem}")
    if report.verified_length != length or report.head_hash != head:
        raise CheckFailed(f"the chain export ends at entry {report.verified_length} with head "
                          f"{report.head_hash}, but {CHAIN_HEAD_FILE} publishes entry {length} "
                          f"with head {head}")
    for entry in state.chain:
        if json.loads(entry["entry_json"]).get("kind") != entry["kind"]:
            raise CheckFailed(f"chain entry {entry['position']}: kind column differs from the "
                              f"hashed entry")
    counted_at = state.results["chain"]
    counted_length, counted_head = int(counted_at["length"]), counted_at["head"]
    if counted_length > len(state.chain) or (
            counted_length and state.chain[counted_length - 1]["entry_hash"] != counted_head):
        raise CheckFailed(f"{RESULTS_FILE} was counted at entry {counted_length} with head "
                          f"{counted_head}, which this chain does not contain")
    late = [e["position"] for e in state.chain[counted_length:] if e["kind"] == "ballot"]
    if late:
        raise CheckFailed(f"chain entry {late[0]} is a ballot logged after the count "
                          f"(counted up to entry {counted_length})")
    state.chain_ballots = [(json.loads(e["entry_json"])["data"], e["entry_hash"])
                          for e in state.chain if e["kind"] == "ballot"]
    cycle_slug = state.manifest["cycle"]["slug"]
    for data, _ in state.chain_ballots:
        if data.get("cycle") != cycle_slug:
            raise CheckFailed(f"the chain holds a ballot of cycle {data.get('cycle')!r}, "
                              f"not {cycle_slug!r}")
    return f"{length} entries verified; head {head}"

def check_chain_receipts(state: State) -> str:
    if state.receipt_key is None:
        return _count_receipts(state)
    derived: dict[str, Counter] = {}
    for data, digest in state.chain_ballots:
        derived.setdefault(data["district"], Counter())[
            receipt_from_entry_hash(digest, state.receipt_key)] += 1
    for slug in sorted(set(derived) | set(state.receipts)):
        published = Counter(state.receipts.get(slug, []))
        if derived.get(slug, Counter()) != published:
            raise CheckFailed(multiset_difference(
                f"receipts of district {slug} (chain vs {RECEIPTS_FILE})",
                derived.get(slug, Counter()), published))
    return f"{sum(map(sum, (c.values() for c in derived.values())))} receipts re-derived"

def _count_receipts(state: State) -> str:
    """Without the cycle's receipt key (kept by the server, so that the chain export cannot
    map a receipt to a ballot), each district's ballot entries must number its receipts."""
    in_chain = Counter(data["district"] for data, _ in state.chain_ballots)
    for slug in sorted(set(in_chain) | set(state.receipts)):
        published = len(state.receipts.get(slug, []))
        if in_chain.get(slug, 0) != published:
            raise CheckFailed(f"district {slug}: {in_chain.get(slug, 0)} ballots in the chain, "
                              f"{published} receipts in {RECEIPTS_FILE}")
    return (f"{sum(in_chain.values())} receipts matched in number; re-deriving them needs the "
            f"cycle's receipt key, which only the server's own check holds")


def check_chain_ballots(state: State) -> str:
    from_chain: dict[str, Counter] = {}
    for data, _ in state.chain_ballots:
        from_chain.setdefault(data["district"], Counter())[ballot_text(data["selections"])] += 1
    for slug in sorted(set(from_chain) | set(state.ballots)):
        published = Counter(ballot_text(b) for b in state.ballots.get(slug, []))
        if from_chain.get(slug, Counter()) != published:
            raise CheckFailed(multiset_difference(
                f"ballots of district {slug} (chain vs {BALLOTS_JSON_FILE})",
                from_chain.get(slug, Counter()), published))
    return "the chain's ballots equal the published ballots"
