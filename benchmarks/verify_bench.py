"""The standalone verifier on a city-scale bundle: time, CPU and peak memory, against an
earlier version of the verifier on the same bundle.

    .venv/bin/python benchmarks/verify_bench.py [--ballots 300000] [--bundle DIR]
        [--against main] [--repeat 3]

The bundle (the results zip and the chain export) comes from benchmarks/city_scale.py
--save-bundle; without one in DIR it is built there first (a whole city-scale run, minutes).
Each run is `python -m pbvote.audit.verify ZIP --chain chain.jsonl` in a process of its own:
wall seconds, CPU seconds (user + system, its worker processes included) and peak resident
memory (the largest of the process and its workers). The earlier version is the pbvote
package of the git revision --against, unpacked into a temporary folder and run the same
way, alternating with the current one. The issue-21 goal is at most 5 s and 200 MB at
300,000 ballots. Figures are printed, not asserted; the load average is printed beside each
run, since the machine may be shared (on a loaded machine wall time exceeds CPU time).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ZIP_NAME, CHAIN_NAME = "safer-streets-2027-results.zip", "chain.jsonl"


def _load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def ensure_bundle(directory: Path, ballots: int) -> None:
    if (directory / ZIP_NAME).exists() and (directory / CHAIN_NAME).exists():
        return
    print(f"building a {ballots:,}-ballot bundle in {directory} (benchmarks/city_scale.py) ...",
          flush=True)
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "city_scale.py"),
                    "--ballots", str(ballots), "--keep-seed", "--save-bundle", str(directory)],
                   cwd=REPO, check=True)


def unpack(revision: str, into: Path) -> Path:
    """The pbvote package as it was at `revision`, in `into` (to run it with cwd there)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", revision,
                              "pbvote"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_verifier(code_dir: Path, bundle: Path) -> dict:
    command = [sys.executable, "-m", "pbvote.audit.verify", str(bundle / ZIP_NAME),
               "--chain", str(bundle / CHAIN_NAME)]
    environment = dict(os.environ, PYTHONPATH=str(code_dir))
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=code_dir, env=environment, stdout=subprocess.PIPE,
                               text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0 or "ALL CHECKS PASSED" not in output:
        raise SystemExit(f"the verifier in {code_dir} failed:\n{output[-3000:]}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "load": _load()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ballots", type=int, default=300_000)
    parser.add_argument("--bundle", type=Path,
                        help="folder with the bundle zip and chain.jsonl (default: one per "
                             "--ballots in the temporary folder)")
    parser.add_argument("--against", default="main",
                        help="git revision of the verifier to compare with ('' for none)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    bundle = args.bundle or Path(tempfile.gettempdir()) / f"pbvote-verify-bench-{args.ballots}"
    ensure_bundle(bundle, args.ballots)
    chain_mb = (bundle / CHAIN_NAME).stat().st_size / 1e6
    print(f"bundle {bundle} (zip {(bundle / ZIP_NAME).stat().st_size / 1e6:.1f} MB, chain "
          f"{chain_mb:.1f} MB); {os.cpu_count()} cores; load {_load()}")
    versions = {"current": REPO}
    with tempfile.TemporaryDirectory(prefix="pbvote-verify-bench-") as scratch:
        if args.against:
            versions[args.against] = unpack(args.against, Path(scratch))
        runs: dict[str, list[dict]] = {name: [] for name in versions}
        print(f"{'version':<10} {'run':>3} {'seconds':>8} {'cpu s':>7} {'peak MB':>8}  load")
        for attempt in range(1, args.repeat + 1):
            for name, code_dir in versions.items():
                got = run_verifier(code_dir, bundle)
                runs[name].append(got)
                print(f"{name:<10} {attempt:>3} {got['seconds']:>8.2f} {got['cpu']:>7.2f} "
                      f"{got['peak_mb']:>8.0f}  {got['load']}", flush=True)
    print()
    medians = {name: {key: statistics.median(r[key] for r in got)
                      for key in ("seconds", "cpu", "peak_mb")} for name, got in runs.items()}
    for name, median in medians.items():
        print(f"median {name:<10} {median['seconds']:.2f} s, {median['cpu']:.2f} s CPU, "
              f"{median['peak_mb']:.0f} MB peak")
    if args.against:
        old, new = medians[args.against], medians["current"]
        print(f"current / {args.against}: time x{new['seconds'] / old['seconds']:.2f}, CPU "
              f"x{new['cpu'] / old['cpu']:.2f}, peak memory x{new['peak_mb'] / old['peak_mb']:.2f}")
    print(f"goal at 300,000 ballots: at most 5 s and 200 MB; load now {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
