"""Reading cycles and building their manifest."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services.errors import NotFound


def get_cycle(slug: str) -> Cycle:
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == slug))
    if cycle is None:
        raise NotFound(_("There is no budget cycle at this address."))
    return cycle


def list_cycles(include_archived: bool = False) -> list[Cycle]:
    """Newest first; archived cycles only when asked for (staff and auditors)."""
    query = select(Cycle).order_by(Cycle.created_at.desc())
    if not include_archived:
        query = query.where(Cycle.archived_at.is_(None))
    return list(db.session.scalars(query))


def build_manifest(cycle: Cycle) -> dict:
    """Everything that decides how ballots are cast and counted, as plain data.

    Online self-declaration is listed only when the cycle switches it on, so the manifests
    (and hashes) of cycles without it are those they always had."""
    manifest = {
        "cycle": {
            "slug": cycle.slug, "name": cycle.name, "city": cycle.city_name,
            "currency": cycle.currency, "total_budget": cycle.total_budget,
            "timezone": cycle.timezone, "tie_break_seed": cycle.tie_break_seed,
        },
        "eligibility": {
            "minimum_age": cycle.minimum_age, "methods": sorted(cycle.method_list),
            "self_declared_residence": cycle.self_declared_allowed,
        },
        "phases": [
            {"kind": p.kind, "starts_at": p.starts_at.isoformat(), "ends_at": p.ends_at.isoformat()}
            for p in sorted(cycle.phases, key=lambda p: p.starts_at)
        ],
        "districts": [
            {
                "slug": d.slug, "name": d.name, "budget": d.budget,
                "ballot": {
                    "kind": d.ballot_kind, "max_choices": d.max_choices,
                    "min_choices": d.min_choices, "min_spend_percent": d.min_spend_percent,
                    "points": d.points, "max_points_per_project": d.max_points_per_project,
                },
                "tally": {"rule": d.tally_rule, "params": d.tally_parameters},
                "projects": [
                    {"id": p.code, "title": p.title, "cost": p.cost, "category": p.category}
                    for p in d.projects
                ],
            }
            for d in cycle.districts
        ],
    }
    if cycle.online_self_declaration:
        manifest["eligibility"]["online_self_declaration"] = True
    return manifest


def manifest_hash(cycle: Cycle) -> str:
    return hashlib.sha256(canonical_json(build_manifest(cycle)).encode("utf-8")).hexdigest()
