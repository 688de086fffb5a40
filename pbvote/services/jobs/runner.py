"""Who runs jobs: claiming a job row, running its function, and the workers of each backend.

The runner is a commit point, like a request or a CLI command: it commits the claim, the
job's steps (through JobContext.step) and the end. Claiming is one conditional UPDATE, so
two workers never run one job; a running job whose lease has run out (its worker died) is
claimed again and resumes from its checkpoint.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import threading
import time

from flask import current_app
from sqlalchemy import or_, select, update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Job
from pbvote.services import jobs
from pbvote.services.errors import DomainError

logger = logging.getLogger("pbvote.services.jobs")

RQ_QUEUE = "pbvote"
#: a retry waits this long times the attempt number
RETRY_BACKOFF_SECONDS = 30


def _lease_seconds(app) -> int:
    return int(app.config.get("JOB_LEASE_SECONDS", 120))


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def _claimable(now):
    return or_(
        (Job.status == "queued") & (Job.run_after <= now),
        (Job.status == "running") & (Job.lease_until < now))


def claim(app, job_id: str) -> Job | None:
    """Take the job for this worker, or None when it is not due, done or held by another."""
    now = utcnow()
    with write_intent():
        result = db.session.execute(
            update(Job).where(Job.id == job_id, _claimable(now)).values(
                status="running", attempts=Job.attempts + 1, worker=_worker_name(),
                lease_until=now + dt.timedelta(seconds=_lease_seconds(app)),
                started_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(Job, job_id)


def due_job_ids(limit: int = 20) -> list[str]:
    now = utcnow()
    return list(db.session.scalars(select(Job.id).where(_claimable(now))
                                   .order_by(Job.created_at).limit(limit)))


def run_job(app, job_id: str) -> str | None:
    """Claim and run one job in a fresh app context; returns its final status, or None
    when it could not be claimed."""
    with app.app_context():
        try:
            job = claim(app, job_id)
            if job is None:
                return None
            return _run_claimed(app, job)
        finally:
            db.session.remove()


def _run_claimed(app, job: Job) -> str:
    kinds = jobs.load_job_kinds()
    kind = kinds.get(job.kind)
    job_id = job.id
    logger.info("job %s (%s) started, attempt %s", job_id, job.kind, job.attempts)
    if kind is None:
        return _finish(job_id, "failed", f"No job function is registered for {job.kind!r}.")
    context = jobs.JobContext(job, _lease_seconds(app))
    try:
        with write_intent():
            summary = kind.function(context)
            return _finish(job_id, "done", summary or "", kind=kind)
    except DomainError as refused:
        db.session.rollback()
        return _finish(job_id, "failed", refused.message, kind=kind)
    except Exception as error:  # noqa: BLE001 - any failure is recorded on the job
        db.session.rollback()
        logger.exception("job %s (%s) raised", job_id, job.kind)
        reason = f"{type(error).__name__}: {error}"[:1000]
        attempts = db.session.get(Job, job_id).attempts
        if attempts < kind.max_attempts:
            return _retry_later(job_id, attempts, reason)
        return _finish(job_id, "failed", reason, kind=kind)


def _finish(job_id: str, status: str, message: str, kind=None) -> str:
    with write_intent():
        job = db.session.get(Job, job_id)
        job.status = status
        job.message = message
        job.finished_at = utcnow()
        job.lease_until = None
        if status == "done" and job.total and job.done < job.total:
            job.done = job.total
        if kind is not None and kind.secret_payload:
            job.payload = "{}"
        db.session.commit()
    logger.info("job %s %s", job_id, status)
    return status


def _retry_later(job_id: str, attempts: int, reason: str) -> str:
    with write_intent():
        job = db.session.get(Job, job_id)
        job.status = "queued"
        job.message = reason
        job.lease_until = None
        job.run_after = utcnow() + dt.timedelta(seconds=RETRY_BACKOFF_SECONDS * attempts)
        db.session.commit()
    logger.info("job %s will be tried again", job_id)
    return "queued"


def purge_old_results(app) -> int:
    """Delete finished jobs' files (they can hold access codes in clear) after
    JOB_RESULT_MAX_AGE_SECONDS; the rows stay, without files."""
    import json

    cutoff = utcnow() - dt.timedelta(seconds=int(app.config.get("JOB_RESULT_MAX_AGE_SECONDS",
                                                                  86400)))
    removed = 0
    with write_intent():
        old = db.session.scalars(select(Job).where(
            Job.status.in_(("done", "failed")), Job.finished_at < cutoff, Job.files != "[]"))
        for job in old:
            shutil.rmtree(jobs.job_folder(job.id), ignore_errors=True)
            job.files = json.dumps([])
            removed += 1
        db.session.commit()
    return removed


# ---------------------------------------------------------------------------
# The database backend: a polling worker (thread or `pbvote worker`)


class DatabaseWorker:
    def __init__(self, app, poll_seconds: float | None = None) -> None:
        self.app = app
        self.poll_seconds = poll_seconds if poll_seconds is not None else float(
            app.config.get("JOB_POLL_SECONDS", 1.0))
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.ran = 0

    def work(self, burst: bool = False, max_jobs: int | None = None) -> int:
        """Run due jobs until stopped; with burst, until none is due."""
        last_purge = 0.0
        while not self.stop.is_set():
            if time.monotonic() - last_purge > 600:
                with self.app.app_context():
                    purge_old_results(self.app)
                    db.session.remove()
                last_purge = time.monotonic()
            with self.app.app_context():
                due = due_job_ids()
                db.session.remove()
            for job_id in due:
                if self.stop.is_set():
                    break
                if run_job(self.app, job_id) is not None:
                    self.ran += 1
                if max_jobs is not None and self.ran >= max_jobs:
                    return self.ran
            if not due:
                if burst:
                    return self.ran
                self.wake.wait(self.poll_seconds)
                self.wake.clear()
        return self.ran


_embedded: dict[str, object] = {}
_embedded_lock = threading.Lock()


def ensure_embedded_worker(app) -> None:
    """Start this process's worker thread once (development's database backend)."""
    if _embedded.get("pid") == os.getpid():
        return
    with _embedded_lock:
        if _embedded.get("pid") == os.getpid():
            return
        worker = DatabaseWorker(app)
        thread = threading.Thread(target=worker.work, name="pbvote-jobs", daemon=True)
        _embedded.update(pid=os.getpid(), worker=worker, thread=thread)
        jobs.COMMIT_LISTENERS.append(lambda _ids: worker.wake.set())
        thread.start()
        logger.info("job worker thread started in the app process")


# ---------------------------------------------------------------------------
# The RQ backend: the queue carries job ids; the row carries everything else


def redis_connection(app):
    from redis import Redis

    return Redis.from_url(app.config["JOBS_REDIS_URL"])


def rq_queue(app):
    from rq import Queue

    return Queue(app.config.get("JOBS_RQ_QUEUE", RQ_QUEUE), connection=redis_connection(app))


def push_to_rq(app, job_ids: list[str]) -> None:
    """Put committed jobs on the Redis queue. A push that fails is not lost: the row stays
    queued and the worker's sweep pushes it again."""
    try:
        queue = rq_queue(app)
        for job_id in job_ids:
            queue.enqueue("pbvote.services.jobs.runner.rq_entry", job_id, job_id=job_id,
                          job_timeout=int(app.config.get("JOB_TIMEOUT_SECONDS", 3600)),
                          result_ttl=600, failure_ttl=86400)
    except Exception:  # noqa: BLE001 - Redis down: the sweep pushes it later
        logger.warning("could not put %s job(s) on the Redis queue; the worker's sweep will",
                       len(job_ids), exc_info=True)


