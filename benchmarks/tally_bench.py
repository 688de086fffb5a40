"""Benchmark: pbvote's tally engine against pabutools 1.2.3 on a synthetic approval election.

    .venv/bin/python benchmarks/tally_bench.py                      # the spec: 100,000 voters x 100 projects
    .venv/bin/python benchmarks/tally_bench.py --voters 10000 --skip-pabutools-add1

The election is seeded and reproducible: project popularity follows a skewed (log-normal)
distribution, each voter approves 1-8 projects drawn by popularity, costs are whole amounts
between 10,000 and 400,000, and the budget is a whole number of currency units per voter
(so equalshares.net's integral add1 start and pabutools' start coincide).

Every measurement runs in its own subprocess: time covers building the engine's profile from
the plain ballots plus the count, as wall-clock and CPU time (CPU time is steadier on a shared
machine); pbvote is measured --repeat times and the best kept, pabutools once; peak memory is that process's maximum resident set size
(it includes the plain ballots both engines start from, reported separately as "baseline").
pabutools gets our tie-break (lowest cost, most votes, seeded lot), so outcomes must be identical.
Also times pbvote's greedy on --greedy-ballots ballots (default 1,000,000), and counts the whole
shared Pabulib corpus (../shared/pabulib/corpus, or --corpus DIR) in one process: read, count
under the file's META rule and compare with the official outcome, printing the total time, the
slowest file and how many reproduce (goals: every file at most 2 s, the corpus at most 3 min).
``--corpus-only`` skips the synthetic election.
"""
from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RULES = {  # name -> (pbvote rule, pbvote params, pabutools call)
    "greedy": ("greedy", {}, "greedy"),
    "MES": ("equalshares", {}, "mes"),
    "MES+add1": ("equalshares/add1", {}, "mes_add1"),
}


def generate(voters: int, projects: int, seed: int):
    rng = random.Random(seed)
    ids = [f"p{i:03d}" for i in range(projects)]
    costs = {pid: rng.randrange(10, 401) * 1000 for pid in ids}
    popularity = [math.exp(rng.gauss(0, 1)) for _ in ids]
    cumulative, total = [], 0.0
    for w in popularity:
        total += w
        cumulative.append(total)
    ballots = []
    for _ in range(voters):
        k = min(projects, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8)))
        chosen: set[str] = set()
        while len(chosen) < k:
            chosen.update(rng.choices(ids, cum_weights=cumulative, k=k - len(chosen)))
        ballots.append(sorted(chosen))
    per_voter = max(1, round(sum(costs.values()) * 0.2 / voters))
    return {"ids": ids, "costs": costs, "budget": per_voter * voters, "ballots": ballots, "seed": str(seed)}


# ----- child processes ----------------------------------------------------------------------------
def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def child(engine: str, rule: str, data_path: str, repeat_ballots: int) -> None:
    sys.path.insert(0, str(REPO))
    with open(data_path, "rb") as fh:
        data = pickle.load(fh)
    ballots = data["ballots"]
    if repeat_ballots and repeat_ballots > len(ballots):
        ballots = (ballots * (repeat_ballots // len(ballots) + 1))[:repeat_ballots]
    baseline = _maxrss_bytes()
    from pbvote.tally import Instance, Profile, run_rule
    from pbvote.tally.ties import TieBreaker

    inst = Instance.from_plain(budget=data["budget"], projects=[(p, data["costs"][p]) for p in data["ids"]])
    if engine == "pbvote":
        start, cpu = time.perf_counter(), time.process_time()
        prof = Profile.approval(inst, ballots)
        name, params, _ = RULES[rule]
        outcome = run_rule(inst, prof, name, {**params, "tie_seed": data["seed"]})
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        selected = outcome.selected
    else:
        from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat
        from pabutools.election import Instance as PInstance
        from pabutools.election import Project as PProject
        from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
        from pabutools.tiebreaking import TieBreakingRule

        ours = TieBreaker(inst, Profile.approval(inst, ballots).supporters(), "lot", data["seed"])
        tie = TieBreakingRule(lambda _i, _p, project: ours.key(project.name))
        start, cpu = time.perf_counter(), time.process_time()
        projects = {p: PProject(p, data["costs"][p]) for p in data["ids"]}
        pinst = PInstance(projects.values(), budget_limit=data["budget"])
        pprof = ApprovalProfile([ApprovalBallot([projects[p] for p in b]) for b in ballots], instance=pinst)
        kind = RULES[rule][2]
        if kind == "greedy":
            alloc = greedy_utilitarian_welfare(pinst, pprof, sat_class=Cost_Sat, tie_breaking=tie)
        elif kind == "mes":
            alloc = method_of_equal_shares(pinst, pprof, sat_class=Cost_Sat, tie_breaking=tie)
        else:
            alloc = method_of_equal_shares(pinst, pprof, sat_class=Cost_Sat, tie_breaking=tie,
                                           voter_budget_increment=1)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        selected = [p.name for p in alloc]
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_bytes": _maxrss_bytes(), "baseline_bytes": baseline,
                      "selected": selected}))


