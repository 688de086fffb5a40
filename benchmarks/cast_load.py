"""Casting under load: pbvote under gunicorn, driven over HTTP from separate processes.

    .venv/bin/python benchmarks/cast_load.py [--engines sqlite,postgresql] [--roll 50000] …

For each engine it builds a fresh database by the migrations, seeds the demo cycle plus a
roll of known people, starts gunicorn on 127.0.0.1, and measures, with concurrent clients
and a bounded number of requests and time:

- requests/s on a trivial endpoint (a static file) — the server's own ceiling here;
- full voter journeys/s: verify page → roll match → ballot → post ballot → review → cast →
  receipt, each a real HTTP request with cookies and CSRF tokens;
- ballot-cast requests/s on their own: sessions are verified and filled first, then only the
  POST /cast requests are timed;
- p50/p95/p99 latencies, errors by kind, and the ratios to the trivial endpoint;
- CPU milliseconds per operation, of the gunicorn processes, of this machine's PostgreSQL
  processes (SQLite runs inside gunicorn's) and of the load generator apart, and the rate
  those would allow if the machine's cores did nothing else: the figure that
  tells how far code changes moved things on a machine whose load varies.

With --repeat N the three phases run N times on the same server, each with people of its
own, and the table shows the run with the median rate, with every run's rate beside it: on
a machine shared with other work a single run can be a fifth off.

The figures are printed, not asserted: the exit status is non-zero only when the benchmark
itself could not run. The load generator shares the machine with the server.
"""
from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.hardening.harness import (  # noqa: E402
    LOAD_POSTCODES,
    TRIVIAL_PATH,
    Browser,
    GunicornServer,
    UnexpectedResponse,
    Voter,
    free_port,
    load_person,
    seed_load_cycle,
    server_environment,
)

SECRET = "benchmark-secret-key"
IDENTITY_KEY = "benchmark-identity-key"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench"


# ------------------------------------------------------------------ client processes


