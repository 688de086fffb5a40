"""What the checks report: one result per check, the report as text or JSON, and the
exception a check raises to fail with its reason."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[CheckResult] = field(default_factory=list)
    chain_checked: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.ok), None)

    def text(self) -> str:
        lines = ["pbvote bundle verification", ""]
        for check in self.checks:
            lines.append(f"  {'PASS' if check.ok else 'FAIL'}  {check.name:<16} {check.detail}")
        lines.append("")
        failure = self.first_failure
        if failure is not None:
            lines.append(f"VERIFICATION FAILED at check '{failure.name}': {failure.detail}")
        else:
            scope = ("bundle and chain export" if self.chain_checked
                     else "bundle (no chain export given)")
            lines.append(f"ALL CHECKS PASSED for the {scope}.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        failure = self.first_failure
        return {"ok": self.ok, "chain_checked": self.chain_checked,
                "first_failure": None if failure is None else failure.name,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


class CheckFailed(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


# Failure details quote values: keep them to a line, and name both sides of a difference.
def short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def multiset_difference(what: str, found: Counter, expected: Counter) -> str:
    only_found = found - expected
    only_expected = expected - found
    parts = [f"{what} differ"]
    if only_found:
        parts.append(f"only in the first: {short(sorted(only_found.elements()))}")
    if only_expected:
        parts.append(f"only in the second: {short(sorted(only_expected.elements()))}")
    return "; ".join(parts)

