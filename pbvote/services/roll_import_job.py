"""A voter-roll import from the web, run as a job with progress (services/jobs).

The job moves through phases, each recorded in its checkpoint together with the work it
committed, so a job whose worker died resumes where it stopped:

1. "check": the whole file is read and compared with the stored roll, and the result must
   be the preview the clerk confirmed. Nothing is written but the progress bar, so a bad
   row, a stale preview or a removal not confirmed fails the job with the roll unchanged.
2. "remove": the entries the file no longer lists are removed, a batch per transaction.
3. "rows": the file's added and changed rows are written, a batch per transaction, in file
   order; the checkpoint keeps the last line written.
4. "finish": the identity-key fingerprint and the "roll.imported" log entry, with the counts
   of what was done, commit together with the job's end.

Between two batches SQLite's write lock is free and ballots are cast (roll_import_batches).
From the check on, the job holds the cycle's roll: any other import of it is refused.
Once the check has passed, an import is carried forward, never undone: a job whose worker
died resumes after its last committed batch, and one that fails on an unexpected error is
tried again (max_attempts) from there. That holds after voting closes too: an import whose
check passed while voting was open finishes, so the roll is the one the city confirmed
(voting cannot be closed by hand meanwhile, setup.close_voting, but its window can end).
A check that ends after the close fails the job, the roll unchanged.
Everyone on the new roll can vote from the moment their batch commits; a resident whose
entry is removed or changed can vote under the old entry until its batch commits, and anyone
who has voted by then is kept as they are.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from pbvote.i18n_hook import _, n_
from pbvote.infra.db import reads_first, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import jobs, log, roll_import
from pbvote.services import roll_import_batches as batches
from pbvote.services.keys import (
    check_identity_key,
    identity_key_changed_after_votes,
    identity_key_fingerprint,
)

KIND = batches.JOB_KIND
#: an unexpected error (a lost connection) is tried again from the last checkpoint
MAX_ATTEMPTS = 3


def enqueue_import(cycle: Cycle, token: str, mapping: dict, fingerprint: str,
                   confirmed_removals: int | None, actor: str, locale: str) -> str:
    """Refuse at once what can be refused at once, then enqueue; returns the job's id."""
    roll_import.refuse_if_closed(cycle)
    if roll_import.stash_path(token, str(cycle.id)) is None:
        raise jobs.JobFailed(_("The uploaded file is gone; upload it again."), 404)
    return jobs.enqueue(KIND, {"cycle_id": cycle.id, "token": token, "mapping": mapping,
                               "fingerprint": fingerprint,
                               "confirmed_removals": confirmed_removals, "actor": actor,
                               "locale": locale}, created_by=actor, cycle_id=cycle.id)


@jobs.register(KIND, max_attempts=MAX_ATTEMPTS)
def import_roll(ctx: jobs.JobContext) -> str:
    payload = ctx.payload
    with jobs.in_requesters_language(payload):
        return _import(ctx, payload)


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """SQLite: the job's reads (the stored roll, a million rows) begin a plain transaction,
    so they neither wait for nor hold the write lock that ballots queue on."""
    db.session.commit()  # ends the current transaction, which wrote nothing since its step
    with reads_first():
        yield


@contextlib.contextmanager
def _writing(cycle_id: int) -> Iterator[None]:
    """One short write transaction, with the cycle's row locked; the caller's ctx.step
    commits it."""
    db.session.commit()  # ends a read transaction: SQLite cannot turn it into a write
    with write_intent():
        batches.lock_cycle(cycle_id)
        batches.large_sqlite_cache()
        yield
    batches.checkpoint_sqlite_wal()


def _import(ctx: jobs.JobContext, payload: dict) -> str:
    cycle = jobs.cycle_of(payload)
    cycle_id = cycle.id
    path = roll_import.stash_path(payload["token"], str(cycle_id))
    if path is None:
        raise jobs.JobFailed(_("The uploaded file is gone; upload it again."))
    size = max(1, path.stat().st_size)
    mapping = payload.get("mapping") or None
    state = dict(ctx.checkpoint)
    if state.get("phase") not in (*batches.HOLDING_PHASES, "done"):
        with _writing(cycle_id):
            roll_import.refuse_if_closed(cycle)
            if batches.running_import(cycle_id, other_than=ctx.job_id) is not None:
                raise batches.ImportRunning()
            ctx.set_total(2 * size)  # checking the file, then applying it
            state = {"phase": "check", "started": time.time()}
            ctx.step(0, state)

    removable: list[int] | None = None
    if state["phase"] in ("check", "remove"):
        # resumed in "remove", the check passed before any close: finish the import
        plan = _check(ctx, cycle_id, path, mapping, size,
                      refuse_closed=state["phase"] == "check")
        if state["phase"] == "check":
            _refuse_unless_confirmed(plan, payload)
            state.update(phase="remove", file_sha256=plan.file_sha256, before=plan.before,
                         rows=plan.rows, planned_removals=plan.removed,
                         kept_unlisted=plan.kept_voted_unlisted, row_counts={},
                         kept_removals=0, kept_changes=0, codes_voided=0)
            with _writing(cycle_id):
                # the check passes only if voting is still open as it ends
                roll_import.refuse_if_closed(db.session.get(Cycle, cycle_id))
                ctx.step(size, state)
        removable = plan.removable_ids  # after a resume: those not removed yet

    if state["phase"] == "remove":
        for start in range(0, len(removable), batches.REMOVE_BATCH_ROWS):
            with _writing(cycle_id):
                done = batches.remove_entries(
                    cycle_id, removable[start:start + batches.REMOVE_BATCH_ROWS])
                state["kept_removals"] += done.kept_voted
                state["codes_voided"] += done.codes_voided
                ctx.step(size, state)
        state.update(phase="rows", line=0)
        with _writing(cycle_id):
            ctx.step(size, state)

    if state["phase"] == "rows":
        _write_rows(ctx, cycle_id, path, mapping, size, state)
        state["phase"] = "finish"
        with _writing(cycle_id):
            ctx.step(2 * size - 1, state)

    if state["phase"] == "finish":
        with _writing(cycle_id):
            _finish(db.session.get(Cycle, cycle_id), payload, state)
            state["phase"] = "done"
            ctx.step(2 * size, state)  # the log entry commits with the job's progress
    roll_import.discard_stash(payload["token"], str(cycle_id))
    return _summary(state)


