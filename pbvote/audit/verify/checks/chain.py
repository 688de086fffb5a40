"""chain-integrity, chain-receipts, chain-ballots: the chain export is whole, ends at the
published head, holds the count's entry and no later ballot, and its ballots give the
published receipts and ballots."""
from __future__ import annotations

import json
from collections import Counter

from pbvote.audit.verify.chain_scan import ChainCheck, Counting, check_run, join_runs
from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import (
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    MANIFEST_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
)
from pbvote.audit.verify.reading import BundleError, ChainExport, parse_chain_head, read_text
from pbvote.audit.verify.report import CheckFailed, multiset_difference


def check_chain_integrity(state: State) -> str:
    """One pass over the export (a stream: it is never held whole): links and hashes, and
    what the later chain checks need, counted as it goes (ChainBallots)."""
    head, length = parse_chain_head(read_text(state.files, CHAIN_HEAD_FILE))
    counted_at = state.results["chain"]
    counted_length, counted_head = int(counted_at["length"]), counted_at["head"]
    cycle_slug = state.manifest["cycle"]["slug"]
    counting = Counting(counted_length, cycle_slug, state.receipt_key)
    started, state.chain_check = state.chain_check, None
    if started is not None and started.counting != counting:
        started.close()  # started on what the bundle seemed to say; it says otherwise
        started = None
    if started is not None:
        report, summary, first = started.result()
    elif isinstance(state.chain, ChainExport):
        report, summary, first = ChainCheck(state.chain, counting, state.parallel).result()
    else:
        rows = ((e["position"], e["kind"], e["entry_json"], e["previous_hash"], e["entry_hash"])
                for e in state.chain)
        report, summary, first = join_runs(iter([check_run(rows, counting)]),
                                           state.receipt_key)
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
    state.chain_ballots = summary
    return f"{length} entries verified; head {head}"


def start_chain_check(files: dict[str, bytes], chain, receipt_key: str | None,
                      parallel: bool) -> ChainCheck | None:
    """Start checking a chain export in worker processes while the bundle's own checks run,
    with the count's length and the cycle as the bundle seems to give them (chain-integrity
    uses the result only if the checks read the same); None without workers or an export,
    or when they cannot be read."""
    if not parallel or not isinstance(chain, ChainExport):
        return None
    try:
        results = json.loads(files[RESULTS_FILE].decode("utf-8"))
        manifest = json.loads(files[MANIFEST_FILE].decode("utf-8"))["manifest"]
        counting = Counting(int(results["chain"]["length"]), manifest["cycle"]["slug"],
                            receipt_key)
        return ChainCheck(chain, counting, parallel)
    except (BundleError, KeyError, TypeError, ValueError, AttributeError, RecursionError,
            OSError):
        return None


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
