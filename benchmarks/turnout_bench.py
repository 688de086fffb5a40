"""Benchmark: the turnout dashboard's uncached computation (services.turnout.figures) with
N participations, each joined to its roll entry for the age band.

    .venv/bin/python benchmarks/turnout_bench.py                       # SQLite, 100,000
    .venv/bin/python benchmarks/turnout_bench.py --participations 20000
    .venv/bin/python benchmarks/turnout_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench_turnout

Seeds the demo cycle with a roll of N + 10 % residents (random dates of birth), writes a
participation for N of them over the voting days and channels in bulk (no ballots: the
dashboard never reads them), then times the uncached computation --repeat times and prints
the median and the slowest, and the number of queries.
A PostgreSQL database given with --database-url is emptied first.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from results_page_bench import _prepare_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    os.environ.setdefault("PBVOTE_INSTANCE_PATH", tempfile.mkdtemp(prefix="pbvote-bench-inst-"))
    url = _prepare_database(args.database_url)
    from flask_migrate import upgrade
    from sqlalchemy import event, insert, select

    from pbvote import create_app
    from pbvote.infra.db import write_intent
    from pbvote.infra.extensions import db
    from pbvote.models import Participation, RollEntry
    from pbvote.services import turnout
    from pbvote.services.cycles import get_cycle
    from pbvote.services.demo import DEMO_SLUG, seed_demo

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    rng = random.Random(args.seed)
    with app.app_context():
        upgrade(revision="heads")
        began = time.perf_counter()
        with write_intent():
            seed_demo(voters=args.participations + args.participations // 10, seed=args.seed)
            db.session.commit()
        with write_intent():
            cycle = get_cycle(DEMO_SLUG)
            window = cycle.phase_window("voting")
            first_day = window.starts_at.date()
            entries = db.session.execute(
                select(RollEntry.district_id, RollEntry.identity_hash)
                .where(RollEntry.cycle_id == cycle.id).order_by(RollEntry.id)
                .limit(args.participations)).all()
            channels = ("online", "online", "online", "desk", "paper", "kiosk")
            rows = [{"id": secrets.token_hex(16), "cycle_id": cycle.id, "district_id": district,
                     "identity_hash": identity, "channel": rng.choice(channels), "site": "",
                     "voted_on": first_day + dt.timedelta(days=rng.randrange(7))}
                    for district, identity in entries]
            for start in range(0, len(rows), 5000):
                db.session.execute(insert(Participation), rows[start:start + 5000])
            db.session.commit()
        seeded = time.perf_counter() - began

        cycle = get_cycle(DEMO_SLUG)
        samples = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            data = turnout.figures(cycle, cached=False)
            samples.append(time.perf_counter() - began)
            db.session.rollback()
        groups = []

        def before(conn, cursor, statement, *rest):
            groups.append(statement)
        event.listen(db.engine, "before_cursor_execute", before)
        turnout.figures(cycle, cached=False)
        event.remove(db.engine, "before_cursor_execute", before)
        took_part = sum(sum(c.values()) for c in data["by_band"].values())

    engine = url.split(":", 1)[0]
    print(f"\n{took_part:,} participations on {engine}; seeding took {seeded:.1f} s")
    print(f"uncached turnout figures ({args.repeat} runs): median "
          f"{statistics.median(samples) * 1000:.0f} ms, slowest {max(samples) * 1000:.0f} ms; "
          f"{len(groups)} queries")


if __name__ == "__main__":
    main()