def measure(engine: str, rule: str, data_path: str, repeat_ballots: int = 0, runs: int = 1) -> dict:
    """Best of ``runs`` fresh processes (time and memory are each the minimum over the runs)."""
    best = None
    for _ in range(runs):
        res = subprocess.run([sys.executable, __file__, "--child", engine, rule, data_path, str(repeat_ballots)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"{engine} {rule} failed:\n{res.stderr}")
        got = json.loads(res.stdout.strip().splitlines()[-1])
        if best is None:
            best = got
        else:
            assert got["selected"] == best["selected"]
            for key in ("seconds", "cpu_seconds", "peak_bytes"):
                best[key] = min(best[key], got[key])
    return best


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voters", type=int, default=100_000)
    ap.add_argument("--projects", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--rules", default="greedy,MES,MES+add1", help="comma-separated: greedy, MES, MES+add1")
    ap.add_argument("--skip-pabutools", action="store_true", help="time pbvote only")
    ap.add_argument("--skip-pabutools-add1", action="store_true", help="pabutools MES+add1 takes minutes")
    ap.add_argument("--greedy-ballots", type=int, default=1_000_000,
                    help="also time pbvote greedy on this many ballots (0: skip)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="pbvote runs per measurement, best kept (pabutools runs once: it takes minutes)")
    ap.add_argument("--corpus", default=str(REPO.parent / "shared" / "pabulib" / "corpus"),
                    help="directory of .pb files counted in one process ('' to skip)")
    ap.add_argument("--corpus-only", action="store_true", help="only the corpus, not the synthetic election")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        engine, rule, path, repeat = args.child
        child(engine, rule, path, int(repeat))
        return 0
    if args.corpus_only:
        return corpus(args.corpus)

    t0 = time.perf_counter()
    data = generate(args.voters, args.projects, args.seed)
    distinct = len({tuple(b) for b in data["ballots"]})
    print(f"Synthetic approval election: {args.voters:,} voters x {args.projects} projects, seed {args.seed}, "
          f"budget {data['budget']:,} ({data['budget'] // args.voters} per voter), "
          f"{distinct:,} distinct ballots, "
          f"{sum(map(len, data['ballots'])) / args.voters:.2f} approvals per voter "
          f"(generated in {time.perf_counter() - t0:.1f} s)")
    sys.path.insert(0, str(REPO))
    from pbvote.tally import HAVE_GMPY2
    print(f"Python {sys.version.split()[0]}; pbvote exact arithmetic: {'gmpy2.mpq' if HAVE_GMPY2 else 'Fraction'}")
    print()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "election.pickle")
        with open(path, "wb") as fh:
            pickle.dump(data, fh)
        header = (f"{'rule':<9} {'pbvote wall/cpu':>16} {'pabutools wall/cpu':>19} {'speed-up wall/cpu':>18} "
                  f"{'peak pbvote':>12} {'peak pabutools':>15} {'ratio':>6}  identical")
        print(header)
        print("-" * len(header))
        for rule in [r.strip() for r in args.rules.split(",") if r.strip()]:
            ours = measure("pbvote", rule, path, runs=args.repeat)
            skip = args.skip_pabutools or (rule == "MES+add1" and args.skip_pabutools_add1)
            mine = f"{ours['seconds']:.2f}/{ours['cpu_seconds']:.2f}s"
            if skip:
                print(f"{rule:<9} {mine:>16} {'-':>19} {'-':>18} {mb(ours['peak_bytes']):>12} {'-':>15} "
                      f"{'-':>6}  (pabutools skipped; {len(ours['selected'])} projects)")
                continue
            theirs = measure("pabutools", rule, path)
            same = ours["selected"] == theirs["selected"]
            ok &= same
            speed = (f"{theirs['seconds'] / ours['seconds']:.1f}x/"
                     f"{theirs['cpu_seconds'] / ours['cpu_seconds']:.1f}x")
            print(f"{rule:<9} {mine:>16} {theirs['seconds']:>10.2f}/{theirs['cpu_seconds']:.2f}s {speed:>18} "
                  f"{mb(ours['peak_bytes']):>12} {mb(theirs['peak_bytes']):>15} "
                  f"{ours['peak_bytes'] / theirs['peak_bytes']:>6.0%}  "
                  f"{'yes' if same else 'NO'} ({len(ours['selected'])} projects)")
        print(f"(baseline: a process holding just the plain ballots peaks at {mb(ours['baseline_bytes'])})")
        print("goal: MES and MES+add1 at least 50x faster than pabutools, identical outcomes")
        if args.greedy_ballots:
            big = measure("pbvote", "greedy", path, args.greedy_ballots, runs=args.repeat)
            print(f"\npbvote greedy on {args.greedy_ballots:,} ballots: {big['seconds']:.2f} s wall, "
                  f"{big['cpu_seconds']:.2f} s cpu (peak {mb(big['peak_bytes'])}; target < 3 s)")
    if args.corpus:
        print()
        corpus(args.corpus)
    return 0 if ok else 1


def corpus(directory: str) -> int:
    """Count every .pb file of ``directory`` in this process; print the total and the slowest file."""
    folder = Path(directory)
    if not folder.is_dir():
        print(f"corpus: {folder} not found, skipped")
        return 0
    sys.path.insert(0, str(REPO))
    from pbvote.tally.reproduce import count_file, pb_files
    files = pb_files([folder])
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    results = [count_file(path) for path in files]
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    slowest = max(results, key=lambda r: r.seconds)
    compared = [r for r in results if r.comparison is not None]
    errors = [r for r in results if r.error]
    over = [r for r in results if r.seconds > 2]
    print(f"Pabulib corpus {folder}: {len(files)} files in {wall:.1f} s wall, {cpu:.1f} s cpu "
          f"(goal: at most 180 s); slowest {slowest.path.name} {slowest.seconds:.2f} s (goal: at most 2 s); "
          f"{len(over)} files over 2 s")
    print(f"  {sum(r.comparison.matches for r in compared)} of {len(compared)} files with an official outcome "
          f"reproduce it under their META rule and defaults; {len(errors)} files could not be counted")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
