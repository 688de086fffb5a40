"""Long work outside the request, with progress.

The interface other services and views use:

- `register(kind)` marks a function `fn(ctx: JobContext) -> str | None` as the job of that
  kind (the string is the summary shown when it is done);
- `enqueue(kind, payload)` adds a job row in the caller's transaction and returns its id;
  the job starts once that transaction commits;
- `progress(job_id)` reads its status, done/total, result files and message (or None).

The `job` table is the truth on every backend: status, progress, checkpoints and results.
The backend decides only who runs a job (services/jobs/runner.py):

- "database" (the default, nothing else to run): workers claim due rows from the table.
  In development the app process runs one worker thread (JOBS_EMBEDDED_WORKER), so
  `./run serve` needs no other service; production runs `pbvote worker`.
- "rq" (when JOBS_REDIS_URL / PBVOTE_REDIS_URL names Redis): each committed job's id is
  pushed to an RQ queue and `pbvote worker` runs an RQ worker.

A job function runs in its own app context and may commit its work in steps through
`ctx.step(...)`: the job runner, like a request or a CLI command, is a commit point.
A step's work and the job's progress commit together, so a job resumed after its worker
died (its lease ran out) continues from its last checkpoint and never repeats or loses a
committed step.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Job
from pbvote.services.errors import DomainError

JOB_FOLDER = "jobs"
BACKENDS = ("database", "rq")


class JobFailed(DomainError):
    """A job that cannot do its work: the message is shown to staff as the reason. It is
    not retried."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message, status)


@dataclass(frozen=True)
class JobKind:
    name: str
    function: Callable
    #: tries in all before a job that raises an unexpected error is marked failed
    max_attempts: int = 1
    #: the payload holds secrets (a mail body): it is cleared when the job ends
    secret_payload: bool = False


REGISTRY: dict[str, JobKind] = {}
#: modules whose import registers job kinds; a worker imports them all
JOB_MODULES = ("pbvote.services.mail", "pbvote.services.letters",
               "pbvote.services.roll_import_job", "pbvote.services.roll_preview_job",
               "pbvote.services.sms",
               "pbvote.services.results_notice")


def register(kind: str, *, max_attempts: int = 1, secret_payload: bool = False):
    def decorate(function):
        REGISTRY[kind] = JobKind(kind, function, max_attempts, secret_payload)
        return function
    return decorate


@contextmanager
def in_requesters_language(payload: dict):
    """Translate as the staff member who queued the job (payload "locale"): pbvote's
    translation hook and Flask-Babel translate within a request, so a job gets one."""
    from flask_babel import force_locale

    with current_app.test_request_context("/"), force_locale(payload.get("locale") or "en"):
        yield


def cycle_of(payload: dict):
    """The cycle a job works on (payload "cycle_id"); a clear failure if it was deleted."""
    from pbvote.models import Cycle

    cycle = db.session.get(Cycle, payload["cycle_id"])
    if cycle is None:
        raise JobFailed(_("The cycle no longer exists."))
    return cycle


def load_job_kinds() -> dict[str, JobKind]:
    import importlib

    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY


def backend_name(config) -> str:
    name = config.get("JOBS_BACKEND") or ("rq" if config.get("JOBS_REDIS_URL") else "database")
    if name not in BACKENDS:
        raise RuntimeError(f"JOBS_BACKEND must be 'database' or 'rq', not {name!r}.")
    if name == "rq" and not config.get("JOBS_REDIS_URL"):
        raise RuntimeError("JOBS_BACKEND 'rq' needs JOBS_REDIS_URL (or PBVOTE_REDIS_URL).")
    return name


# ---------------------------------------------------------------------------
# Enqueue and read


def enqueue(kind: str, payload: dict | None = None, *, created_by: str = "",
            cycle_id: int | None = None, run_after: dt.datetime | None = None) -> str:
    """Add a job in the caller's transaction; it starts when that transaction commits (a
    rolled-back request leaves no job). Returns the job's id."""
    kinds = load_job_kinds()
    if kind not in kinds:
        raise ValueError(f"no job kind {kind!r}")
    now = utcnow()
    job = Job(id=new_job_id(), kind=kind, payload=json.dumps(payload or {}),
              status="queued", done=0, total=0, checkpoint="{}", files="[]", message="",
              created_by=created_by[:200], cycle_id=cycle_id, attempts=0,
              max_attempts=kinds[kind].max_attempts, created_at=now,
              run_after=run_after or now, worker="")
    db.session.add(job)
    db.session.flush()
    _after_commit(db.session()).append(job.id)
    return job.id


