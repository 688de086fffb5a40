"""Project scores for greedy (utilitarian) rules.

approval: number of approving voters; cumulative/scoring: total points;
ordinal: the scoring function's points (Borda over the ballot length, Dowdall, or a list).
"""
from __future__ import annotations

from ..exact import Number
from ..instance import Instance, Profile


def project_scores(instance: Instance, profile: Profile, scoring_fn: str | None = None) -> dict[str, Number]:
    return profile.scores(scoring_fn if profile.ballot_type == "ordinal" else None)


def score_label(profile: Profile) -> str:
    return {"approval": "votes", "ordinal": "points", "cumulative": "points", "scoring": "points"}[
        profile.ballot_type]
