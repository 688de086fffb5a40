"""Compare a count with the official outcome a Pabulib file records (``selected=1``), and count
many files in one process (the CLI's directory mode, the corpus test, the benchmark).

A file's official outcome is the set of projects with ``selected`` 1 (2 or 3 mark projects funded
by other means and are not the rule's outcome). A file without a ``selected`` column has none:
it is counted, not compared.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .exact import fmt_exact
from .instance import TallyInputError
from .outcome import Outcome
from .pabulib import (
    PabulibError,
    PabulibFile,
    default_rule_and_params,
    params_from_meta,
    read_pabulib,
)
from .registry import RULES, run_rule
from .ties import TieError


@dataclass
class Comparison:
    matches: bool
    extra: list[str]          # funded by the count, not in the official outcome (selection order)
    missing: list[str]        # official, not funded by the count (file order)
    first_difference: str | None


def compare_official(outcome: Outcome, official: set[str], pb: PabulibFile | None = None) -> Comparison:
    """Whether ``outcome`` funds exactly ``official``, and the first step of the trace where they part."""
    chosen = set(outcome.selected)
    extra = [pid for pid in outcome.selected if pid not in official]
    order = [p.id for p in pb.instance.projects] if pb is not None else sorted(official)
    missing = [pid for pid in order if pid in official and pid not in chosen]
    if not extra and not missing:
        return Comparison(True, [], [], None)
    return Comparison(False, extra, missing, _first_difference(outcome, official, extra, missing))


def _first_difference(outcome: Outcome, official: set[str], extra, missing) -> str:
    for step in outcome.trace:
        pid = step.get("project")
        kind = step.get("type")
        if kind == "greedy":
            funded = step["decision"] == "funded"
            if funded != (pid in official):
                what = (f"funds {pid} (score {fmt_exact(step['score'])}, cost {fmt_exact(step['cost'])})"
                        if funded else f"does not fund {pid}: {step['decision']} (score "
                                       f"{fmt_exact(step['score'])}, cost {fmt_exact(step['cost'])}, "
                                       f"{fmt_exact(step['remaining'])} left)")
                official_word = "not in" if funded else "in"
                return f"greedy step {step['rank']}: the count {what}; it is {official_word} the official outcome"
        elif kind in ("mes_round", "phragmen_round", "completion") and pid is not None and pid not in official:
            where = f"round {step['round']}" if "round" in step else kind
            return f"{kind} {where}: the count funds {pid}, which is not in the official outcome"
        elif kind in ("withdrawn", "no_support") and pid in official:
            return f"{pid} is in the official outcome but the count cannot fund it ({kind.replace('_', ' ')})"
    if extra:
        return f"the count funds {extra[0]}, which is not in the official outcome"
    return f"the official outcome funds {missing[0]}, which the count does not fund"


@dataclass
class FileResult:
    path: Path
    meta_rule: str
    rule: str | None = None
    outcome: Outcome | None = None
    official: set[str] | None = None
    comparison: Comparison | None = None
    error: str | None = None
    exit_code: int = 0          # 2 bad input, 3 tie error, 4 unexpected failure
    seconds: float = 0.0
    duplicates: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pb: PabulibFile | None = None

    @property
    def supported(self) -> bool:
        """The file's META rule is one pbvote counts (directly or by a documented alias)."""
        return self.meta_rule not in ("", "unknown") and self.rule is not None and (
            self.meta_rule in RULES or self.meta_rule == "greedy-custom")

    def line(self) -> str:
        """One line for the directory mode: file, rule, outcome, match, time."""
        name = self.path.name
        if self.error:
            return f"{name}\t{self.meta_rule or '-'}\tERROR\t{self.error}\t{self.seconds:.2f}s"
        assert self.outcome is not None
        rule = self.rule if self.rule == self.meta_rule else f"{self.rule} (META {self.meta_rule or '-'})"
        funded = f"{len(self.outcome.selected)} funded, cost {fmt_exact(self.outcome.total_cost)}"
        if self.comparison is None:
            match = "no official outcome"
        elif self.comparison.matches:
            match = "matches official"
        else:
            match = f"DIFFERS from official: {self.comparison.first_difference}"
        dup = f"\t{len(self.duplicates)} ballots repeat a project" if self.duplicates else ""
        return f"{name}\t{rule}\t{funded}\t{match}\t{self.seconds:.2f}s{dup}"


def count_file(path: str | Path, rule: str | None = None, params: dict | None = None,
               strict: bool = False, keep_file: bool = False) -> FileResult:
    """Read and count one file (its META rule unless ``rule``), comparing with its official
    outcome when it records one. Never raises for a bad file: the problem is in ``error``."""
    path = Path(path)
    start = time.perf_counter()
    result = FileResult(path, meta_rule="")
    try:
        pb = read_pabulib(path, strict=strict)
        result.meta_rule = pb.meta.get("rule", "").strip()
        result.duplicates, result.warnings = pb.duplicates, pb.warnings
        notes: list[str] = []
        if rule:
            if rule not in RULES:
                raise TallyInputError(f"unknown rule {rule!r}; known rules: {', '.join(RULES)}")
            chosen, file_params = rule, params_from_meta(pb, rule)
        else:
            chosen, file_params, notes = default_rule_and_params(pb)
        result.rule = chosen
        file_params = {k: v for k, v in file_params.items() if k in RULES[chosen].params}
        file_params.update(params or {})
        outcome = run_rule(pb.instance, pb.profile, chosen, file_params)
        outcome.notes.extend(notes)
        if pb.duplicates:
            lines = ", ".join(str(d["line"]) for d in pb.duplicates[:10])
            more = ", ..." if len(pb.duplicates) > 10 else ""
            how = ("points for the repeated project were summed" if pb.profile.is_cardinal
                   else "each repeated project was counted once")
            outcome.notes.append(f"{len(pb.duplicates)} of {len(pb.votes)} ballots list a project more than once "
                                 f"(lines {lines}{more}); {how}. --strict refuses such files.")
        outcome.notes.extend(pb.warnings)
        result.outcome, result.official = outcome, pb.official_selection
        if result.official is not None:
            result.comparison = compare_official(outcome, result.official, pb)
            outcome.notes.append("Checked against the file's official outcome (selected=1): "
                                 + ("the same projects are funded." if result.comparison.matches else
                                    f"DIFFERENT: {result.comparison.first_difference}."))
        else:
            outcome.notes.append("The file records no official outcome (no 'selected' column); nothing to compare.")
        if keep_file:
            result.pb = pb
    except (PabulibError, TallyInputError) as exc:
        result.error, result.exit_code = str(exc), 2
    except TieError as exc:
        result.error, result.exit_code = str(exc), 3
    except (RecursionError, MemoryError, ArithmeticError, ValueError, TypeError, KeyError) as exc:
        result.error, result.exit_code = f"{path}: cannot count this file ({type(exc).__name__}: {exc})", 4
    result.seconds = time.perf_counter() - start
    return result


def pb_files(paths) -> list[Path]:
    """The .pb files named, with directories expanded (sorted, not recursive)."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.pb")) if p.is_dir() else [p])
    return out
