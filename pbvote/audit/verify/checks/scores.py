"""scores: every project's supporters and score, re-counted from the published ballots,
equal results.json."""
from __future__ import annotations

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import RESULTS_FILE
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import exact_json, tally_params
from pbvote.tally.registry import RULES, resolve_params


def check_scores(state: State) -> str:
    checked = 0
    for slug, district in state.districts.items():
        entry = state.results_by_district[slug]
        profile = state.profiles[slug]
        rule = district["tally"]["rule"]
        if rule not in RULES:
            raise CheckFailed(f"district {slug}: unknown rule {rule!r}")
        params = resolve_params(RULES[rule], tally_params(state.manifest, district))
        scoring_fn = params.get("scoring_fn") if profile.ballot_type == "ordinal" else None
        scores = {pid: exact_json(v) for pid, v in profile.scores(scoring_fn).items()}
        supporters = profile.supporters()
        published_supporters = {p["id"]: p["supporters"] for p in entry["projects"]}
        for pid in sorted(set(scores) | set(entry["scores"])):
            if entry["scores"].get(pid) != scores.get(pid):
                raise CheckFailed(f"district {slug}, project {pid}: the published ballots "
                                  f"give a score of {scores.get(pid)}, {RESULTS_FILE} says "
                                  f"{entry['scores'].get(pid)}")
            if published_supporters.get(pid) != supporters.get(pid):
                raise CheckFailed(f"district {slug}, project {pid}: the published ballots "
                                  f"give {supporters.get(pid)} supporters, {RESULTS_FILE} "
                                  f"says {published_supporters.get(pid)}")
        checked += len(scores)
    return f"{checked} projects' supporters and scores re-counted"
