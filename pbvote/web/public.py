"""Public pages: cycles, their phases, districts and projects."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for
from flask_login import current_user

from pbvote.infra.db import utcnow
from pbvote.models import Cycle, Project
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


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every site; answer with the icon, not a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


def find_project(cycle: Cycle, code: str) -> Project:
    """The cycle's ballot project with this code, else 404."""
    found = next((p for d in cycle.districts for p in d.projects if p.code == code), None)
    if found is None:
        abort(404)
    return found


@bp.get("/cycles/<slug>/projects/<code>")
def project(slug: str, code: str, error: str | None = None, typed: dict | None = None):
    """One ballot project: its texts, cost, place and image, the ideas it came from, once
    results are published how it fared and why, and residents' discussion of it."""
    from pbvote.services import discussion, proposals, publication
    from pbvote.web.forms.vote import CsrfOnlyForm
    from pbvote.web.results import snapshot_page_data

    cycle = get_cycle(slug)
    found = find_project(cycle, code)
    result = None
    snapshot = publication.published_results(cycle)
    if snapshot is not None:
        for district in snapshot_page_data(snapshot)["districts"]:
            result = next((p for p in district.projects if p.id == code), result)
    return render_template("public/project.html", cycle=cycle, project=found,
                           ideas=proposals.idea_links(cycle).get(found.id, []), result=result,
                           voting_open=cycle.voting_open(utcnow()),
                           comments=discussion.visible_project_comments(found),
                           comment_form=CsrfOnlyForm(), comment_error=error, typed=typed or {},
                           signed_in_resident=current_user.is_authenticated
                           and current_user.has_role("resident"))
