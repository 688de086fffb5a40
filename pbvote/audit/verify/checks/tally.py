"""tally: a fresh count of the published ballots equals results.json and the Pabulib files'
'selected' column."""
from __future__ import annotations

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import RESULTS_FILE
from pbvote.audit.verify.report import CheckFailed, short
from pbvote.audit.verify.shared import tally_params
from pbvote.tally import TallyInputError, run_rule


def check_tally(state: State) -> str:
    parts = []
    for slug, district in state.districts.items():
        profile = state.profiles[slug]
        instance = profile.instance
        try:
            recount = run_rule(instance, profile, district["tally"]["rule"],
                               tally_params(state.manifest, district))
            outcome = recount.to_dict()
        except TallyInputError as exc:
            raise CheckFailed(f"district {slug}: the count cannot be repeated: {exc}") from None
        published = state.results_by_district[slug]["outcome"]
        for key in ("rule", "selected", "total_cost", "budget", "params", "trace", "ties"):
            if published[key] != outcome[key]:
                raise CheckFailed(f"district {slug}: the re-count gives {key} = "
                                  f"{short(outcome[key])}, {RESULTS_FILE} says "
                                  f"{short(published[key])}")
        if slug in state.pb_selected and state.pb_selected[slug][1] != set(outcome["selected"]):
            name, flagged = state.pb_selected[slug]
            raise CheckFailed(f"{name}: the projects marked selected {sorted(flagged)} are "
                              f"not the re-counted selection")
        state.recounts[slug] = (instance, profile, recount)
        parts.append(f"{slug} [{', '.join(outcome['selected'])}]")
    return "re-count matches: " + "; ".join(parts)
