"""Random valid ballots, for demos, load tests and audit tests."""
from __future__ import annotations

import random

from pbvote.rules import ballots


def random_selections(design: ballots.BallotDesign, costs: dict[str, int], rng: random.Random):
    """A ballot that passes validate_ballot, drawn from `rng`; None if the design allows none."""
    codes = sorted(costs)
    for _ in range(50):
        candidate = _draw(design, costs, codes, rng)
        if candidate is not None and not ballots.validate_ballot(design, costs, candidate):
            return candidate
    return None


def _draw(design, costs, codes, rng):
    limit = design.max_choices or len(codes)
    if design.kind == "approval":
        size = rng.randint(max(1, design.min_choices), min(limit, len(codes)))
        return tuple(sorted(rng.sample(codes, size)))
    if design.kind == "ranked":
        size = rng.randint(max(1, design.min_choices), min(limit, len(codes)))
        return tuple(rng.sample(codes, size))
    if design.kind == "knapsack":
        order = codes[:]
        rng.shuffle(order)
        chosen, spent = [], 0
        for code in order:
            if spent + costs[code] <= design.budget and (not chosen or rng.random() < 0.7):
                chosen.append(code)
                spent += costs[code]
        return tuple(sorted(chosen))
    if design.kind == "cumulative":
        cap = design.max_points_per_project or design.points
        spread: dict[str, int] = {}
        for _ in range(rng.randint(1, design.points)):
            code = rng.choice(codes)
            if spread.get(code, 0) < cap:
                spread[code] = spread.get(code, 0) + 1
        return tuple(sorted(spread.items()))
    return None
