"""The job queue on both engines and both backends (a database job table, RQ on Redis):
a job runs outside the caller, its progress moves and can be read while it runs, a failure
is reported with a clear message, and a job survives the death of its worker."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Job
from pbvote.services import jobs
from pbvote.services.jobs import runner
from tests.job_helpers import run_jobs

pytestmark = pytest.mark.db

SEEN: list = []


@jobs.register("test.steps")
def _steps(ctx):
    from flask import current_app

    ctx.set_total(3)
    for step in range(ctx.done + 1, 4):
        ctx.step(step, {"at": step})
        # what another session (a progress page) sees while the job still runs
        with current_app.app_context():
            seen = jobs.progress(ctx.job_id)
            SEEN.append((seen.status, seen.done, seen.total))
            db.session.remove()
    return f"{ctx.payload['word']} three steps"


@jobs.register("test.refuses")
def _refuses(ctx):
    raise jobs.JobFailed("The roll file is gone; upload it again.")


@jobs.register("test.crashes")
def _crashes(ctx):
    raise RuntimeError("the printer caught fire")


@jobs.register("test.flaky", max_attempts=2)
def _flaky(ctx):
    raise ConnectionRefusedError("mail server down")


@pytest.fixture(params=["database", "rq"])
def jobs_app(request, engine_name, migrated_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    from pbvote import create_app

    settings = {}
    if request.param == "rq":
        settings = {"JOBS_REDIS_URL": "redis://127.0.0.1:6379/0",
                    "JOBS_RQ_QUEUE": f"pbvote-test-{jobs.new_job_id()}"}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name), **settings)
    yield app
    if request.param == "rq":
        queue = runner.rq_queue(app)
        queue.empty()
        queue.delete(delete_jobs=True)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(Job.__table__.delete())
        db.engine.dispose()


def _enqueue(app, kind, payload=None) -> str:
    with app.app_context(), write_intent():
        job_id = jobs.enqueue(kind, payload or {}, created_by="tester")
        db.session.commit()
    return job_id


def _progress(app, job_id):
    with app.app_context():
        found = jobs.progress(job_id)
        db.session.remove()
        return found


def test_a_job_waits_for_a_worker_and_its_progress_moves(jobs_app):
    SEEN.clear()
    job_id = _enqueue(jobs_app, "test.steps", {"word": "did"})
    waiting = _progress(jobs_app, job_id)
    assert (waiting.status, waiting.done, waiting.total) == ("queued", 0, 0)
    run_jobs(jobs_app)
    assert SEEN == [("running", 1, 3), ("running", 2, 3), ("running", 3, 3)]
    done = _progress(jobs_app, job_id)
    assert (done.status, done.done, done.total, done.message) == ("done", 3, 3, "did three steps")
    assert done.as_json()["percent"] == 100 and done.finished


def test_a_rolled_back_enqueue_leaves_no_job(jobs_app):
    with jobs_app.app_context(), write_intent():
        job_id = jobs.enqueue("test.steps", {"word": "never"})
        db.session.rollback()
        assert jobs.progress(job_id) is None
    run_jobs(jobs_app)
    assert _progress(jobs_app, job_id) is None


def test_failures_are_reported_with_a_clear_message(jobs_app):
    refused = _enqueue(jobs_app, "test.refuses")
    crashed = _enqueue(jobs_app, "test.crashes")
    run_jobs(jobs_app)
    assert (_progress(jobs_app, refused).status, _progress(jobs_app, refused).message) == (
        "failed", "The roll file is gone; upload it again.")
    assert (_progress(jobs_app, crashed).status, _progress(jobs_app, crashed).message) == (
        "failed", "RuntimeError: the printer caught fire")


def test_an_unexpected_error_is_retried_then_reported(jobs_app):
    job_id = _enqueue(jobs_app, "test.flaky")
    run_jobs(jobs_app)
    waiting = _progress(jobs_app, job_id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert "mail server down" in waiting.message
    with jobs_app.app_context(), write_intent():  # the back-off has passed
        db.session.execute(update(Job).values(run_after=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    run_jobs(jobs_app)
    failed = _progress(jobs_app, job_id)
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.message == "ConnectionRefusedError: mail server down"


def test_a_job_whose_worker_died_is_taken_over_and_resumes(jobs_app):
    """The worker died after step 1 was committed (its lease ran out): another worker takes
    the job over and continues from the checkpoint, without repeating step 1."""
    SEEN.clear()
    job_id = _enqueue(jobs_app, "test.steps", {"word": "resumed"})
    with jobs_app.app_context(), write_intent():
        db.session.execute(update(Job).where(Job.id == job_id).values(
            status="running", attempts=1, done=1, total=3, checkpoint='{"at": 1}',
            lease_until=utcnow() + dt.timedelta(minutes=5)))
        db.session.commit()
    run_jobs(jobs_app)  # the lease still holds: nobody takes it
    assert _progress(jobs_app, job_id).status == "running" and SEEN == []
    with jobs_app.app_context(), write_intent():
        db.session.execute(update(Job).where(Job.id == job_id).values(
            lease_until=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    run_jobs(jobs_app)
    assert SEEN == [("running", 2, 3), ("running", 3, 3)]
    done = _progress(jobs_app, job_id)
    assert (done.status, done.done, done.attempts) == ("done", 3, 2)


def test_unknown_kinds_and_ids(jobs_app):
    with jobs_app.app_context():
        with pytest.raises(ValueError):
            jobs.enqueue("no.such.kind", {})
        assert jobs.progress("../../etc/passwd") is None
        assert jobs.progress("a" * 32) is None
        assert jobs.result_path("a" * 32, "x.html") is None