@dataclass(frozen=True)
class ResultFile:
    name: str
    label: str
    count: int = 0


@dataclass(frozen=True)
class Progress:
    id: str
    kind: str
    status: str
    done: int
    total: int
    message: str
    files: list[ResultFile] = field(default_factory=list)
    cycle_id: int | None = None
    created_by: str = ""
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return (100 * self.done // self.total) if self.total else 0

    def as_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "status": self.status, "done": self.done,
                "total": self.total, "percent": self.percent, "message": self.message,
                "files": [{"name": f.name, "label": f.label, "count": f.count}
                          for f in self.files],
                "finished": self.finished}


def progress(job_id: str) -> Progress | None:
    job = db.session.get(Job, job_id) if well_formed(job_id) else None
    if job is None:
        return None
    db.session.refresh(job)  # a worker may have committed since this session read it
    return Progress(job.id, job.kind, job.status, job.done, job.total, job.message,
                    [ResultFile(**item) for item in json.loads(job.files or "[]")],
                    job.cycle_id, job.created_by, job.created_at, job.finished_at,
                    job.attempts)


def result_path(job_id: str, name: str) -> Path | None:
    """The file `name` of a finished job, or None."""
    found = progress(job_id)
    if found is None or found.status != "done" or name not in {f.name for f in found.files}:
        return None
    path = job_folder(job_id) / name
    return path if path.is_file() else None


def queue_depth() -> int:
    """Jobs waiting or running (for monitoring)."""
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.status.in_(("queued", "running")))) or 0


def job_folder(job_id: str, create: bool = False) -> Path:
    if not well_formed(job_id):
        raise ValueError("not a job id")
    folder = Path(current_app.instance_path) / JOB_FOLDER / job_id
    if create:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.mkdir(exist_ok=True, mode=0o700)
    return folder


#: letters only: a run of digits in an id would look like a one-time code in the logs
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def new_job_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(32))  # 150 bits


def well_formed(job_id: str) -> bool:
    return len(job_id or "") == 32 and all(c in ID_ALPHABET for c in job_id)


# ---------------------------------------------------------------------------
# What a running job sees


class JobContext:
    """Handed to a job function: its payload, its folder, and `step()` to commit work."""

    def __init__(self, job: Job, lease_seconds: int) -> None:
        self.job_id = job.id
        self.payload: dict = json.loads(job.payload or "{}")
        self.checkpoint: dict = json.loads(job.checkpoint or "{}")
        self.done = job.done
        self.total = job.total
        self.created_by = job.created_by
        self.resumed = job.attempts > 1 or bool(self.checkpoint)
        self._lease_seconds = lease_seconds
        self._files: list[dict] = json.loads(job.files or "[]")

    @property
    def folder(self) -> Path:
        return job_folder(self.job_id, create=True)

    def set_total(self, total: int) -> None:
        self.total = total
        self._write(total=total)

    def add_file(self, name: str, label: str, count: int = 0) -> None:
        self._files = [f for f in self._files if f["name"] != name]
        self._files.append({"name": name, "label": label, "count": count})
        self._write(files=json.dumps(self._files))

    def step(self, done: int, checkpoint: dict | None = None) -> None:
        """Commit the work so far together with the progress (and checkpoint)."""
        self.done = done
        values = {"done": done}
        if checkpoint is not None:
            self.checkpoint = checkpoint
            values["checkpoint"] = json.dumps(checkpoint)
        self._write(**values)
        db.session.commit()

    def _write(self, **values) -> None:
        job = db.session.get(Job, self.job_id)
        for key, value in values.items():
            setattr(job, key, value)
        job.lease_until = utcnow() + dt.timedelta(seconds=self._lease_seconds)
        db.session.flush()


# ---------------------------------------------------------------------------
# After commit: wake the embedded worker or push to Redis

_PENDING_KEY = "pbvote_jobs_committed"
#: called with the ids of jobs whose enqueueing transaction committed
COMMIT_LISTENERS: list[Callable[[list[str]], None]] = []


def _after_commit(session: Session) -> list[str]:
    return session.info.setdefault(_PENDING_KEY, [])


@event.listens_for(Session, "after_commit")
def _jobs_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        for listener in COMMIT_LISTENERS:
            listener(list(pending))


@event.listens_for(Session, "after_soft_rollback")
def _jobs_rolled_back(session: Session, _previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)


def describe_status(status: str) -> str:
    return {"queued": _("Waiting to start"), "running": _("Running"), "done": _("Done"),
            "failed": _("Failed")}.get(status, status)
