"""Cycles with ballots already cast, for the tally, publication and embargo tests."""
from __future__ import annotations

import datetime as dt

from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import voting
from tests.factories import TestCycle, make_cycle, project_code

#: district kind → ballots (selections as cast_ballot takes them)
DEFAULT_BALLOTS = {
    "approval": [(project_code("approval", "A"), project_code("approval", "B"))] * 3
                + [(project_code("approval", "C"),)] * 2 + [(project_code("approval", "D"),)],
    "knapsack": [(project_code("knapsack", "A"), project_code("knapsack", "B"))] * 2
                + [(project_code("knapsack", "C"), project_code("knapsack", "D"))] * 3,
    "ranked": [(project_code("ranked", "C"), project_code("ranked", "A"))] * 3
              + [(project_code("ranked", "B"),)] * 2,
    "cumulative": [((project_code("cumulative", "A"), 6), (project_code("cumulative", "D"), 4))] * 2
                  + [((project_code("cumulative", "B"), 5), (project_code("cumulative", "C"), 5))],
}


def cast_ballots(made: TestCycle, ballots: dict[str, list],
                 moment: dt.datetime | None = None) -> None:
    """Cast each district's ballots with its access codes, at `moment` (default: now)."""
    cycle = db.session.get(Cycle, made.cycle_id)
    for kind, selections_list in ballots.items():
        district = cycle.district_by_slug(kind)
        codes = made.codes[kind]
        assert len(codes) >= len(selections_list), "make the cycle with more access codes"
        for code, selections in zip(codes, selections_list):
            voter = voting.verify_by_code(cycle, district, code, now=moment)
            voting.cast_ballot(voter, selections, now=moment)
    db.session.flush()


def cycle_with_ballots(voting_state: str = "closed", slug: str = "test-cycle",
                       ballots: dict[str, list] | None = None) -> TestCycle:
    """make_cycle(voting=voting_state) with `ballots` cast while voting was open."""
    ballots = DEFAULT_BALLOTS if ballots is None else ballots
    most = max((len(v) for v in ballots.values()), default=0)
    made = make_cycle(slug, voting=voting_state, codes_per_district=max(most, 2))
    moment = None
    if voting_state == "closed":
        window = db.session.get(Cycle, made.cycle_id).phase_window("voting")
        moment = window.starts_at + dt.timedelta(hours=1)
    cast_ballots(made, ballots, moment)
    return made
