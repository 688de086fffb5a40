"""Running jobs in tests: the database backend's worker, or an RQ worker, in burst mode."""
from __future__ import annotations

from pbvote.services import jobs
from pbvote.services.jobs import runner


def run_jobs(app) -> None:
    """Run every due job to its end on the app's backend, in this thread."""
    if jobs.backend_name(app.config) == "rq":
        runner.work_rq(app, burst=True)
    else:
        runner.DatabaseWorker(app, poll_seconds=0).work(burst=True)
