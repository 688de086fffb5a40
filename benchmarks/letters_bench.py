"""Access-code letters for a whole roll: target 1,000,000 residents in at most 120 s with
flat memory.

    .venv/bin/python benchmarks/letters_bench.py [--residents 1000000] [--compare 5000]

Builds a fresh SQLite database by the migrations in a temporary folder, with a cycle of four
districts, then:

1. the current way before jobs, for --compare residents: `codes.issue_codes_for_roll` (every
   pending entry loaded at once) and the whole letter page rendered as one string by
   templates/staff/setup/letters.html, as the request did;
2. the job ("letters.roll", services/letters) for the same residents, run by the database
   backend's worker: codes issued and committed in steps, letters streamed to one
   print-ready HTML file per district plus the CSV;
3. the job for --residents residents.

It prints seconds, letters/s, the output's size and the process's resident memory: its
growth over the step and, for the big job, sampled every 10 % of progress, so a flat line
is visible. Figures are printed, not asserted; the exit status is non-zero only if a job
fails or its files do not hold one letter per resident.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class PeakSampler:
    """Samples this process's resident memory every 20 ms in a thread."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self):
        self.start = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def add_residents(db, cycle, count: int) -> None:
    from pbvote.models import RollEntry

    districts = list(cycle.districts)
    born = dt.date(1970, 1, 1)
    batch = []
    for number in range(count):
        district = districts[number % len(districts)]
        batch.append({"cycle_id": cycle.id, "district_id": district.id,
                      "postcode_match_hash": secrets.token_hex(8),
                      "birth_date": born + dt.timedelta(days=number % 9000),
                      "identity_hash": secrets.token_hex(32),
                      "display_name": f"Resident {number:07d}" if number % 3 else None})
        if len(batch) == 50_000:
            db.session.execute(RollEntry.__table__.insert(), batch)
            batch = []
    if batch:
        db.session.execute(RollEntry.__table__.insert(), batch)


def make_cycle_with(db, slug: str, residents: int):
    from pbvote.infra.db import write_intent
    from pbvote.services.cycles import get_cycle
    from tests.factories import make_cycle

    with write_intent():
        made = make_cycle(slug)
        cycle = get_cycle(made.slug)
        add_residents(db, cycle, residents)
        db.session.commit()
    return get_cycle(slug)


def old_way(app, db, cycle) -> tuple[float, int, PeakSampler]:
    from flask import render_template

    from pbvote.infra.db import write_intent
    from pbvote.services import codes

    with app.test_request_context("/"), write_intent(), PeakSampler() as memory:
        started = time.perf_counter()
        issued = codes.issue_codes_for_roll(cycle, None, "bench", limit=None)
        page = render_template("staff/setup/letters.html", cycle=cycle, codes=issued.codes,
                               voting=cycle.phase_window("voting"), export_token="x" * 32,
                               remaining=0, vote_url="https://vote.example.org/")
        codes.roll_codes_csv(cycle, issued.codes)
        seconds = time.perf_counter() - started
        db.session.rollback()
    return seconds, len(page.encode()), memory


