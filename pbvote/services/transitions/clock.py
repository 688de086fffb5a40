"""Scheduling voting, extending it, and the transitions the clock makes."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.rules.ballots import Reason
from pbvote.services import log
from pbvote.services.errors import DomainError
from pbvote.services.transitions.snapshot import EXTENSION_KIND, chain_records

#: phases that come after voting and move with its end
LATER_PHASES = ("tally", "published")


def _phases(cycle: Cycle) -> dict:
    return {p.kind: [p.starts_at.isoformat(), p.ends_at.isoformat()] for p in cycle.phases}


def schedule_voting(cycle: Cycle, actor: str, now: dt.datetime | None = None) -> str:
    """Freeze the configuration and store the manifest now; the voting phase's start date
    then opens voting by the clock. Returns the manifest hash."""
    from pbvote.services import setup
    from pbvote.services.transitions import require_ready

    now = now or utcnow()
    require_ready(cycle, "open", now)
    voting = cycle.phase_window("voting")
    if voting.starts_at <= now:
        raise DomainError(_("The voting phase's start is already past: open voting now, or "
                            "set a later start to schedule it."), 409,
                          [Reason("voting_starts_at", "start_past", _(
                              "The voting phase's start is already past."))])
    setup.store_manifest(cycle)
    db.session.flush()
    log.record_action(cycle.chain_id, "voting.scheduled", actor, {
        "cycle": cycle.slug, "manifest_hash": cycle.manifest_hash,
        "opens_at": voting.starts_at.isoformat(), "closes_at": voting.ends_at.isoformat()})
    return cycle.manifest_hash


def extensions(cycle: Cycle) -> list[dict]:
    """Every later end of voting, in order: {"before", "after", "reason", "actor", "at"}."""
    return chain_records(cycle, EXTENSION_KIND)


class ExtensionRefused(DomainError):
    def __init__(self, message: str, status: int = 409, field: str = "ends_at"):
        super().__init__(message, status, [Reason(field, "extension_refused", message)])


def extend_voting(cycle: Cycle, actor, new_end: dt.datetime, reason: str,
                  now: dt.datetime | None = None) -> None:
    """An administrator moves the end of open voting later (never earlier), with a reason;
    the tally and publication phases move by the same time. Logged to the chain."""
    now = now or utcnow()
    if actor is None or not actor.has_role("admin"):
        raise ExtensionRefused(_("Only an administrator may extend voting."), 403, "")
    if not cycle.voting_open(now):
        raise ExtensionRefused(_("Voting can be extended only while it is open."), 409, "")
    reason = (reason or "").strip()
    if not reason:
        raise ExtensionRefused(_("Give the reason for extending voting; it is published."),
                               422, "reason")
    voting = cycle.phase_window("voting")
    if new_end is None or new_end <= voting.ends_at:
        raise ExtensionRefused(_("The new end must be later than the current end of voting; "
                                 "voting can be extended, never shortened."), 422)
    before = _phases(cycle)
    shift = new_end - voting.ends_at
    old_end = voting.ends_at
    voting.ends_at = new_end
    for phase in sorted(cycle.phases, key=lambda p: p.starts_at, reverse=True):
        if phase.kind in LATER_PHASES and phase.starts_at >= old_end:
            phase.starts_at, phase.ends_at = phase.starts_at + shift, phase.ends_at + shift
    db.session.flush()
    log.record_action(cycle.chain_id, EXTENSION_KIND, actor.label, {
        "cycle": cycle.slug, "reason": reason, "manifest_hash": cycle.manifest_hash,
        "voting_ends_before": old_end.isoformat(), "voting_ends_after": new_end.isoformat(),
        "before": before, "after": _phases(cycle)})


def unscheduled_but_due(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    """The voting phase's start has passed, but nobody scheduled or opened voting."""
    voting = cycle.phase_window("voting")
    return cycle.manifest_hash is None and voting is not None \
        and voting.starts_at <= (now or utcnow())


def _logged(cycle: Cycle, kind: str) -> bool:
    return bool(chain_records(cycle, kind))


def due_transitions(now: dt.datetime | None = None) -> list[str]:
    """What the clock did since the last run, recorded in each cycle's chain once: voting
    opened or closed at its dates. A cycle whose start passed unscheduled stays closed and
    is reported. Returns one line per cycle touched (for cron's mail)."""
    now = now or utcnow()
    lines = []
    for cycle in db.session.scalars(select(Cycle).order_by(Cycle.slug)):
        voting = cycle.phase_window("voting")
        if voting is None:
            continue
        if unscheduled_but_due(cycle, now):
            # English: the cron command's report, like the rest of the CLI
            lines.append(f"{cycle.slug}: not opened, voting was never scheduled")
            continue
        if cycle.manifest_hash is None:
            continue
        if voting.starts_at <= now and not _logged(cycle, "voting.opened"):
            log.record_action(cycle.chain_id, "voting.opened", "schedule", {
                "how": "by date", "cycle": cycle.slug, "manifest_hash": cycle.manifest_hash,
                "at_date": voting.starts_at.isoformat()})
            # English: the cron command's report, like the rest of the CLI
            lines.append(f"{cycle.slug}: voting opened at {voting.starts_at.isoformat()}")
        if voting.ends_at <= now and not _logged(cycle, "voting.closed"):
            log.record_action(cycle.chain_id, "voting.closed", "schedule", {
                "how": "by date", "cycle": cycle.slug, "at_date": voting.ends_at.isoformat()})
            # English: the cron command's report, like the rest of the CLI
            lines.append(f"{cycle.slug}: voting closed at {voting.ends_at.isoformat()}")
    db.session.flush()
    return lines
