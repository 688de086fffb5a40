"""Counting a district's stored ballots with the pure tally engine."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Ballot, District
from pbvote.rules import ballots as ballot_rules
from pbvote.tally import Instance, Outcome, Profile, run_rule

#: ballot design kind → the engine's ballot type
ENGINE_BALLOT_TYPES = {"approval": "approval", "knapsack": "approval", "ranked": "ordinal",
                       "cumulative": "cumulative"}


@dataclass(frozen=True)
class DistrictElection:
    instance: Instance
    profile: Profile
    rule: str
    params: dict


def district_instance(district: District) -> Instance:
    return Instance.from_plain(budget=district.budget, projects=[
        {"id": p.code, "cost": p.cost, "name": p.title} for p in district.projects])


def stored_selections(district: District) -> list:
    """Every ballot of the district as canonical selections, in random-id order."""
    design = district.ballot_design()
    rows = db.session.connection().execute(
        select(Ballot.selections).where(Ballot.district_id == district.id)
        .order_by(Ballot.id)).scalars()  # plain rows: no ORM processing per ballot
    decoded: dict[str, tuple] = {}  # a city's ballots repeat: decode each distinct text once
    selections = []
    for text in rows:
        found = decoded.get(text)
        if found is None:
            found = decoded[text] = ballot_rules.selections_from_json(design, json.loads(text))
        selections.append(found)
    return selections


def district_election(district: District, selections: list | None = None) -> DistrictElection:
    """The engine's instance and profile for a district, with the tie seed of its cycle."""
    instance = district_instance(district)
    if selections is None:
        selections = stored_selections(district)
    kind = district.ballot_kind
    if kind == "ranked":
        profile = Profile.ordinal(instance, selections, max_length=district.max_choices)
    elif kind == "cumulative":
        profile = Profile.cumulative(instance, [dict(s) for s in selections])
    else:
        profile = Profile.approval(instance, selections)
    params = {"tie_seed": district.cycle.tie_break_seed, **district.tally_parameters}
    return DistrictElection(instance, profile, district.tally_rule, params)


def count_district(district: District) -> Outcome:
    election = district_election(district)
    return run_rule(election.instance, election.profile, election.rule, election.params)
