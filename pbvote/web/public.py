"""Public pages: cycles, their phases, districts and projects."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template, url_for

from pbvote.infra.db import utcnow
from pbvote.models import Cycle
from pbvote.services import publication, transitions
from pbvote.services.cycles import get_cycle, list_cycles
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("public", __name__)
set_policy(bp.name, allow_anyone)


@dataclass(frozen=True)
class PublicStatus:
    """What the public pages say about where a cycle stands, true at every moment: once
    results are published the cycle is in its "published" phase for good (no end date)."""

    #: a phase kind, or None between phases
    kind: str | None
    voting_open: bool
    published_at: dt.datetime | None = None
    results_url: str | None = None
    #: voting took place and has ended
    voting_closed: bool = False

    @property
    def published(self) -> bool:
        return self.published_at is not None


def public_status(cycle: Cycle, now: dt.datetime | None = None) -> PublicStatus:
    now = now or utcnow()
    snapshot = publication.published_results(cycle)
    if snapshot is not None:
        return PublicStatus("published", False, snapshot.published_at,
                            url_for("results.page", slug=cycle.slug), True)
    phase = cycle.phase_at(now)
    kind = phase.kind if phase else None
    if kind in ("published",):  # its date came, but nothing is published yet
        kind = "tally"
    if kind == "voting" and not cycle.voting_open(now):
        kind = None  # the voting dates passed, but voting was never scheduled
    voting = cycle.phase_window("voting")
    closed = cycle.manifest_hash is not None and voting is not None and voting.ends_at <= now
    return PublicStatus(kind, cycle.voting_open(now), voting_closed=closed)


@bp.app_context_processor
def _status_helper():
    return {"public_status": public_status}


@bp.get("/")
def index():
    return render_template("public/index.html", cycles=list_cycles(), now=utcnow())


@bp.get("/cycles/<slug>")
def cycle(slug: str):
    cycle = get_cycle(slug)
    now = utcnow()
    status = public_status(cycle, now)
    window = cycle.phase_window("voting")
    return render_template("public/cycle.html", cycle=cycle, now=now, status=status,
                           voting_open=status.voting_open,
                           voting_closed=window is not None and now >= window.ends_at,
                           extensions=transitions.extensions(cycle))
