"""Benchmark: the public results page (with its explanations) and the turnout dashboard with
100,000 ballots (the issue's target: 300,000, `--ballots 300000`), against a trivial page.

    .venv/bin/python benchmarks/results_page_bench.py                  # SQLite in a temp dir
    .venv/bin/python benchmarks/results_page_bench.py --ballots 20000 --requests 100
    .venv/bin/python benchmarks/results_page_bench.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench_results

Seeds the demo cycle with a roll a little larger than --ballots, writes that many valid random
ballots in bulk (each with its participation, a correctly chained log entry and its receipt,
exactly as cast_ballot would store them, only in batches), closes voting, counts, publishes
with two admins, then times GET requests through the WSGI app in this process: the results
page, the results document, the public turnout page (the dashboard's figures, suppressed),
the results workbook and the home page as the trivial baseline, then the results and
turnout pages again with their rendered sections forgotten before each request (as before
they were kept). Prints mean, median and p95 per page and each page's p95 as a multiple
of the trivial page's, plus the time of the count and of the first (uncached) results
request, and how much computing the explanations (pbvote.tally.analysis) adds to counting
each district.
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


def _prepare_database(url: str | None) -> str:
    if url is None:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='pbvote-bench-')) / 'bench.sqlite3'}"
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        target = make_url(url)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": target.database}):
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        engine = create_engine(target, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return url


def _bulk_ballots(cycle, count: int, seed: int) -> None:
    """`count` ballots for distinct roll entries, stored as cast_ballot stores them."""
    from sqlalchemy import insert, select

    from pbvote.audit.chain import canonical_json, entry_hash, receipt_from_entry_hash
    from pbvote.infra.extensions import db
    from pbvote.models import Ballot, Chain, LogEntry, Participation, RollEntry
    from pbvote.rules import ballots as ballot_rules
    from pbvote.services.simulate import random_selections

    rng = random.Random(seed)
    window = cycle.phase_window("voting")
    voted_on = (window.starts_at + dt.timedelta(days=1)).date()
    entries = db.session.execute(select(RollEntry.district_id, RollEntry.identity_hash)
                                 .where(RollEntry.cycle_id == cycle.id)
                                 .order_by(RollEntry.id).limit(count)).all()
    if len(entries) < count:
        raise SystemExit(f"only {len(entries)} roll entries for {count} ballots")
    districts = {d.id: (d, d.ballot_design(), d.project_costs()) for d in cycle.districts}
    chain = db.session.get(Chain, cycle.chain_id)
    position, head = chain.length, chain.head_hash
    receipts: set[str] = set()
    batch_size = 5000
    for start in range(0, count, batch_size):
        participations, logs, stored = [], [], []
        for district_id, identity_hash in entries[start:start + batch_size]:
            district, design, costs = districts[district_id]
            selections = ballot_rules.selections_to_json(
                design, random_selections(design, costs, rng))
            while True:
                ballot_id = secrets.token_hex(16)
                text = canonical_json({"position": position + 1, "kind": "ballot", "data": {
                    "ballot_id": ballot_id, "cycle": cycle.slug, "district": district.slug,
                    "channel": "online", "selections": selections}})
                digest = entry_hash(head, text)
                receipt = receipt_from_entry_hash(digest, cycle.receipt_key or "")
                if receipt not in receipts:
                    break
            receipts.add(receipt)
            position += 1
            participations.append({"id": secrets.token_hex(16), "cycle_id": cycle.id,
                                   "district_id": district_id, "identity_hash": identity_hash,
                                   "channel": "online", "site": "", "voted_on": voted_on})
            logs.append({"chain_id": chain.id, "position": position, "kind": "ballot",
                         "entry_json": text, "previous_hash": head, "entry_hash": digest})
            stored.append({"id": ballot_id, "cycle_id": cycle.id, "district_id": district_id,
                           "channel": "online", "selections": canonical_json(selections),
                           "receipt": receipt, "chain_position": position})
            head = digest
        db.session.execute(insert(Participation), participations)
        db.session.execute(insert(LogEntry), logs)
        db.session.execute(insert(Ballot), stored)
        print(f"  {min(start + batch_size, count):,}/{count:,} ballots", file=sys.stderr)
    chain.length, chain.head_hash = position, head
    db.session.flush()


def _timings(client, path: str, requests: int, before=None) -> dict:
    samples = []
    for _ in range(requests):
        if before is not None:
            before()
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return {"mean": statistics.fmean(samples), "median": statistics.median(samples),
            "p95": samples[max(0, int(round(0.95 * len(samples))) - 1)],
            "bytes": len(response.data)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    os.environ.setdefault("PBVOTE_INSTANCE_PATH", tempfile.mkdtemp(prefix="pbvote-bench-inst-"))
    url = _prepare_database(args.database_url)
    from flask_migrate import upgrade

    from pbvote import create_app
    from pbvote.infra.db import utcnow, write_intent
    from pbvote.infra.extensions import db
    from pbvote.models import Account
    from pbvote.services import publication, setup
    from pbvote.services.cycles import get_cycle
    from pbvote.services.demo import DEMO_SLUG, seed_demo

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade(revision="heads")
        began = time.perf_counter()
        with write_intent():
            seed_demo(voters=args.ballots + args.ballots // 10, seed=args.seed)
            db.session.commit()
        with write_intent():
            cycle = get_cycle(DEMO_SLUG)
            _bulk_ballots(cycle, args.ballots, args.seed)
            setup.close_voting(cycle, "benchmark", now=utcnow())
            people = [Account(email=f"{role}{n}@bench.example", role=role, is_active=True,
                              display_name="bench")
                      for n, role in enumerate(("staff", "admin", "admin"))]
            db.session.add_all(people)
            db.session.flush()
            people_ids = [p.id for p in people]  # read before the commit expires them
            db.session.commit()
        seeded = time.perf_counter() - began
        from pbvote.services.log import verify_stored_chain

        assert verify_stored_chain(get_cycle(DEMO_SLUG).chain_id).ok, "bulk ballots broke the chain"
        with write_intent():
            cycle = get_cycle(DEMO_SLUG)
            staff, admin, admin2 = (db.session.get(Account, i) for i in people_ids)
            counting = time.perf_counter()
            run = publication.run_tally(cycle, staff)
            counted = time.perf_counter() - counting
            publication.request_publication(cycle, run, admin)
            confirming = time.perf_counter()
            snapshot = publication.confirm_publication(cycle, run, admin2)
            confirmed = time.perf_counter() - confirming
            size = len(snapshot.results_json)
            db.session.commit()

    with app.app_context():
        from pbvote.services.tally import district_election
        from pbvote.tally import run_rule
        from pbvote.tally.analysis import analyse

        explain_rows = []
        for district in get_cycle(DEMO_SLUG).districts:
            election = district_election(district)
            began = time.perf_counter()
            outcome = run_rule(election.instance, election.profile, election.rule,
                               election.params)
            count_s = time.perf_counter() - began
            began = time.perf_counter()
            analyse(election.instance, election.profile, outcome)
            explain_s = time.perf_counter() - began
            explain_rows.append((district.name, election.rule, count_s, explain_s))
        db.session.rollback()

    client = app.test_client()
    first = time.perf_counter()
    assert client.get(f"/cycles/{DEMO_SLUG}/results").status_code == 200
    first_ms = (time.perf_counter() - first) * 1000
    pages = {
        "results page": f"/cycles/{DEMO_SLUG}/results",
        "results.json": f"/cycles/{DEMO_SLUG}/results.json",
        "turnout (public)": f"/cycles/{DEMO_SLUG}/turnout",
        "results.xlsx": f"/cycles/{DEMO_SLUG}/results.xlsx",
        "home page (trivial)": "/",
    }
    measured = {name: _timings(client, path, args.requests) for name, path in pages.items()}
    # before the sections were kept: the same pages with their rendered sections forgotten
    # before each request (the prepared figures stay cached, as they were then)
    from pbvote.web import results as results_view
    from pbvote.web import turnout as turnout_view

    measured["results, no sections kept"] = _timings(
        client, pages["results page"], args.requests, results_view._SECTIONS_CACHE.clear)
    measured["turnout, no sections kept"] = _timings(
        client, pages["turnout (public)"], args.requests, turnout_view._SECTIONS.clear)

    engine = url.split(":", 1)[0]
    print(f"\n{args.ballots:,} ballots on {engine}; seeding took {seeded:.1f} s")
    print(f"count (run_tally, 3 districts): {counted:.2f} s; confirm (recount + snapshot): "
          f"{confirmed:.2f} s; snapshot {size:,} bytes")
    print(f"first results request (parses the snapshot, renders): {first_ms:.1f} ms")
    print(f"{'page':<26}{'mean ms':>10}{'median ms':>11}{'p95 ms':>9}{'bytes':>9}   "
          f"({args.requests} requests each)")
    trivial = measured["home page (trivial)"]["p95"]
    for name, m in measured.items():
        print(f"{name:<26}{m['mean']:>10.2f}{m['median']:>11.2f}{m['p95']:>9.2f}{m['bytes']:>9,}"
              f"   p95 {m['p95'] / trivial:.1f}× the trivial page")
    print(f"{'district':<12}{'rule':<20}{'count s':>9}{'explain s':>11}{'added':>8}")
    for name, rule, count_s, explain_s in explain_rows:
        print(f"{name:<12}{rule:<20}{count_s:>9.2f}{explain_s:>11.2f}"
              f"{100 * explain_s / count_s:>7.0f}%")
    total_count = sum(r[2] for r in explain_rows)
    total_explain = sum(r[3] for r in explain_rows)
    print(f"explanations add {100 * total_explain / total_count:.0f}% to the count "
          f"({total_explain:.2f} s on {total_count:.2f} s)")


if __name__ == "__main__":
    main()
