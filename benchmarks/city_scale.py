"""A city-scale cycle, from closing voting to the standalone verifier, each step timed.

    .venv/bin/python benchmarks/city_scale.py [--engine sqlite|postgresql] [--ballots 300000]
        [--keep-seed] [--profile STEP ...] [--save-bundle DIR]

Builds a database by the migrations, seeds the demo cycle (three districts: knapsack,
approval, ranked) with voting open, a roll of 1.5 x N people and N random valid ballots
written as the cast path writes them (participation, ballot, chain entry, keyed receipt)
but in batches, then runs each step of the end of a cycle in a fresh process of its own:

    close    setup.close_voting                         (commit)
    count    publication.run_tally                      (count, build the bundle once,
                                                         verify it, keep it; commit)
    request  publication.request_publication            (checks the kept bundle's hash,
                                                         the chain and the inputs digest)
    confirm  publication.confirm_publication            (the same checks, commit)
    export   audit.export(..., with_chain=True)         (the kept bundle, its zip, chain.jsonl)
    verify   python -m pbvote.audit.verify ZIP --chain  (the standalone verifier)

For each: wall seconds, the process's peak resident memory, and the ratio of the time to a
baseline measured in the same run on the same database: one process reading every ballot's
selections and every chain entry (the least a step that looks at every ballot must do).
Figures are printed, not asserted; the load average is printed beside them, since the
machine may be shared.

--keep-seed keeps the seeded database (a SQLite file, or a PostgreSQL database used as a
template) under a name of its own (engine, N, schema revision) and reuses it on the next run
with the same N, so repeated runs skip seeding. --profile STEP writes cProfile output of
that step (the option may be repeated) to $TMPDIR/city_scale-STEP.prof and prints its top functions.
--save-bundle DIR copies the exported bundle zip and chain export there, so the verifier can
be measured again on them (benchmarks/verify_bench.py) without rerunning the cycle.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STEPS = ("close", "count", "request", "confirm", "export", "verify")
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEED_DIR = Path(tempfile.gettempdir()) / "pbvote-city-scale-seeds"
SECRET, IDENTITY_KEY = "city-scale-secret", "city-scale-identity"
BATCH = 5000


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _peak_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _app(url: str):
    from pbvote import create_app

    return create_app("default", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=SECRET,
                      IDENTITY_HMAC_KEY=IDENTITY_KEY)


# ------------------------------------------------------------------ databases
def _pg_admin(server: str):
    from sqlalchemy import create_engine

    return create_engine(server, isolation_level="AUTOCOMMIT")


def _pg_url(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _pg_exists(server: str, name: str) -> bool:
    from sqlalchemy import text

    engine = _pg_admin(server)
    with engine.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    engine.dispose()
    return bool(found)


def _pg_create(server: str, name: str, template: str | None = None) -> None:
    from sqlalchemy import text

    engine = _pg_admin(server)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    engine.dispose()


def _pg_drop(server: str, name: str) -> None:
    from sqlalchemy import text

    engine = _pg_admin(server)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(REPO / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(REPO / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    return "-".join(sorted(heads))


# ------------------------------------------------------------------ seeding
def seed(url: str, ballots: int, rng_seed: int) -> None:
    """The demo cycle with voting open, a roll, `ballots` cast ballots, and three accounts."""
    import datetime as dt
    import hashlib
    import secrets

    from flask_migrate import upgrade
    from sqlalchemy import insert, update

    from pbvote.audit.chain import canonical_json, receipt_from_entry_hash
    from pbvote.infra.db import utcnow, write_intent
    from pbvote.infra.extensions import db
    from pbvote.models import Account, Ballot, Chain, LogEntry, Participation, RollEntry
    from pbvote.rules import ballots as ballot_rules
    from pbvote.services import accounts, demo
    from pbvote.services.cycles import get_cycle
    from pbvote.services.log import ClaimedPosition
    from pbvote.services.simulate import random_selections

    app = _app(url)
    rng = random.Random(rng_seed)
    with app.app_context():
        upgrade(directory=str(REPO / "migrations"), revision="heads")
        with write_intent():
            demo.seed_demo(voters=30)
            for role, label in (("staff", "staff"), ("admin", "admin1"), ("admin", "admin2")):
                db.session.add(Account(
                    email=f"{label}@example.org", display_name=label, role=role,
                    password_hash=accounts.hash_password("city scale bench"),
                    totp_secret=None, totp_last_timecode=0, failed_attempts=0, is_active=True))
            db.session.commit()
        with write_intent():
            cycle = get_cycle(demo.DEMO_SLUG)
            districts = list(cycle.districts)
            designs = {d.id: (d.ballot_design(), d.project_costs()) for d in districts}
            connection = db.session.connection()
            today = utcnow().date()
            roll_rows = []
            for number in range(ballots * 3 // 2):
                district = districts[number % len(districts)]
                digest = hashlib.sha256(f"person {number}".encode()).hexdigest()
                roll_rows.append({
                    "cycle_id": cycle.id, "district_id": district.id,
                    "postcode_match_hash": hashlib.sha256(f"pc {number}".encode()).hexdigest(),
                    "roll_number_match_hash": hashlib.sha256(f"rn {number}".encode()).hexdigest(),
                    "birth_date": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 26000)),
                    "identity_hash": digest})
                if len(roll_rows) == BATCH:
                    connection.execute(insert(RollEntry.__table__), roll_rows)
                    roll_rows = []
            if roll_rows:
                connection.execute(insert(RollEntry.__table__), roll_rows)
            chain = db.session.get(Chain, cycle.chain_id)
            position, head = chain.length, chain.head_hash
            parts, rows, entries = [], [], []

            def flush_batch():
                connection.execute(insert(Participation.__table__), parts)
                connection.execute(insert(Ballot.__table__), rows)
                connection.execute(insert(LogEntry.__table__), entries)
                parts.clear(), rows.clear(), entries.clear()

            for number in range(ballots):
                district = districts[number % len(districts)]
                design, costs = designs[district.id]
                chosen = random_selections(design, costs, rng)
                stored = ballot_rules.selections_to_json(design, chosen)
                position += 1
                ballot_id = secrets.token_hex(16)
                text, digest = ClaimedPosition(chain.id, position, head).entry("ballot", {
                    "ballot_id": ballot_id, "cycle": cycle.slug, "district": district.slug,
                    "channel": "online", "selections": stored})
                person = hashlib.sha256(f"person {number}".encode()).hexdigest()
                parts.append({"id": secrets.token_hex(16), "cycle_id": cycle.id,
                              "district_id": district.id, "channel": "online", "site": "",
                              "identity_hash": person,
                              "voted_on": today})
                rows.append({"id": ballot_id, "cycle_id": cycle.id, "district_id": district.id,
                             "channel": "online", "selections": canonical_json(stored),
                             "receipt": receipt_from_entry_hash(digest, cycle.receipt_key or ""),
                             "chain_position": position})
                entries.append({"chain_id": chain.id, "position": position, "kind": "ballot",
                                "entry_json": text, "previous_hash": head, "entry_hash": digest})
                head = digest
                if len(rows) == BATCH:
                    flush_batch()
            if rows:
                flush_batch()
            connection.execute(update(Chain.__table__).where(Chain.__table__.c.id == chain.id)
                               .values(length=position, head_hash=head))
            db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(db.text("ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()


# ------------------------------------------------------------------ one step, in a child process
def _run_step(step: str, url: str, workdir: Path) -> dict:
    from sqlalchemy import select

    from pbvote.infra.db import write_intent
    from pbvote.infra.extensions import db
    from pbvote.models import Account, LogEntry, TallyRun
    from pbvote.services import audit, publication, setup
    from pbvote.services.cycles import get_cycle
    from pbvote.services.demo import DEMO_SLUG

    app = _app(url)
    with app.app_context():
        def account(label):
            return db.session.scalar(select(Account).where(Account.display_name == label))

        def latest_run(cycle):
            return db.session.scalar(select(TallyRun).where(TallyRun.cycle_id == cycle.id)
                                     .order_by(TallyRun.id.desc()))

        before = _peak_bytes()
        started = time.perf_counter()
        if step == "baseline":
            from pbvote.models import Ballot

            cycle = get_cycle(DEMO_SLUG)
            ballots = sum(len(json.loads(text)) >= 0 for text in db.session.scalars(
                select(Ballot.selections).where(Ballot.cycle_id == cycle.id)))
            entries = sum(1 for _ in db.session.scalars(
                select(LogEntry.entry_hash).where(LogEntry.chain_id == cycle.chain_id)
                .order_by(LogEntry.position)))
            detail = f"{ballots:,} ballots, {entries:,} chain entries read"
        elif step == "close":
            with write_intent():
                setup.close_voting(get_cycle(DEMO_SLUG), "staff")
                db.session.commit()
            detail = "voting closed"
        elif step == "count":
            with write_intent():
                run = publication.run_tally(get_cycle(DEMO_SLUG), account("staff"))
                db.session.commit()
                detail = f"tally run {run.id}, results {run.results_hash[:12]}"
        elif step == "request":
            with write_intent():
                cycle = get_cycle(DEMO_SLUG)
                publication.request_publication(cycle, latest_run(cycle), account("admin1"))
                db.session.commit()
            detail = "requested"
        elif step == "confirm":
            with write_intent():
                cycle = get_cycle(DEMO_SLUG)
                snapshot = publication.confirm_publication(cycle, latest_run(cycle),
                                                           account("admin2"))
                db.session.commit()
                detail = f"published {snapshot.results_hash[:12]}"
        elif step == "export":
            paths = audit.export(get_cycle(DEMO_SLUG), workdir / "export", with_chain=True)
            detail = (f"zip {paths.bundle_zip.stat().st_size / 1e6:.1f} MB, "
                      f"chain {paths.chain.stat().st_size / 1e6:.1f} MB")
        else:
            raise SystemExit(f"unknown step {step}")
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak": _peak_bytes(), "before": before, "detail": detail}


def _child(step: str, url: str, workdir: str, profile: bool) -> None:
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(_run_step, step, url, Path(workdir))
        out = Path(tempfile.gettempdir()) / f"city_scale-{step}.prof"
        profiler.dump_stats(out)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    else:
        result = _run_step(step, url, Path(workdir))
    print(json.dumps(result))


def _measure(step: str, url: str, workdir: Path, profile: bool) -> dict:
    if step == "verify":
        export = workdir / "export"
        command = [sys.executable, "-m", "pbvote.audit.verify",
                   str(export / "safer-streets-2027-results.zip"),
                   "--chain", str(export / "chain.jsonl")]
        if profile:
            command[1:3] = ["-m", "cProfile", "-s", "cumulative", "-m", "pbvote.audit.verify"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        output = process.stdout.read()
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if profile:
            print(output[:12000], file=sys.stderr)
        passed = "ALL CHECKS PASSED" in output
        if not passed or os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"verify failed:\n{output[-4000:]}")
        return {"seconds": elapsed, "peak": usage.ru_maxrss * 1024, "before": 0,
                "detail": "all checks passed (whole process, start-up included)"}
    command = [sys.executable, __file__, "--child", step, url, str(workdir)]
    if profile:
        command.append("--profile-child")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if profile:
        print(done.stderr, file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{done.stderr[-6000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seed_in_child(url: str, args) -> None:
    """Seed in a process of its own: a child forked from a large parent reports the
    parent's size as its own peak (ru_maxrss survives exec), so this one stays small."""
    done = subprocess.run([sys.executable, __file__, "--seed-child", url, "--ballots",
                           str(args.ballots), "--seed", str(args.seed)],
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"seeding failed:\n{done.stderr[-6000:]}")


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--ballots", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--keep-seed", action="store_true",
                        help="keep the seeded database and reuse it on the next run")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER)
    parser.add_argument("--profile", choices=STEPS, action="append", default=[],
                        help="cProfile this step (may be given more than once)")
    parser.add_argument("--save-bundle", type=Path, metavar="DIR",
                        help="copy the exported bundle zip and chain export into DIR")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--seed-child", help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child, profile=args.profile_child)
        return 0
    if args.seed_child:
        seed(args.seed_child, args.ballots, args.seed)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="pbvote-city-scale-"))
    revision = _head_revision()
    seed_name = f"cityscale_{args.engine}_{args.ballots}_{args.seed}_{revision}".replace("-", "_")
    seed_name = seed_name[:60].lower()
    print(f"{args.ballots:,} ballots on {args.engine}; {_load()}")
    started = time.perf_counter()
    if args.engine == "sqlite":
        url = f"sqlite:///{workdir / 'city.sqlite3'}"
        kept = SEED_DIR / f"{seed_name}.sqlite3"
        if args.keep_seed and kept.exists():
            shutil.copyfile(kept, workdir / "city.sqlite3")
            how = f"copied the kept seed {kept}"
        else:
            _seed_in_child(url, args)
            how = "seeded"
            if args.keep_seed:
                SEED_DIR.mkdir(exist_ok=True)
                shutil.copyfile(workdir / "city.sqlite3", kept)
                how += f", kept as {kept}"
    else:
        work_name = f"pbvote_city_scale_{os.getpid()}"
        url = _pg_url(args.pg_server, work_name)
        if args.keep_seed and _pg_exists(args.pg_server, seed_name):
            _pg_create(args.pg_server, work_name, template=seed_name)
            how = f"copied the kept seed database {seed_name}"
        else:
            _pg_create(args.pg_server, work_name)
            _seed_in_child(url, args)
            how = "seeded"
            if args.keep_seed:
                _pg_create(args.pg_server, seed_name, template=work_name)
                how += f", kept as database {seed_name}"
    print(f"{how} in {time.perf_counter() - started:.1f} s; {_load()}")
    try:
        baseline = _measure("baseline", url, workdir, False)
        print(f"{'step':<9} {'seconds':>8} {'peak MB':>8} {'x baseline':>10}  load (1 min)  detail")
        print(f"{'baseline':<9} {baseline['seconds']:>8.2f} {baseline['peak'] / 2**20:>8.0f} "
              f"{1:>10.1f}  {os.getloadavg()[0]:>12.2f}  {baseline['detail']}")
        total = 0.0
        for step in STEPS:
            got = _measure(step, url, workdir, step in args.profile)
            total += got["seconds"]
            print(f"{step:<9} {got['seconds']:>8.2f} {got['peak'] / 2**20:>8.0f} "
                  f"{got['seconds'] / baseline['seconds']:>10.1f}  {os.getloadavg()[0]:>12.2f}  "
                  f"{got['detail']}", flush=True)
            if step == "export" and args.save_bundle:
                args.save_bundle.mkdir(parents=True, exist_ok=True)
                for name in ("safer-streets-2027-results.zip", "chain.jsonl"):
                    shutil.copyfile(workdir / "export" / name, args.save_bundle / name)
        print(f"{'total':<9} {total:>8.2f} {'':>8} {total / baseline['seconds']:>10.1f}  "
              f"{_load()}")
    finally:
        if args.engine == "postgresql":
            _pg_drop(args.pg_server, work_name)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