def job_way(app, db, cycle_id: int, samples: list | None = None):
    from pbvote.infra.db import write_intent
    from pbvote.models import Cycle
    from pbvote.services import jobs, letters
    from pbvote.services.jobs.runner import DatabaseWorker

    with app.test_request_context("/"), write_intent():
        cycle = db.session.get(Cycle, cycle_id)
        job_id = letters.enqueue_roll_letters(cycle, None, "bench", locale="en",
                                              vote_url="https://vote.example.org/")
        db.session.commit()
    if samples is not None:
        original_step = jobs.JobContext.step
        marks = {}

        def step(self, done, checkpoint=None):
            original_step(self, done, checkpoint)
            if self.total and done * 10 // self.total not in marks:
                marks[done * 10 // self.total] = True
                samples.append((done, rss_mb()))

        jobs.JobContext.step = step
    with PeakSampler() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        DatabaseWorker(app, poll_seconds=0).work(burst=True)
        seconds = time.perf_counter() - started
        memory.cpu = time.process_time() - cpu_started
    if samples is not None:
        jobs.JobContext.step = original_step
    with app.app_context():
        found = jobs.progress(job_id)
        folder = jobs.job_folder(job_id)
        size = sum((folder / f.name).stat().st_size for f in found.files)
        letters_found = sum((folder / f.name).read_text().count('<article class="letter">')
                            for f in found.files if f.name.endswith(".html"))
        db.session.remove()
    return found, seconds, size, letters_found, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=5_000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pbvote-letters-bench-"))
    os.environ["PBVOTE_INSTANCE_PATH"] = str(folder / "instance")
    from flask_migrate import upgrade

    from pbvote import create_app
    from pbvote.infra.extensions import db

    app = create_app("default", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.sqlite3'}",
                     SECRET_KEY="bench", IDENTITY_HMAC_KEY="bench-identity",
                     JOBS_EMBEDDED_WORKER=False, SERVER_NAME="vote.example.org")
    failed = False
    with app.app_context():
        upgrade(revision="heads")
        started = time.perf_counter()
        old_cycle = make_cycle_with(db, "letters-old", args.compare)
        new_cycle = make_cycle_with(db, "letters-new", args.compare)
        big_cycle = make_cycle_with(db, "letters-big", args.residents)
        print(f"set up {2 * args.compare + args.residents:,} roll entries in "
              f"{time.perf_counter() - started:.1f} s")
        old_id, new_id, big_id = old_cycle.id, new_cycle.id, big_cycle.id
        db.session.remove()

    with app.app_context():
        from pbvote.models import Cycle

        if args.compare:
            old_seconds, old_bytes, old_memory = old_way(app, db,
                                                         db.session.get(Cycle, old_id))
        db.session.remove()
    if not args.compare:  # --compare 0: only the job for --residents
        found, seconds, size, printed, memory = job_way(app, db, big_id, [])
        print(f"job, {args.residents:,} letters: {seconds:.2f} s "
              f"({args.residents / seconds:,.0f} letters/s), CPU {memory.cpu:.2f} s, "
              f"status {found.status}, peak memory +{memory.peak - memory.start:.0f} MB")
        return 0 if found.status == "done" and printed == found.total else 1
    per_old = old_seconds / args.compare
    print(f"\ncurrent way, {args.compare:,} letters: {old_seconds:.2f} s "
          f"({args.compare / old_seconds:,.0f} letters/s), one page of {old_bytes / 1e6:.1f} MB, "
          f"memory +{old_memory.peak - old_memory.start:.0f} MB "
          f"(would be ~{per_old * 1_000_000:.0f} s for 1,000,000)")

    for label, cycle_id, count, samples in (("job", new_id, args.compare, None),
                                            ("job", big_id, args.residents, [])):
        found, seconds, size, printed, memory = job_way(app, db, cycle_id, samples)
        print(f"{label}, {count:,} letters: {seconds:.2f} s ({count / seconds:,.0f} letters/s), "
              f"status {found.status}, {len(found.files)} files of {size / 1e6:.1f} MB in all, "
              f"memory {memory.start:.0f} MB before, peak {memory.peak:.0f} MB "
              f"(+{memory.peak - memory.start:.0f} MB); CPU {memory.cpu:.2f} s of this "
              f"process (less sensitive than wall time to a loaded machine)")
        if count == args.compare:
            print(f"  ratio: the job prints {args.compare:,} letters {old_seconds / seconds:.1f}×"
                  f" as fast as the current way")
        if samples:
            print("  resident memory by progress: " + ", ".join(
                f"{done * 100 // count}% {mb:.0f} MB" for done, mb in samples))
        if found.status != "done" or printed != found.total:
            print(f"  FAILED: {found.status} {found.message!r}, {printed:,} letters in the files")
            failed = True
    print(f"\n(temporary folder {folder})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