def rq_entry(job_id: str) -> str | None:
    """What the RQ worker runs: the job row's function, under the worker's app."""
    return run_job(current_app._get_current_object(), job_id)


def sweep_rq(app) -> int:
    """Push due rows the queue does not hold: pushes that failed, retries whose time came,
    and running jobs whose worker died (lease expired)."""
    from rq.job import Job as RqJob
    from rq.job import JobStatus

    with app.app_context():
        due = due_job_ids(limit=500)
        db.session.remove()
    if not due:
        return 0
    connection = redis_connection(app)
    missing = []
    for job_id in due:
        try:
            status = RqJob.fetch(job_id, connection=connection).get_status()
        except Exception:  # noqa: BLE001 - no such RQ job (expired, never pushed)
            status = None
        if status not in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED):
            missing.append(job_id)
    if missing:
        push_to_rq(app, missing)
    return len(missing)


def install_commit_listener(app) -> None:
    """After a commit that enqueued jobs: push them to Redis (rq backend)."""
    if jobs.backend_name(app.config) != "rq" or app.extensions.get("pbvote_jobs_listener"):
        return
    app.extensions["pbvote_jobs_listener"] = True

    def push(job_ids, app=app):
        # the listener is process-wide; only the app that enqueued pushes
        try:
            if current_app._get_current_object() is app:
                push_to_rq(app, job_ids)
        except RuntimeError:
            pass

    jobs.COMMIT_LISTENERS.append(push)


def work_rq(app, burst: bool = False, sweep_seconds: float = 5.0) -> None:
    """`pbvote worker` on Redis: an RQ SimpleWorker (jobs run in this process, under this
    app), with a sweep thread that re-pushes lost or abandoned jobs."""
    from rq import SimpleWorker

    stop = threading.Event()

    def sweeper():
        while not stop.wait(sweep_seconds):
            try:
                sweep_rq(app)
                with app.app_context():
                    purge_old_results(app)
                    db.session.remove()
            except Exception:  # noqa: BLE001
                logger.warning("job sweep failed", exc_info=True)

    sweep_rq(app)
    thread = None if burst else threading.Thread(target=sweeper, daemon=True)
    if thread:
        thread.start()
    try:
        with app.app_context():
            worker = SimpleWorker([rq_queue(app)], connection=redis_connection(app),
                                  name=f"pbvote-{jobs.new_job_id()}")
            # RQ's INFO lines repeat ids and queue names; pbvote logs each job itself
            worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        stop.set()


def init_app(app) -> None:
    """Check the backend setting and connect the after-commit hook (create_app)."""
    jobs.backend_name(app.config)
    install_commit_listener(app)
