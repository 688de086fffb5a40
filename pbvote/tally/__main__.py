"""Command line: ``python -m pbvote.tally PATH... [--rule NAME] [--param key=value ...] [--json]
[--check-official] [--strict]``.

One file: the count explained (or ``--json``). The rule defaults to the file's META ``rule``
(ordinal files: greedy on the file's ``scoring_fn``, else Borda over the ballot length). When the
file records its official outcome (``selected=1``), the count is compared with it and the result
is stated; ``--check-official`` makes a difference an error (exit 1, first difference printed).

A directory (or several files): every ``.pb`` file is counted in one process, one line each
(file, rule, outcome, match, time), then a summary per META rule.

``--strict`` refuses a ballot that lists a project twice (by default an approval counts once
and cumulative points are summed, and the note says how many ballots and which lines).

Exit status: 0 success, 1 a count differs from the official outcome (``--check-official``),
2 a bad file, rule or parameter, 3 ``ties=error`` met a tie only a lot could break, 4 a file
the engine could not count for another reason (reported, no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from .explain import explain
from .registry import RULES, describe_rules
from .reproduce import count_file, pb_files


def _parse_param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--param needs key=value, got {text!r}")
    return key.strip(), value.strip()


def _print(text: str, stream=None) -> None:
    try:
        print(text, file=stream or sys.stdout)
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pbvote.tally",
                                     description="Count Pabulib (.pb) elections exactly and explain the result.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="a .pb file, or a directory of them")
    parser.add_argument("--rule", help=f"one of: {', '.join(RULES)} (default: the file's META rule)")
    parser.add_argument("--param", action="append", default=[], type=_parse_param, metavar="KEY=VALUE",
                        help="rule parameter; repeat for several")
    parser.add_argument("--json", action="store_true", help="print the outcome as canonical JSON")
    parser.add_argument("--check-official", action="store_true",
                        help="exit 1 when the count differs from the file's official outcome (selected=1)")
    parser.add_argument("--strict", action="store_true",
                        help="refuse ballots that list a project twice (and quoted cells with text after the quote)")
    parser.add_argument("--list-rules", action="store_true", help="describe the rules and their parameters")
    args = parser.parse_args(argv)

    if args.list_rules:
        _print(json.dumps(describe_rules(), indent=2, ensure_ascii=False, default=str))
        return 0
    if not args.paths:
        parser.print_usage(sys.stderr)
        print("error: a .pb file or a directory is required", file=sys.stderr)
        return 2
    files = pb_files(args.paths)
    params = dict(args.param)
    if len(args.paths) == 1 and not Path(args.paths[0]).is_dir():
        return _one(files[0], args, params)
    return _many(files, args, params)


def _one(path, args, params) -> int:
    result = count_file(path, args.rule, params, strict=args.strict, keep_file=True)
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
        return result.exit_code
    assert result.outcome is not None and result.pb is not None
    _print(result.outcome.to_json() if args.json else explain(result.outcome, result.pb.instance))
    if args.check_official:
        if result.comparison is None:
            print(f"error: {path}: the file records no official outcome (no 'selected' column)", file=sys.stderr)
            return 2
        if not result.comparison.matches:
            c = result.comparison
            print(f"{path}: DIFFERS from the official outcome: {c.first_difference}. Funded by the count only: "
                  f"{', '.join(c.extra) or 'none'}; official only: {', '.join(c.missing) or 'none'}.",
                  file=sys.stderr)
            return 1
    return 0


def _many(files, args, params) -> int:
    if not files:
        print("error: no .pb files found", file=sys.stderr)
        return 2
    per_rule: dict[str, Counter] = defaultdict(Counter)
    worst, differs, start = 0, 0, time.perf_counter()
    slowest = None
    for path in files:
        result = count_file(path, args.rule, params, strict=args.strict)
        _print(result.line())
        tally = per_rule[result.meta_rule or "-"]
        tally["files"] += 1
        if result.error:
            tally["errors"] += 1
            worst = max(worst, result.exit_code)
        elif result.comparison is None:
            tally["no official outcome"] += 1
        elif result.comparison.matches:
            tally["match"] += 1
        else:
            tally["differ"] += 1
            differs += 1
        if slowest is None or result.seconds > slowest.seconds:
            slowest = result
    _print(f"# {len(files)} files in {time.perf_counter() - start:.1f}s; slowest {slowest.path.name} "
           f"({slowest.seconds:.2f}s)")
    for rule, tally in sorted(per_rule.items()):
        parts = ", ".join(f"{tally[k]} {k}" for k in ("match", "differ", "no official outcome", "errors") if tally[k])
        _print(f"# {rule}: {tally['files']} files: {parts}")
    if worst:
        return 2 if worst in (2, 3) else worst
    return 1 if args.check_official and differs else 0


if __name__ == "__main__":
    sys.exit(main())
