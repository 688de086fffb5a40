"""Raise `cycle.config_revision` whenever a cycle, its phases, districts or projects change.

App processes cache a cycle's configuration (pbvote.services.voting.voting_cycle) and compare
one integer per request to know the cache is still right. Bumping in the ORM's flush, inside
the same transaction as the change, covers every service without each one remembering to.
"""
from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from pbvote.models.cycle import Cycle, District, Phase, Project

_CONFIGURATION = (District, Phase, Project)


def _cycle_ids(objects) -> set[int]:
    ids: set[int] = set()
    for obj in objects:
        if isinstance(obj, Cycle):
            ids.add(obj.id)
        elif isinstance(obj, _CONFIGURATION):
            ids.add(obj.cycle_id)
    ids.discard(None)
    return ids


@event.listens_for(Session, "before_flush")
def _note_changed_cycles(session: Session, flush_context, instances) -> None:
    # Changed and deleted rows still exist here, so reading an expired cycle_id is safe.
    session.info.setdefault("changed_cycle_ids", set()).update(
        _cycle_ids((*session.dirty, *session.deleted)))


@event.listens_for(Session, "after_flush")
def _bump_config_revision(session: Session, flush_context) -> None:
    # New rows have their cycle_id only once they are inserted.
    ids = session.info.pop("changed_cycle_ids", set()) | _cycle_ids(session.new)
    if ids:
        table = Cycle.__table__
        session.connection().execute(update(table).where(table.c.id.in_(sorted(ids)))
                                     .values(config_revision=table.c.config_revision + 1))
