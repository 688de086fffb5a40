"""Command line: ``python -m pbvote.tally FILE.pb [--rule NAME] [--param key=value ...] [--json]``.

The rule defaults to the file's META ``rule`` (ordinal files: greedy on the file's
``scoring_fn``, else Borda over the ballot length). Exit status 0 on success, 2 for a bad
file, rule or parameter, 3 when ``ties=error`` meets a tie only a lot could break.
"""
from __future__ import annotations

import argparse
import json
import sys

from .explain import explain
from .instance import TallyInputError
from .pabulib import PabulibError, default_rule_and_params, params_from_meta, read_pabulib
from .registry import RULES, describe_rules, run_rule
from .ties import TieError


def _parse_param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--param needs key=value, got {text!r}")
    return key.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pbvote.tally",
                                     description="Count a Pabulib (.pb) election exactly and explain the result.")
    parser.add_argument("file", nargs="?", help="the .pb file")
    parser.add_argument("--rule", help=f"one of: {', '.join(RULES)} (default: the file's META rule)")
    parser.add_argument("--param", action="append", default=[], type=_parse_param, metavar="KEY=VALUE",
                        help="rule parameter; repeat for several")
    parser.add_argument("--json", action="store_true", help="print the outcome as canonical JSON")
    parser.add_argument("--list-rules", action="store_true", help="describe the rules and their parameters")
    args = parser.parse_args(argv)

    if args.list_rules:
        print(json.dumps(describe_rules(), indent=2, ensure_ascii=False, default=str))
        return 0
    if not args.file:
        parser.print_usage(sys.stderr)
        print("error: a .pb file is required", file=sys.stderr)
        return 2
    try:
        pb = read_pabulib(args.file)
        notes: list[str] = []
        if args.rule:
            if args.rule not in RULES:
                raise TallyInputError(f"unknown rule {args.rule!r}; known rules: {', '.join(RULES)}")
            rule, params = args.rule, params_from_meta(pb, args.rule)
        else:
            rule, params, notes = default_rule_and_params(pb)
        params = {k: v for k, v in params.items() if k in RULES[rule].params}
        params.update(dict(args.param))
        outcome = run_rule(pb.instance, pb.profile, rule, params)
        outcome.notes.extend(notes)
    except (PabulibError, TallyInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TieError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    try:
        print(outcome.to_json() if args.json else explain(outcome, pb.instance))
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
