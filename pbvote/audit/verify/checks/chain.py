"""chain-integrity, chain-receipts, chain-ballots: the chain export is whole, ends at the
published head, holds the count's entry and no later ballot, and its ballots give the
published receipts and ballots."""
from __future__ import annotations

from collections import Counter

from pbvote.audit.chain import ChainEntry, receipt_from_entry_hash, verify_chain
from pbvote.audit.verify.checks import ChainBallots, State
from pbvote.audit.verify.layout import (
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
)
from pbvote.audit.verify.reading import parse_chain_head, read_text
from pbvote.audit.verify.report import CheckFailed, multiset_difference
from pbvote.audit.verify.shared import ballot_key, texts_of_keys


def check_chain_integrity(state: State) -> str:
    """One pass over the export (a stream: it is never held whole): links and hashes, and
    what the later chain checks need, counted as it goes (ChainBallots)."""
    head, length = parse_chain_head(read_text(state.files, CHAIN_HEAD_FILE))
    counted_at = state.results["chain"]
    counted_length, counted_head = int(counted_at["length"]), counted_at["head"]
    keyed = state.receipt_key is not None
    summary = ChainBallots(receipts={} if keyed else None)
    selections: dict[str, Counter] = {}
    # the first of each later finding, reported in the order the checks below make them
    first: dict[str, object] = {}
    column = {"kind": ""}
    cycle_slug = state.manifest["cycle"]["slug"]

    def entries():
        for e in state.chain:
            column["kind"] = e["kind"]
            yield ChainEntry(e["position"], e["entry_json"], e["previous_hash"], e["entry_hash"])

    def seen(entry: ChainEntry, stored: dict) -> None:
        kind = column["kind"]
        if stored.get("kind") != kind:
            first.setdefault("kind", entry.position)
        if entry.position == counted_length:
            first["counted_hash"] = entry.entry_hash
        if kind != "ballot":
            return
        if entry.position > counted_length:
            first.setdefault("late", entry.position)
        data = stored["data"]
        if data.get("cycle") != cycle_slug:
            first.setdefault("cycle", data.get("cycle"))
        try:
            district = data["district"]
        except KeyError as error:
            summary.missing.setdefault("district", error)
            return
        summary.count[district] += 1
        for name in ("channel", "selections"):
            if name not in data:
                summary.missing.setdefault(name, KeyError(name))
        if "channel" in data:
            summary.channels.setdefault(district, Counter())[data["channel"]] += 1
        if "selections" in data:
            selections.setdefault(district, Counter())[ballot_key(data["selections"])] += 1
        if keyed:
            summary.receipts.setdefault(district, Counter())[
                receipt_from_entry_hash(entry.entry_hash, state.receipt_key)] += 1

    report = verify_chain(entries(), on_entry=seen)
    if not report.ok:
        raise CheckFailed(
            f"chain broken after entry {report.verified_length}: {report.problem}")
    if report.verified_length != length or report.head_hash != head:
        raise CheckFailed(f"the chain export ends at entry {report.verified_length} with head "
                          f"{report.head_hash}, but {CHAIN_HEAD_FILE} publishes entry {length} "
                          f"with head {head}")
    if "kind" in first:
        raise CheckFailed(f"chain entry {first['kind']}: kind column differs from the "
                          f"hashed entry")
    if counted_length > report.verified_length or (
            counted_length and first.get("counted_hash") != counted_head):
        raise CheckFailed(f"{RESULTS_FILE} was counted at entry {counted_length} with head "
                          f"{counted_head}, which this chain does not contain")
    if "late" in first:
        raise CheckFailed(f"chain entry {first['late']} is a ballot logged after the count "
                          f"(counted up to entry {counted_length})")
    if "cycle" in first:
        raise CheckFailed(f"the chain holds a ballot of cycle {first['cycle']!r}, "
                          f"not {cycle_slug!r}")
    summary.selections = {slug: texts_of_keys(keys) for slug, keys in selections.items()}
    state.chain_ballots = summary
    return f"{length} entries verified; head {head}"

def check_chain_receipts(state: State) -> str:
    chain = state.chain_ballots
    chain.require("district")
    if chain.receipts is None:
        return _count_receipts(state)
    derived = chain.receipts
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
    in_chain = state.chain_ballots.count
    for slug in sorted(set(in_chain) | set(state.receipts)):
        published = len(state.receipts.get(slug, []))
        if in_chain.get(slug, 0) != published:
            raise CheckFailed(f"district {slug}: {in_chain.get(slug, 0)} ballots in the chain, "
                              f"{published} receipts in {RECEIPTS_FILE}")
    return (f"{sum(in_chain.values())} receipts matched in number; re-deriving them needs the "
            f"cycle's receipt key, which only the server's own check holds")


def check_chain_ballots(state: State) -> str:
    state.chain_ballots.require("district", "selections")
    from_chain = state.chain_ballots.selections
    for slug in sorted(set(from_chain) | set(state.ballots)):
        published = state.ballot_texts.get(slug, Counter())
        if from_chain.get(slug, Counter()) != published:
            raise CheckFailed(multiset_difference(
                f"ballots of district {slug} (chain vs {BALLOTS_JSON_FILE})",
                from_chain.get(slug, Counter()), published))
    return "the chain's ballots equal the published ballots"