def _check(ctx: jobs.JobContext, cycle_id: int, path, mapping, size: int,
           refuse_closed: bool = True) -> roll_import.RollPlan:
    read = 0

    def checked(count: int) -> None:
        nonlocal read
        read += count
        with _writing(cycle_id):
            ctx.step(min(read, size))

    with _reading():
        plan = roll_import.plan_import(db.session.get(Cycle, cycle_id), path, mapping,
                                       progress=checked, refuse_closed=refuse_closed)
    if not plan.ok:
        raise roll_import.RollFileInvalid(plan)
    return plan


def _refuse_unless_confirmed(plan: roll_import.RollPlan, payload: dict) -> None:
    if plan.fingerprint() != payload.get("fingerprint"):
        raise roll_import.RollChangedSincePreview()
    confirmed = payload.get("confirmed_removals")
    if plan.removal_needs_confirmation and confirmed != plan.removed:
        raise roll_import.RemovalNotConfirmed(plan.removed, plan.before)


def _write_rows(ctx: jobs.JobContext, cycle_id: int, path, mapping, size: int,
                state: dict) -> None:
    read = 0

    def counted(count: int) -> None:
        nonlocal read
        read += count

    def write(changes: roll_import.RowChanges, last_line: int) -> None:
        with _writing(cycle_id):
            done = batches.write_rows(cycle_id, changes)
            state["kept_changes"] += done.kept_voted
            state["codes_voided"] += done.codes_voided
            for kind, number in changes.counts.items():
                state["row_counts"][kind] = state["row_counts"].get(kind, 0) + number
            state["line"] = last_line
            ctx.step(size + min(read, size - 1), state)

    with _reading():
        roll_import.apply_in_batches(
            db.session.get(Cycle, cycle_id), path, mapping,
            roll_import.RowBatches(write, batches.APPLY_BATCH_ROWS, state["line"]),
            progress=counted)


def final_counts(state: dict) -> dict:
    """What the import did, as RollPlan.counts: the rows as the batches found them, the
    removals the check planned, and as kept because already voted also the removals and
    changes of people who voted while the import was applied."""
    rows = state["row_counts"]
    counts = {"rows": state["rows"], "added": rows.get("added", 0),
              "changed": rows.get("changed", 0) - state["kept_changes"],
              "unchanged": rows.get("unchanged", 0),
              "removed": state["planned_removals"] - state["kept_removals"],
              "kept_voted": (state["kept_unlisted"] + rows.get("kept_voted", 0)
                             + state["kept_removals"] + state["kept_changes"])}
    if rows.get("rekeyed"):
        counts["rekeyed"] = rows["rekeyed"]
    return counts


def _finish(cycle: Cycle, payload: dict, state: dict) -> None:
    if identity_key_changed_after_votes(cycle):
        # a re-key: as roll_import's one-transaction apply does at its end
        state["codes_voided"] += roll_import.void_unused_codes(cycle)
        cycle.identity_key_fingerprint = identity_key_fingerprint()
    else:
        check_identity_key(cycle, record=True)
    db.session.flush()
    log.record_action(cycle.chain_id, "roll.imported", payload.get("actor", ""), {
        "cycle": cycle.slug, "file_sha256": state["file_sha256"],
        "mapping": dict(sorted((payload.get("mapping") or {}).items())),
        **final_counts(state), "access_codes_voided": state["codes_voided"],
        "before": {"entries": state["before"]},
        "after": {"entries": roll_import.roll_size(cycle)},
        "seconds": round(time.time() - state["started"], 1)})


def _summary(state: dict) -> str:
    counts = final_counts(state)
    summary = _("Added %(a)s, changed %(c)s, removed %(r)s, unchanged %(u)s; kept because "
                "already voted: %(k)s.", a=counts["added"], c=counts["changed"],
                r=counts["removed"], u=counts["unchanged"], k=counts["kept_voted"])
    if state["codes_voided"]:
        summary += " " + n_("%(num)s unused access code voided.",
                            "%(num)s unused access codes voided.", state["codes_voided"])
    return summary
