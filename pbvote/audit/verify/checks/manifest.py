"""manifest-hash: the manifest hashes to what it claims, and results.json was counted under
it, with its seed and districts."""
from __future__ import annotations

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.checks.transitions import check_transitions
from pbvote.audit.verify.layout import MANIFEST_FILE, RESULTS_FILE
from pbvote.audit.verify.reading import read_json, results_districts
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import manifest_digest


def check_manifest(state: State) -> str:
    document = read_json(state.files, MANIFEST_FILE)
    state.manifest = document["manifest"]
    claimed = document["manifest_hash"]
    actual = manifest_digest(state.manifest)
    if actual != claimed:
        raise CheckFailed(f"{MANIFEST_FILE}: the manifest hashes to {actual}, "
                          f"but manifest_hash says {claimed}")
    state.districts = {d["slug"]: d for d in state.manifest["districts"]}
    state.results = read_json(state.files, RESULTS_FILE)
    counted_under = state.results.get("manifest_hash")
    if counted_under is not None and counted_under != claimed:
        raise CheckFailed(f"{RESULTS_FILE} was counted under manifest {counted_under}, "
                          f"but {MANIFEST_FILE} has {claimed}")
    state.results_by_district = results_districts(state.results)
    seed = state.manifest["cycle"]["tie_break_seed"]
    if state.results.get("tie_break_seed") != seed:
        raise CheckFailed(f"{RESULTS_FILE} used tie-break seed "
                          f"{state.results.get('tie_break_seed')!r}, the manifest has {seed!r}")
    if set(state.results_by_district) != set(state.districts):
        raise CheckFailed(f"{RESULTS_FILE} has districts {sorted(state.results_by_district)}, "
                          f"the manifest has {sorted(state.districts)}")
    counted = ("results.json was counted under it" if counted_under is not None
               else "results.json records no manifest hash")
    amended = check_transitions(state, claimed)
    return f"{claimed} ({len(state.districts)} districts; {counted}{amended})"
