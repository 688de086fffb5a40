"""The preview of a large voter-roll file, computed by a job (services/jobs).

Reading a file of a million rows and comparing it with the stored roll takes tens of
seconds, too near the proxy's timeout for a request. The job writes nothing to the database
but its progress. It keeps the preview (the counts, the errors and the first page of each
list of people) beside the uploaded file (roll_stash), which the preview page shows and the
confirmation is checked against, so no page reads the file again. It names people in
clear, so it is deleted with the file, not kept with the job's row."""
from __future__ import annotations

import json
from dataclasses import asdict

from pbvote.i18n_hook import _, format_number
from pbvote.infra.db import reads_first, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Job
from pbvote.rules.roll_csv import RowError
from pbvote.services import jobs, roll_import, roll_stash
from pbvote.services.roll_preview import Person

KIND = "roll.preview"
#: the errors a failed preview names on the job page (the file page names more)
ERRORS_NAMED = 10
#: RollPlan fields kept in the checkpoint; the lists of every line or entry id are not
STORED_FIELDS = ("file_sha256", "rows", "error_count", "duplicates", "added", "changed",
                 "unchanged", "removed", "kept_voted", "kept_voted_lines", "before", "pages",
                 "rekeyed", "kept_voted_unlisted")


def enqueue_preview(cycle: Cycle, token: str, mapping: dict, actor: str, locale: str) -> str:
    """Refuse at once what can be refused at once, then enqueue; returns the job's id."""
    roll_import.refuse_if_closed(cycle)
    if roll_import.stash_path(token, str(cycle.id)) is None:
        raise jobs.JobFailed(_("The uploaded file is gone; upload it again."), 404)
    return jobs.enqueue(KIND, {"cycle_id": cycle.id, "token": token, "mapping": mapping,
                               "actor": actor, "locale": locale},
                        created_by=actor, cycle_id=cycle.id)


@jobs.register(KIND)
def preview_roll(ctx: jobs.JobContext) -> str:
    payload = ctx.payload
    with jobs.in_requesters_language(payload):
        return _preview(ctx, payload)


def _preview(ctx: jobs.JobContext, payload: dict) -> str:
    cycle = jobs.cycle_of(payload)
    cycle_id = cycle.id
    path = roll_import.stash_path(payload["token"], str(cycle_id))
    if path is None:
        raise jobs.JobFailed(_("The uploaded file is gone; upload it again."))
    size = max(1, path.stat().st_size)
    ctx.set_total(size)
    ctx.step(0)
    read = 0

    def checked(count: int) -> None:
        nonlocal read
        read += count
        db.session.commit()  # ends a read transaction: SQLite cannot turn it into a write
        with write_intent():
            ctx.step(min(read, size - 1))

    db.session.commit()
    with reads_first():
        plan = roll_import.plan_import(db.session.get(Cycle, cycle_id), path,
                                       payload.get("mapping") or None, progress=checked)
    if not plan.ok:
        raise jobs.JobFailed(failure_message(plan), 422)
    roll_stash.save_preview(payload["token"], str(cycle_id), ctx.job_id, plan_as_json(plan))
    db.session.commit()
    with write_intent():
        ctx.step(size)
    return _("Checked: add %(a)s, change %(c)s, remove %(r)s, unchanged %(u)s.",
             a=format_number(plan.added), c=format_number(plan.changed),
             r=format_number(plan.removed), u=format_number(plan.unchanged))


def failure_message(plan: roll_import.RollPlan) -> str:
    """The preview page's summary of a bad file, with its first errors."""
    named = [str(error) for error in plan.errors[:ERRORS_NAMED]]
    if plan.error_count > len(named):
        named.append(_("… and %(n)s more.", n=plan.error_count - len(named)))
    return " ".join([_("%(n)s problem(s) in the file, %(d)s of them duplicates; nothing can "
                       "be imported until they are fixed", n=plan.error_count,
                       d=plan.duplicates) + ":", *named])


def plan_as_json(plan: roll_import.RollPlan) -> dict:
    stored = {name: getattr(plan, name) for name in STORED_FIELDS}
    stored["errors"] = [asdict(error) for error in plan.errors]
    stored["people"] = {kind: [asdict(person) for person in people]
                        for kind, people in plan.people.items()}
    return stored


def plan_from_json(stored: dict) -> roll_import.RollPlan:
    values = {name: stored[name] for name in STORED_FIELDS}
    people = {kind: [Person(**{**person, "changes": [tuple(c) for c in person["changes"]]})
                     for person in listed] for kind, listed in stored["people"].items()}
    return roll_import.RollPlan(**values, errors=[RowError(**e) for e in stored["errors"]],
                                people=people)


def stored_preview(job_id: str | None, cycle: Cycle, token: str
                   ) -> tuple[dict, roll_import.RollPlan] | None:
    """(mapping, preview) of the finished preview job `job_id` of this cycle's file
    `token`, or None."""
    if not job_id or not jobs.well_formed(job_id):
        return None
    job = db.session.get(Job, job_id)
    if job is None or job.kind != KIND or job.status != "done" or job.cycle_id != cycle.id:
        return None
    payload = json.loads(job.payload or "{}")
    stored = roll_stash.load_preview(token, str(cycle.id), job_id)
    if payload.get("token") != token or stored is None:
        return None
    return payload.get("mapping") or {}, plan_from_json(stored)


def preview_place(job_id: str) -> tuple[str, str, dict] | None:
    """(cycle slug, file token, mapping) of a preview job, for its progress page's link."""
    job = db.session.get(Job, job_id) if jobs.well_formed(job_id) else None
    if job is None or job.kind != KIND or job.cycle_id is None:
        return None
    cycle = db.session.get(Cycle, job.cycle_id)
    payload = json.loads(job.payload or "{}")
    if cycle is None or not payload.get("token"):
        return None
    return cycle.slug, payload["token"], payload.get("mapping") or {}
