"""Archiving and deleting a draft cycle: one whose voting never opened.

A draft made by mistake or abandoned can be archived (it leaves the public home page and the
open-data list; staff still see it, marked, and can bring it back) or deleted for good. Once
voting has opened, neither: its ballots, log and manifest are the record. A cycle that
residents sent ideas to can be archived but not deleted, so their ideas are kept. Each step
is appended to the cycle's hash chain, which outlives a deleted cycle.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Project, Proposal
from pbvote.services import log
from pbvote.services.errors import DomainError
from pbvote.services.setup import voting_has_opened


class DraftOnly(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 409)


def is_draft(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    return not voting_has_opened(cycle, now)


def _require_draft(cycle: Cycle, now: dt.datetime | None, what: str) -> None:
    if not is_draft(cycle, now):
        raise DraftOnly(what)


def archive_cycle(cycle: Cycle, actor: str, now: dt.datetime | None = None) -> None:
    _require_draft(cycle, now, _("Voting has opened for this cycle, so it can't be archived: "
                                 "its ballots and log are the public record."))
    if cycle.archived_at is not None:
        raise DraftOnly(_("This cycle is already archived."))
    cycle.archived_at = now or utcnow()
    db.session.flush()
    log.record_action(cycle.chain_id, "cycle.archived", actor, {"cycle": cycle.slug})


def restore_cycle(cycle: Cycle, actor: str) -> None:
    if cycle.archived_at is None:
        raise DraftOnly(_("This cycle is not archived."))
    cycle.archived_at = None
    db.session.flush()
    log.record_action(cycle.chain_id, "cycle.restored", actor, {"cycle": cycle.slug})


def delete_draft_cycle(cycle: Cycle, actor: str, now: dt.datetime | None = None) -> list[str]:
    """Delete a cycle whose voting never opened, with its districts, phases, projects, roll
    and access codes. Returns the file names of its project images, to remove once the
    deletion is committed."""
    _require_draft(cycle, now, _("Voting has opened for this cycle, so it can't be deleted: "
                                 "its ballots and log are the public record."))
    if db.session.scalar(select(exists().where(Proposal.cycle_id == cycle.id))):
        raise DraftOnly(_("Residents sent ideas to this cycle, so it can't be deleted; archive "
                          "it instead, which keeps their ideas."))
    images = [name for name in db.session.scalars(
        select(Project.image_name).where(Project.cycle_id == cycle.id)) if name]
    chain_id, slug, name = cycle.chain_id, cycle.slug, cycle.name
    db.session.expunge(cycle)
    # the database cascades to districts, phases, projects, the roll and codes
    db.session.execute(delete(Cycle).where(Cycle.id == cycle.id))
    db.session.flush()
    log.record_action(chain_id, "cycle.deleted", actor, {"cycle": slug, "name": name})
    return images
