"""A voter-roll import from the web, run as a job with progress (services/jobs).

The preview the clerk confirmed is checked again first, reading the whole file with
progress committed as it goes (the check writes nothing, so those commits hold no roll
change). The import itself is then applied in ONE transaction, so a failure leaves the roll
exactly as it was; the last step commits the new roll together with the job's progress.
"""
from __future__ import annotations

from pbvote.i18n_hook import _, n_
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import jobs, roll_import

KIND = "roll.import"


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


@jobs.register(KIND)
def import_roll(ctx: jobs.JobContext) -> str:
    payload = ctx.payload
    with jobs.in_requesters_language(payload):
        return _import(ctx, payload)


def _import(ctx: jobs.JobContext, payload: dict) -> str:
    cycle = jobs.cycle_of(payload)
    scope = str(cycle.id)
    path = roll_import.stash_path(payload["token"], scope)
    if path is None:
        raise jobs.JobFailed(_("The uploaded file is gone; upload it again."))
    size = max(1, path.stat().st_size)
    ctx.set_total(2 * size)  # checking the file, then applying it
    read = 0

    def checked(count: int) -> None:
        nonlocal read
        read += count
        ctx.step(min(read, size))

    mapping = payload.get("mapping") or None
    plan = roll_import.plan_import(cycle, path, mapping, progress=checked)
    if not plan.ok:
        raise roll_import.RollFileInvalid(plan)
    if plan.fingerprint() != payload.get("fingerprint"):
        raise roll_import.RollChangedSincePreview()
    ctx.step(size)
    cycle = db.session.get(Cycle, payload["cycle_id"])
    applied = roll_import.apply_import(
        cycle, path, payload.get("actor", ""), mapping,
        expected_fingerprint=payload.get("fingerprint"),
        confirmed_removals=payload.get("confirmed_removals"))
    ctx.step(2 * size)  # the new roll commits together with the progress
    roll_import.discard_stash(payload["token"], scope)
    summary = _("Added %(a)s, changed %(c)s, removed %(r)s, unchanged %(u)s; kept because "
                "already voted: %(k)s.", a=applied.added, c=applied.changed, r=applied.removed,
                u=applied.unchanged, k=applied.kept_voted)
    if applied.codes_voided:
        summary += " " + n_("%(num)s unused access code voided.",
                            "%(num)s unused access codes voided.", applied.codes_voided)
    return summary