def _client_process(phase: str, port: int, slug: str, people: list[int], threads: int,
                    seconds: float, prepare_seconds: float, barrier, timing, results) -> None:
    """One load-generating process: `threads` browsers, each on its own slice of `people`."""
    slugs = sorted(LOAD_POSTCODES)
    slices = [people[i::threads] for i in range(threads)]
    outcome = {"ok": 0, "latencies": [], "steps": [], "errors": Counter(), "start": 0.0,
               "end": 0.0}
    lock = threading.Lock()
    prepared: list[list[Voter]] = [[] for _ in range(threads)]

    def prepare(index: int, deadline: float) -> None:
        # cast phase only: verified sessions with a filled ballot, not timed
        browser = Browser(port)
        for number in slices[index]:
            if time.time() >= deadline:
                break
            voter = Voter(browser, slug, load_person(number, slugs))
            try:
                voter.verify()
                voter.fill_ballot()
            except Exception as error:  # noqa: BLE001 - counted by kind, the run goes on
                with lock:
                    outcome["errors"][f"prepare: {_kind(error)}"] += 1
                continue
            # The session lives in its cookie; the thread's connection is shared at cast time.
            voter.browser = _SharedConnection(None, dict(browser.cookies))
            prepared[index].append(voter)
            browser.cookies = {}
        browser.close()

    def run(index: int, deadline: float) -> None:
        browser = Browser(port)
        ok, latencies, steps, errors = 0, [], [], Counter()
        work = prepared[index] if phase == "cast" else slices[index]
        for item in work:
            if time.time() >= deadline:
                break
            started = time.perf_counter()
            try:
                if phase == "trivial":
                    status, _, _ = browser.request("GET", TRIVIAL_PATH)
                    if status != 200:
                        raise UnexpectedResponse("trivial", status)
                elif phase == "journey":
                    voter = Voter(_TimedBrowser(browser, steps), slug, load_person(item, slugs))
                    voter.journey()
                    browser.cookies = {}
                else:
                    item.browser.browser = browser
                    item.cast()
            except Exception as error:  # noqa: BLE001 - counted by kind, the run goes on
                errors[_kind(error)] += 1
                browser.cookies = {}
                continue
            latencies.append(time.perf_counter() - started)
            ok += 1
        browser.close()
        with lock:
            outcome["ok"] += ok
            outcome["latencies"].extend(latencies)
            outcome["steps"].extend(steps)
            outcome["errors"].update(errors)

    if phase == "cast":
        prepare_deadline = time.time() + prepare_seconds
        workers = [threading.Thread(target=prepare, args=(i, prepare_deadline))
                   for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    barrier.wait(timeout=600)
    timing.set()
    outcome["start"] = time.time()
    cpu_start = time.process_time()
    deadline = outcome["start"] + seconds
    workers = [threading.Thread(target=run, args=(i, deadline)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    outcome["end"] = time.time()
    outcome["cpu"] = time.process_time() - cpu_start
    outcome["errors"] = dict(outcome["errors"])
    results.put(outcome)


class _TimedBrowser:
    """Wraps a Browser to record each request's latency inside a journey."""

    def __init__(self, browser: Browser, sink: list[float]):
        self._browser, self._sink = browser, sink

    def request(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._browser.request(*args, **kwargs)
        finally:
            self._sink.append(time.perf_counter() - started)


class _SharedConnection:
    """A prepared voter's cookies on the thread's one keep-alive connection."""

    def __init__(self, browser: Browser | None, cookies: dict[str, str]):
        self.browser, self._cookies = browser, cookies

    def request(self, *args, **kwargs):
        self.browser.cookies = self._cookies
        return self.browser.request(*args, **kwargs)


def _kind(error: Exception) -> str:
    if isinstance(error, UnexpectedResponse):
        return error.kind
    return type(error).__name__


def group_cpu_seconds(process_group: int) -> float:
    """User + system CPU seconds of every live process in a process group (Linux /proc)."""
    return _cpu_seconds(lambda name, group: group == process_group)


def database_cpu_seconds() -> float:
    """CPU seconds of this machine's PostgreSQL processes: the server and its backends share
    the cores with the app, so their work per operation belongs in the figures."""
    return _cpu_seconds(lambda name, group: name == "postgres")


def _cpu_seconds(wanted) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
            fields = rest.split()
        except OSError:
            continue
        # after the command name: state ppid pgrp … utime (12th) stime (13th)
        if wanted(name, int(fields[2])):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def run_phase(phase: str, port: int, slug: str, people: list[int], processes: int,
              threads: int, seconds: float, prepare_seconds: float = 0.0,
              server_group: int | None = None) -> dict:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    timing = context.Event()
    results = context.Queue()
    children = [context.Process(target=_client_process, args=(
        phase, port, slug, people[i::processes], threads, seconds, prepare_seconds, barrier,
        timing, results))
        for i in range(processes)]
    for child in children:
        child.start()
    # The cast phase first prepares its sessions: count the server's CPU from the moment
    # the clients start timing.
    timing.wait(timeout=prepare_seconds + 600)
    server_cpu_start = group_cpu_seconds(server_group) if server_group else 0.0
    database_cpu_start = database_cpu_seconds()
    outcomes = [results.get(timeout=seconds + prepare_seconds + 600) for _ in children]
    server_cpu = group_cpu_seconds(server_group) - server_cpu_start if server_group else 0.0
    database_cpu = database_cpu_seconds() - database_cpu_start
    for child in children:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
        if child.exitcode not in (0, None):
            raise RuntimeError(f"a client process of phase {phase} failed")
    merged = {"ok": sum(o["ok"] for o in outcomes),
              "latencies": sorted(x for o in outcomes for x in o["latencies"]),
              "steps": sorted(x for o in outcomes for x in o["steps"]),
              "errors": Counter()}
    for outcome in outcomes:
        merged["errors"].update(outcome["errors"])
    merged["seconds"] = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    merged["client_cpu"] = sum(o["cpu"] for o in outcomes)
    merged["server_cpu"] = server_cpu
    merged["database_cpu"] = database_cpu
    merged["rate"] = merged["ok"] / merged["seconds"] if merged["seconds"] > 0 else 0.0
    return merged


def median_run(runs: list[dict]) -> dict:
    """The repetition with the median rate: on a machine shared with other work one run
    can be far off, so with --repeat the table shows the middle one and the spread."""
    return sorted(runs, key=lambda run: run["rate"])[(len(runs) - 1) // 2]


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


# ------------------------------------------------------------------ per engine


def prepare_database(engine: str, workdir: Path, pg_url: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(pg_url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": target.database}):
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine_ = create_engine(target, isolation_level="AUTOCOMMIT")
    with engine_.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine_.dispose()
    return pg_url


def bench_engine(engine: str, options) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"pbvote-bench-{engine}-"))
    url = prepare_database(engine, workdir, options.pg_url)
    env = server_environment(url, workdir / "instance", SECRET, IDENTITY_KEY)
    os.environ.update(env)
    from flask_migrate import upgrade

    from pbvote import create_app
    from pbvote.infra.extensions import db

    app = create_app("default")
    started = time.perf_counter()
    with app.app_context():
        upgrade(revision="heads")
    slug = seed_load_cycle(app, options.roll)
    with app.app_context():
        db.engine.dispose()
    print(f"[{engine}] database built and {options.roll} roll entries seeded in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    port = free_port()
    server = GunicornServer(port, env, workdir / "gunicorn.log", workers=options.workers,
                            threads=options.threads)
    figures: dict = {"engine": engine}
    try:
        server.start()
        # Warm every worker (imports, templates, pools) before measuring.
        run_phase("trivial", port, slug, list(range(200)), 1, 4, 2)
        group = server.process.pid  # gunicorn runs in a process group of its own
        half = options.roll // 2
        # each repetition votes with people of its own: nobody casts twice
        journey_share = min(half // options.repeat, options.max_journeys)
        cast_share = min((options.roll - half) // options.repeat, options.max_casts)
        runs = {"trivial": [], "journey": [], "cast": []}
        for repetition in range(options.repeat):
            journeys = list(range(repetition * journey_share, (repetition + 1) * journey_share))
            casts = list(range(half + repetition * cast_share,
                               half + (repetition + 1) * cast_share))
            runs["trivial"].append(run_phase(
                "trivial", port, slug, list(range(options.max_trivial)), options.processes,
                options.clients, options.seconds, server_group=group))
            runs["journey"].append(run_phase(
                "journey", port, slug, journeys, options.processes, options.clients,
                options.seconds, server_group=group))
            runs["cast"].append(run_phase(
                "cast", port, slug, casts, options.processes, options.clients,
                options.seconds, options.prepare_seconds, server_group=group))
        for phase, phase_runs in runs.items():
            figures[phase] = median_run(phase_runs)
            figures[phase]["all_rates"] = [run["rate"] for run in phase_runs]
    finally:
        server.stop()
    with app.app_context():
        from sqlalchemy import func, select

        from pbvote.models import Ballot, Cycle, Participation
        from pbvote.services.log import verify_stored_chain

        cycle = db.session.scalars(select(Cycle).where(Cycle.slug == slug)).one()
        figures["ballots"] = db.session.scalar(select(func.count()).select_from(Ballot))
        figures["participations"] = db.session.scalar(
            select(func.count()).select_from(Participation))
        figures["chain_ok"] = verify_stored_chain(cycle.chain_id).ok
        db.session.remove()
        db.engine.dispose()
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def print_table(figures: dict, options) -> None:
    trivial = figures["trivial"]["rate"]
    print()
    print(f"=== {figures['engine']}: gunicorn {options.workers} workers × {options.threads} "
          f"threads; {options.processes} client processes × {options.clients} clients; "
          f"roll {options.roll} ===")
    print(f"{'measure':<24}{'count':>8}{'per s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'÷ trivial':>11}")
    rows = [("trivial GET (static)", figures["trivial"], figures["trivial"]["latencies"]),
            ("full journeys", figures["journey"], figures["journey"]["latencies"]),
            ("  requests in journeys", {"ok": len(figures["journey"]["steps"]),
                                        "rate": len(figures["journey"]["steps"]) /
                                        figures["journey"]["seconds"]},
             figures["journey"]["steps"]),
            ("cast requests", figures["cast"], figures["cast"]["latencies"])]
    for label, data, latencies in rows:
        ratio = data["rate"] / trivial if trivial else float("nan")
        print(f"{label:<24}{data['ok']:>8}{data['rate']:>10.1f}{_ms(percentile(latencies, .5)):>9}"
              f"{_ms(percentile(latencies, .95)):>9}{_ms(percentile(latencies, .99)):>9}"
              f"{ratio:>11.3f}")
    print()
    if options.repeat > 1:
        spread = "; ".join(
            f"{phase} " + ", ".join(f"{rate:.1f}" for rate in figures[phase]["all_rates"])
            for phase in ("trivial", "journey", "cast"))
        print(f"rates of the {options.repeat} repetitions (the table shows the median one): "
              f"{spread}")
        print()
    print(f"{'CPU per operation':<24}{'server ms':>10}{'database ms':>12}{'clients ms':>11}"
          f"{'ceiling/s on ' + str(os.cpu_count()) + ' cores':>22}")
    for label, phase in (("trivial GET", "trivial"), ("full journey", "journey"),
                         ("cast request", "cast")):
        data = figures[phase]
        if not data["ok"]:
            continue
        server, client = data["server_cpu"] / data["ok"], data["client_cpu"] / data["ok"]
        # SQLite works inside the server's processes; PostgreSQL's backends are apart
        database = data["database_cpu"] / data["ok"]
        # if the machine did nothing else, this is as fast as this code could go here
        total = server + database + client
        ceiling = os.cpu_count() / total if total else float("nan")
        print(f"{label:<24}{server * 1000:>10.2f}{database * 1000:>12.2f}{client * 1000:>11.2f}"
              f"{ceiling:>22.1f}")
    errors = Counter()
    for phase in ("trivial", "journey", "cast"):
        for kind, count in figures[phase]["errors"].items():
            errors[f"{phase} / {kind}"] += count
    print("errors: " + (", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "none"))
    print(f"after the run: {figures['ballots']} ballots, {figures['participations']} "
          f"participations, chain verifies: {figures['chain_ok']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("PBVOTE_BENCH_POSTGRES_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--roll", type=int, default=50_000, help="roll entries to seed")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--clients", type=int, default=8, help="client threads per process")
    parser.add_argument("--seconds", type=float, default=8.0, help="time bound of each phase")
    parser.add_argument("--prepare-seconds", type=float, default=30.0,
                        help="time bound for verifying the sessions of the cast phase")
    parser.add_argument("--max-journeys", type=int, default=4000)
    parser.add_argument("--max-casts", type=int, default=3000)
    parser.add_argument("--max-trivial", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the three phases this many times and report the median")
    options = parser.parse_args(argv)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    # the optional `speed` extra: gunicorn parses HTTP in C when gunicorn_h1c is installed
    parser_kind = "C (gunicorn_h1c)" if importlib.util.find_spec("gunicorn_h1c") else "Python"
    print(f"gunicorn's HTTP parser: {parser_kind}", flush=True)
    for engine in [e.strip() for e in options.engines.split(",") if e.strip()]:
        figures = bench_engine(engine, options)
        print_table(figures, options)
        print(f"load average now: {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
