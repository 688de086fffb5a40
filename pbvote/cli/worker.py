"""`pbvote worker`: runs jobs (services/jobs) in production, on the configured backend."""
from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from pbvote.services import jobs
from pbvote.services.jobs import runner


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run queued jobs (access-code letters, mail) until stopped (SIGTERM or Ctrl-C)."""
    app = current_app._get_current_object()
    if (app.config.get("LOG_FORMAT") or "text") != "json":
        logging.basicConfig(level=logging.INFO)
    backend = jobs.backend_name(app.config)
    jobs.load_job_kinds()
    click.echo(f"pbvote worker: {backend} backend" + (" (burst)" if burst else ""))
    if backend == "rq":
        runner.work_rq(app, burst=burst)
        return
    database_worker = runner.DatabaseWorker(app)

    def stop(_signum, _frame):
        # finish the step in hand; an interrupted job resumes from its checkpoint anyway
        database_worker.stop.set()
        database_worker.wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ran = database_worker.work(burst=burst)
    click.echo(f"pbvote worker: ran {ran} job(s)")
