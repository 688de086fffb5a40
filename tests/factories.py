"""A small cycle with one district per ballot kind and known residents."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Phase, Project
from pbvote.services import log
from pbvote.services.roll import RollPerson, add_roll_entry, issue_access_codes
from pbvote.services.setup import store_manifest

BALLOT_SETUPS = {
    "approval": {"ballot_kind": "approval", "max_choices": 2, "budget": 100},
    "knapsack": {"ballot_kind": "knapsack", "budget": 100, "min_spend_percent": 50},
    "ranked": {"ballot_kind": "ranked", "max_choices": 3, "budget": 100},
    "cumulative": {"ballot_kind": "cumulative", "points": 10, "max_points_per_project": 6,
                   "budget": 100},
}
PROJECT_COSTS = {"A": 60, "B": 40, "C": 30, "D": 20}


@dataclass
class TestCycle:
    cycle_id: int
    slug: str
    people: dict[str, RollPerson]
    codes: dict[str, list[str]]


def make_cycle(slug: str = "test-cycle", voting: str = "open", codes_per_district: int = 2,
               minimum_age: int = 16, scheduled: bool | None = None) -> TestCycle:
    """voting: "open", "not_yet" or "closed" relative to now. `scheduled` (by default for an
    open or closed cycle) stores the manifest, as scheduling or opening voting does; an
    unscheduled cycle never opens, whatever its dates."""
    now = utcnow()
    day = dt.timedelta(days=1)
    start, end = {"open": (-1, 1), "not_yet": (1, 2), "closed": (-3, -2)}[voting]
    chain = log.get_or_create_chain(log.chain_name_for_cycle(slug))
    cycle = Cycle(slug=slug, name=f"Cycle {slug}", total_budget=400, timezone="UTC",
                  tie_break_seed="seed", minimum_age=minimum_age, chain_id=chain.id)
    cycle.phases = [Phase(kind="voting", starts_at=now + start * day, ends_at=now + end * day)]
    for position, (kind, setup) in enumerate(BALLOT_SETUPS.items()):
        district = District(slug=kind, name=kind.title(), position=position,
                            tally_params=canonical_json({}), **setup)
        district.projects = [
            Project(cycle=cycle, code=f"{kind[:2].upper()}-{code}", title=f"Project {code}",
                    cost=cost, position=i)
            for i, (code, cost) in enumerate(PROJECT_COSTS.items())
        ]
        cycle.districts.append(district)
    db.session.add(cycle)
    db.session.flush()
    people, codes = {}, {}
    for number, district in enumerate(cycle.districts, start=1):
        person = RollPerson(last_name=f"Tester{number}", birth_date=dt.date(1980, 1, number),
                            postcode=f"1000{number}", roll_number=f"R{number}")
        add_roll_entry(cycle, district, person)
        people[district.slug] = person
        codes[district.slug] = issue_access_codes(cycle, district, codes_per_district)
    young = RollPerson(last_name="Young", birth_date=now.date() - dt.timedelta(days=365 * 10),
                       postcode="10001", roll_number="R99")
    add_roll_entry(cycle, cycle.districts[0], young)
    people["young"] = young
    db.session.flush()
    if scheduled if scheduled is not None else voting != "not_yet":
        store_manifest(cycle)
        db.session.flush()
    return TestCycle(cycle.id, cycle.slug, people, codes)


def project_code(kind: str, letter: str) -> str:
    return f"{kind[:2].upper()}-{letter}"
