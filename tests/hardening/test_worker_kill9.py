"""`pbvote worker` killed with SIGKILL in the middle of a letters job for a roll of 24,000:
a second worker takes the job over once its lease runs out and finishes it. Every resident
gets exactly one letter and one stored code, on both engines."""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, RollEntry
from pbvote.services import jobs, letters
from pbvote.services.cycles import get_cycle
from tests.conftest import REPO_ROOT
from tests.factories import make_cycle

pytestmark = [pytest.mark.db, pytest.mark.hardening]
RESIDENTS = 24_000


def _worker(app, tmp_path, number: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PBVOTE_CONFIG": "testing",
           "PBVOTE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PBVOTE_INSTANCE_PATH": app.instance_path, "PBVOTE_JOB_LEASE_SECONDS": "3"}
    log = open(tmp_path / f"worker-{number}.log", "ab")  # noqa: SIM115 - closed by the child
    return subprocess.Popen([sys.executable, "-c", "from pbvote.cli import main; main()",
                             "worker"], env=env, cwd=REPO_ROOT, stdout=log, stderr=log,
                            start_new_session=True)


def _progress(app, job_id):
    with app.app_context():
        found = jobs.progress(job_id)
        db.session.remove()
        return found


def test_a_killed_worker_loses_no_letter_and_repeats_none(app, tmp_path):
    with app.test_request_context("/"), write_intent():
        made = make_cycle("worker-kill")
        cycle = get_cycle(made.slug)
        districts = list(cycle.districts)
        db.session.execute(RollEntry.__table__.insert(), [
            {"cycle_id": cycle.id, "district_id": districts[n % 4].id,
             "postcode_match_hash": secrets.token_hex(8), "identity_hash": secrets.token_hex(32),
             "birth_date": dt.date(1970, 1, 1) + dt.timedelta(days=n % 9000),
             "display_name": f"Resident {n}"} for n in range(RESIDENTS)])
        db.session.commit()
        job_id = letters.enqueue_roll_letters(get_cycle(made.slug), None, "staff:kill",
                                              vote_url="https://vote.example/", locale="en")
        db.session.commit()
    first = _worker(app, tmp_path, 1)
    try:
        deadline = time.monotonic() + 240
        while not (0 < _progress(app, job_id).done):
            assert time.monotonic() < deadline and first.poll() is None, "no progress"
            time.sleep(0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    stopped = _progress(app, job_id)
    assert stopped.status == "running" and 0 < stopped.done < stopped.total
    second = _worker(app, tmp_path, 2)
    try:
        deadline = time.monotonic() + 400
        while _progress(app, job_id).status != "done":
            assert time.monotonic() < deadline and second.poll() is None, \
                (tmp_path / "worker-2.log").read_text()[-2000:]
            time.sleep(0.2)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    done = _progress(app, job_id)
    assert done.done == done.total and done.attempts == 2
    with app.app_context():
        folder = jobs.job_folder(job_id)
        printed = []
        for name in sorted(f.name for f in done.files if f.name.endswith(".html")):
            printed += re.findall(r'<code>([0-9A-Z-]{14})</code>', (folder / name).read_text())
        stored = db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.roll_entry_id.is_not(None)))
        entries = db.session.scalar(select(func.count(func.distinct(
            AccessCode.roll_entry_id))))
        csv_rows = (folder / letters.CSV_NAME).read_text().count("\n") - 1
    assert len(printed) == len(set(printed)) == stored == entries == csv_rows == done.total
