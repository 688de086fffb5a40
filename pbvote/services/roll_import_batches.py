"""The writes of a voter-roll import applied in short transactions (the import job).

Applied in one transaction, a 1.6-million-row roll held SQLite's single write lock for the
whole import, and ballots waited up to 50 s. The job (roll_import_job) therefore checks the
whole file first, writing nothing, and then applies it in batches, each its own short
transaction: removals first, then the file's added and changed rows in file order, then
one last step with the key fingerprint and the log entry. Between two batches the lock is
free and waiting ballots go in.

Each batch locks the entries it changes or removes (their access codes first, the order in
which casting takes them) and asks again who of them has voted: a person who voted after the
check is kept as they are, as the import keeps everyone who voted. A batch commits together
with the job's checkpoint, so a job resumed after its worker died continues after the last
committed batch and never applies one twice.

While a job applies an import, `running_import` names it, and every other import of that
cycle (another job, the web form's small imports, the command line) is refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, District, Job, Participation, RollEntry
from pbvote.services.errors import DomainError
from pbvote.services.roll_import import (
    IDENTITY_AT,
    SQLITE_IMPORT_CACHE_KIB,
    RowChanges,
    _insert_rows,
    _release_codes_of_removed,
    _void_codes_of_moving,
)

#: file rows per transaction. On SQLite, into a roll of 400,000 on a shared, loaded machine
#: (benchmarks/import_during_voting.py): 500 rows took 112 ms (median), 232 ms at most, and
#: the cast p99 was 191 ms; 2,000 rows took 383 ms (median) and the cast p99 was 685 ms
APPLY_BATCH_ROWS = 500
#: removed entries per transaction
REMOVE_BATCH_ROWS = 500
JOB_KIND = "roll.import"
#: the checkpoint phases in which a job holds the cycle's roll (see running_import)
HOLDING_PHASES = ("check", "remove", "rows", "finish")
#: fields a re-key leaves as they are for a person who has voted
KEPT_FOR_VOTERS = ("identity_hash", "district_id", "birth_date")


class ImportRunning(DomainError):
    def __init__(self):
        super().__init__(_("Another voter-roll import of this cycle is being applied. Wait "
                           "until its progress page says it is done; nothing was imported."),
                         409)


def running_import(cycle_id: int, other_than: str | None = None) -> str | None:
    """The id of a job that holds this cycle's roll (it checks or applies an import), or
    None. A job whose worker died keeps holding it until it is resumed and done."""
    found = db.session.execute(select(Job.id, Job.checkpoint).where(
        Job.kind == JOB_KIND, Job.cycle_id == cycle_id, Job.status == "running")).all()
    for job_id, checkpoint in found:
        if job_id != other_than and json.loads(checkpoint or "{}").get("phase") in \
                HOLDING_PHASES:
            return job_id
    return None


class RollBeingImported(DomainError):
    """Refuses what must not happen to a roll an import job holds (see running_import)."""


def refuse_if_running(cycle: Cycle) -> None:
    """Called by every import with the cycle's row locked."""
    if running_import(cycle.id) is not None:
        raise ImportRunning()


def lock_cycle(cycle_id: int) -> None:
    # the lock imports and codes.issue_codes_for_roll take, so a check-and-mark is atomic
    db.session.scalar(for_update(select(Cycle.id).where(Cycle.id == cycle_id)))


def large_sqlite_cache() -> None:
    """SQLite: the hash indexes of a large roll take random inserts, which thrash the
    default 2 MB page cache; the job's connection keeps them in memory (roll_import's
    one-transaction apply does the same)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")


def checkpoint_sqlite_wal() -> None:
    """SQLite: copy the pages a batch wrote from the write-ahead log into the database now,
    while no write lock is held. Otherwise the next ballot's commit would do it (SQLite's
    auto-checkpoint, past 1,000 pages), megabytes of the import's pages, with every other
    ballot waiting behind it; a checkpoint under way makes that one skip its own."""
    if db.engine.dialect.name != "sqlite":
        return
    connection = db.engine.raw_connection()  # autocommit (isolation_level None): no BEGIN
    try:
        connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        connection.close()


def _lock_and_find_voters(cycle_id: int, entry_ids: list[int]) -> set[int]:
    """Lock the entries (their access codes first, as casting with a code does) and return
    the ids of those whose person has voted."""
    if not entry_ids:
        return set()
    db.session.execute(for_update(select(AccessCode.id).where(
        AccessCode.roll_entry_id.in_(entry_ids)))).all()
    rows = db.session.execute(for_update(select(
        RollEntry.id, RollEntry.district_id, RollEntry.identity_hash).where(
        RollEntry.id.in_(entry_ids)))).all()
    if not rows:
        return set()
    # by the participation's unique index (cycle, district, identity), any district
    district_ids = set(db.session.scalars(select(District.id).where(
        District.cycle_id == cycle_id)))
    voted = set(db.session.scalars(select(Participation.identity_hash).where(
        Participation.cycle_id == cycle_id, Participation.district_id.in_(district_ids),
        Participation.identity_hash.in_({identity for _id, _d, identity in rows}))))
    return {entry_id for entry_id, _district, identity in rows if identity in voted}


@dataclass
class BatchResult:
    removed: int = 0
    #: planned removals or changes of people who voted since the check: kept as they are
    kept_voted: int = 0
    codes_voided: int = 0


def remove_entries(cycle_id: int, entry_ids: list[int]) -> BatchResult:
    """Remove these entries but those whose person has voted; void their unused codes."""
    voters = _lock_and_find_voters(cycle_id, entry_ids)
    removable = [entry_id for entry_id in entry_ids if entry_id not in voters]
    result = BatchResult(kept_voted=len(voters))
    if removable:
        result.codes_voided = _release_codes_of_removed(removable)
        result.removed = db.session.execute(
            delete(RollEntry).where(RollEntry.id.in_(removable))
            .execution_options(synchronize_session=False)).rowcount
    return result


def write_rows(cycle_id: int, changes: RowChanges) -> BatchResult:
    """Write one batch of the file's added, changed and re-keyed rows."""
    result = BatchResult()
    updates = changes.updates
    partial_lists = [list(partial) for partial in changes.partial_updates]
    voters = _lock_and_find_voters(cycle_id, [change["id"] for change in updates])
    if voters:
        kept = [change for change in updates if change["id"] in voters]
        updates = [change for change in updates if change["id"] not in voters]
        if changes.rekey:
            # a re-key still rewrites a voter's hashes, keeping their identity
            partial_lists.append([{key: value for key, value in change.items()
                                   if key not in KEPT_FOR_VOTERS} for change in kept])
        else:
            result.kept_voted = len(kept)
    if updates:
        result.codes_voided = _void_codes_of_moving(updates)
        db.session.execute(update(RollEntry), updates)
    for partial in partial_lists:
        if partial:
            db.session.execute(update(RollEntry), partial)
    if changes.inserts:
        _insert_rows(sorted(changes.inserts, key=lambda values: values[IDENTITY_AT]))
    return result
