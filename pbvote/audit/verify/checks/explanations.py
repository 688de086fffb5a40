"""explanations: every figure the results page explains a count with (results.json's
'analysis' per district) equals the analysis recomputed from the verifier's own re-count."""
from __future__ import annotations

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import RESULTS_FILE
from pbvote.audit.verify.report import CheckFailed, short
from pbvote.tally.analysis import analyse


def first_difference(published, derived, path: str = "") -> str | None:
    """The path of the first figure that differs (dict keys in order), or None."""
    if isinstance(published, dict) and isinstance(derived, dict):
        for key in sorted(set(published) | set(derived)):
            if key not in published or key not in derived:
                return f"{path}/{key}"
            found = first_difference(published[key], derived[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(published, list) and isinstance(derived, list):
        if len(published) != len(derived):
            return f"{path} (length)"
        for index, (a, b) in enumerate(zip(published, derived)):
            found = first_difference(a, b, f"{path}/{index}")
            if found:
                return found
        return None
    if type(published) is not type(derived) or published != derived:
        return path or "/"
    return None


def _at(value, path: str):
    for part in path.split(" ")[0].strip("/").split("/"):
        if not part:
            continue
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def check_explanations(state: State) -> str:
    parts = []
    for slug, (instance, profile, outcome) in state.recounts.items():
        published = state.results_by_district[slug].get("analysis")
        if published is None:
            raise CheckFailed(f"district {slug}: {RESULTS_FILE} has no 'analysis'")
        derived = analyse(instance, profile, outcome)
        where = first_difference(published, derived)
        if where is not None:
            raise CheckFailed(f"district {slug}: analysis{where} is {short(_at(published, where))} "
                              f"in {RESULTS_FILE}; recomputed: {short(_at(derived, where))}")
        parts.append(f"{slug} ({len(derived['projects'])} projects)")
    return "every explanation figure recomputed: " + "; ".join(parts)
