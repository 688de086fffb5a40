"""Voter-roll import speed on SQLite: target 1,000,000 rows in under 60 s.

    .venv/bin/python benchmarks/roll_import_bench.py [--rows 1000000] [--seed 7] [--keep]

Builds a fresh SQLite database by the migrations in a temporary folder, makes a cycle with
four districts, writes a seeded CSV, then measures in this order:

1. baseline: reading and validating the file only (pbvote.rules.roll_csv.read_roll);
2. the import as `pbvote import-roll --yes` runs it: read, validate, compare with the
   stored roll (empty), HMAC every identity field, bulk-insert, log, commit;
3. a re-import of the same file (everything unchanged: the diff path, no writes).

It prints seconds, rows/s and the process's peak resident memory. The figures are
printed, not asserted; the exit status is non-zero only if the import itself fails.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LAST_NAMES = ["Garcia", "Nguyen", "Okafor", "Smith", "Kowalski", "O'Brien", "Haddad", "Chen",
              "Johnson", "Rossi", "Müller", "Dubois", "Patel", "Kim", "Hernández", "Murphy"]
DISTRICTS = ["north", "south", "east", "west"]


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    start = dt.date(1930, 1, 1).toordinal()
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["roll_number", "last_name", "birth_date", "postcode", "district"])
        for number in range(1, rows + 1):
            writer.writerow([
                f"R{number:08d}", rng.choice(LAST_NAMES),
                dt.date.fromordinal(start + rng.randrange(0, 27000)).isoformat(),
                f"{rng.randrange(10000, 99999)}", DISTRICTS[number % 4]])


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pbvote-roll-bench-"))
    os.environ["PBVOTE_INSTANCE_PATH"] = str(folder / "instance")
    from flask_migrate import upgrade

    from pbvote import create_app
    from pbvote.infra.db import utcnow, write_intent
    from pbvote.infra.extensions import db
    from pbvote.rules.roll_csv import ReadSummary, read_roll
    from pbvote.services import roll_import, setup
    from pbvote.services.cycles import get_cycle

    app = create_app("default", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.sqlite3'}",
                     SECRET_KEY="bench", IDENTITY_HMAC_KEY="bench-identity")
    csv_path = folder / "roll.csv"
    started = time.perf_counter()
    write_csv(csv_path, args.rows, args.seed)
    print(f"wrote {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - started:.1f} s")

    with app.app_context():
        upgrade(revision="heads")
        with write_intent():
            cycle = setup.create_cycle(setup.CycleInput(
                slug="bench", name="Bench", currency="USD", total_budget=4_000_000,
                timezone="UTC"), "bench")
            for slug in DISTRICTS:
                setup.save_district(cycle, None, setup.DistrictInput(
                    slug=slug, name=slug.title(), budget=1_000_000, ballot_kind="approval",
                    max_choices=3), "bench")
            db.session.commit()

        started = time.perf_counter()
        summary = ReadSummary()
        with open(csv_path, encoding="utf-8", newline="") as stream:
            for _ in read_roll(stream, DISTRICTS, None, utcnow().date(), summary):
                pass
        baseline = time.perf_counter() - started
        print(f"baseline, read + validate only: {baseline:.1f} s "
              f"({summary.rows / baseline:,.0f} rows/s, {summary.errors} errors)")

        with write_intent():
            cycle = get_cycle("bench")
            started = time.perf_counter()
            plan = roll_import.apply_import(cycle, csv_path, "bench")
            db.session.commit()
            elapsed = time.perf_counter() - started
        print(f"import (validate, diff, HMAC, insert, commit): {elapsed:.1f} s "
              f"({plan.added / elapsed:,.0f} rows/s), added {plan.added:,}; "
              f"target < 60 s: {'met' if elapsed < 60 else 'MISSED'}")

        cycle = get_cycle("bench")
        started = time.perf_counter()
        again = roll_import.plan_import(cycle, csv_path)
        print(f"re-import preview (all unchanged): {time.perf_counter() - started:.1f} s, "
              f"unchanged {again.unchanged:,}")
        db.session.rollback()
    print(f"peak resident memory: {peak_mb():,.0f} MB")
    print(f"SQLite file: {(folder / 'bench.sqlite3').stat().st_size / 1e6:.0f} MB")
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder}")
    return 0 if plan.added == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
