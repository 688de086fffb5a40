"""Consistency rules for a cycle's configuration, as pure functions.

Every problem is a `ballots.Reason` whose ``field`` is the name of the form field to
mark, so the staff pages can put each message beside its field. Whole-configuration
checks (run before voting opens) prefix district fields with ``district:<slug>:``.

Budget decision: each district has its own budget > 0, and the sum of the district
budgets may not exceed the cycle's total budget (it may be less: a city can hold money
back). Phases are optional except voting; those given run in the order intake → review →
voting → tally → published, each ends after it starts, and none overlaps the next.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pbvote.ballots import BALLOT_KINDS, BallotDesign, Reason
from pbvote.eligibility import EligibilityRules
from pbvote.tally import RULES, TallyInputError
from pbvote.tally.registry import resolve_params

PHASE_ORDER: tuple[str, ...] = ("intake", "review", "voting", "tally", "published")
REQUIRED_PHASES: tuple[str, ...] = ("voting",)

#: ballot design kind → the tally engine's ballot type (same table as services.tally)
ENGINE_BALLOT_TYPES: dict[str, str] = {
    "approval": "approval", "knapsack": "approval", "ranked": "ordinal",
    "cumulative": "cumulative",
}

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PROJECT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
#: budgets and costs are whole currency units; this keeps them inside a BIGINT with room
MAXIMUM_AMOUNT = 10**15
#: the cycle-wide seed is the tie-break seed; districts may not override it
CYCLE_LEVEL_PARAMS = frozenset({"tie_seed"})


def _reason(field_name: str, code: str, message: str) -> Reason:
    return Reason(field_name, code, message)


# ---------------------------------------------------------------------------
# Cycle


@dataclass(frozen=True)
class CycleSettings:
    slug: str
    name: str
    currency: str
    total_budget: int
    timezone: str
    tie_break_seed: str = ""


def slug_problems(slug: str, field_name: str = "slug") -> list[Reason]:
    if not slug:
        return [_reason(field_name, "slug_required", "Enter a short web address name.")]
    if len(slug) > 80 or not SLUG_PATTERN.match(slug):
        return [_reason(field_name, "slug_invalid",
                        "Use lower-case letters, digits and single hyphens only, "
                        "for example safer-streets-2027 (at most 80 characters).")]
    return []


def timezone_problems(name: str, field_name: str = "timezone") -> list[Reason]:
    try:
        if not name or name not in available_timezones():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [_reason(field_name, "timezone_unknown",
                        f"{name!r} is not a known time zone; use an IANA name such as "
                        "Europe/London or America/Chicago.")]
    return []


def amount_problems(amount: object, field_name: str, what: str) -> list[Reason]:
    if isinstance(amount, bool) or not isinstance(amount, int):
        return [_reason(field_name, "not_integer", f"The {what} must be a whole number.")]
    if amount <= 0:
        return [_reason(field_name, "not_positive", f"The {what} must be more than zero.")]
    if amount > MAXIMUM_AMOUNT:
        return [_reason(field_name, "too_large", f"The {what} is too large.")]
    return []


def cycle_problems(settings: CycleSettings) -> list[Reason]:
    found = slug_problems(settings.slug)
    if not settings.name.strip():
        found.append(_reason("name", "name_required", "Enter the cycle's name."))
    if not CURRENCY_PATTERN.match(settings.currency or ""):
        found.append(_reason("currency", "currency_invalid",
                             "Enter a three-letter ISO 4217 currency code such as USD or EUR."))
    found += amount_problems(settings.total_budget, "total_budget", "total budget")
    found += timezone_problems(settings.timezone)
    if len(settings.tie_break_seed) > 128:
        found.append(_reason("tie_break_seed", "seed_too_long",
                             "The tie-break seed can be at most 128 characters."))
    return found


# ---------------------------------------------------------------------------
# Phases


@dataclass(frozen=True)
class PhaseWindow:
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def parse_local_datetime(text: str, timezone: str) -> dt.datetime | None:
    """A form's "YYYY-MM-DDTHH:MM" in the cycle's zone → aware UTC; None if unreadable."""
    try:
        naive = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    if naive.tzinfo is not None:
        return naive.astimezone(dt.UTC)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


def phase_problems(windows: Sequence[PhaseWindow]) -> list[Reason]:
    """Fields are ``<kind>_starts_at`` / ``<kind>_ends_at``."""
    found: list[Reason] = []
    kinds = [w.kind for w in windows]
    for kind in kinds:
        if kind not in PHASE_ORDER:
            found.append(_reason(f"{kind}_starts_at", "phase_unknown",
                                 f"{kind!r} is not a phase; use {', '.join(PHASE_ORDER)}."))
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            found.append(_reason(f"{kind}_starts_at", "phase_repeated",
                                 f"The {kind} phase is given more than once."))
    for kind in REQUIRED_PHASES:
        if kind not in kinds:
            found.append(_reason(f"{kind}_starts_at", "phase_required",
                                 f"The {kind} phase needs a start and an end."))
    for window in windows:
        if window.ends_at <= window.starts_at:
            found.append(_reason(f"{window.kind}_ends_at", "phase_ends_before_start",
                                 f"The {window.kind} phase must end after it starts."))
    known = sorted((w for w in windows if w.kind in PHASE_ORDER),
                   key=lambda w: PHASE_ORDER.index(w.kind))
    for earlier, later in zip(known, known[1:], strict=False):
        if later.starts_at < earlier.ends_at:
            found.append(_reason(
                f"{later.kind}_starts_at", "phase_overlap",
                f"The {later.kind} phase starts before the {earlier.kind} phase ends; phases "
                f"run in the order {' → '.join(PHASE_ORDER)} and may not overlap."))
    return found


# ---------------------------------------------------------------------------
# Districts: budget, ballot design, tally rule


@dataclass(frozen=True)
class DistrictSettings:
    slug: str
    name: str
    budget: int
    design: BallotDesign
    tally_rule: str
    tally_params: Mapping[str, object] = field(default_factory=dict)


def parse_tally_params(text: str) -> tuple[dict | None, list[Reason]]:
    """The parameters box holds a JSON object such as {"scoring_fn": "dowdall"}."""
    text = (text or "").strip() or "{}"
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return None, [_reason("tally_params", "params_not_object",
                              'Write the parameters as a JSON object, for example '
                              '{"scoring_fn": "dowdall"}, or leave the box empty.')]
    return value, []


def tally_problems(rule: str, params: Mapping[str, object], ballot_kind: str) -> list[Reason]:
    spec = RULES.get(rule)
    if spec is None:
        return [_reason("tally_rule", "rule_unknown",
                        f"{rule!r} is not a counting rule; choose one of {', '.join(RULES)}.")]
    found: list[Reason] = []
    engine_type = ENGINE_BALLOT_TYPES.get(ballot_kind)
    if engine_type is not None and engine_type not in spec.ballot_types:
        found.append(_reason("tally_rule", "rule_ballot_mismatch",
                             f"The rule {rule} cannot count {ballot_kind} ballots; it takes "
                             f"{', '.join(spec.ballot_types)} ballots."))
    overridden = sorted(CYCLE_LEVEL_PARAMS & set(params))
    if overridden:
        found.append(_reason("tally_params", "params_cycle_level",
                             "The tie-break seed is set once for the whole cycle, not per "
                             "district; remove " + ", ".join(overridden) + "."))
    try:
        resolve_params(spec, dict(params))
    except TallyInputError as error:
        found.append(_reason("tally_params", "params_invalid", f"Counting parameters: {error}."))
    return found


def district_problems(settings: DistrictSettings, project_count: int | None = None) -> list[Reason]:
    """One district's own settings. ``project_count=None`` skips the checks that need the
    projects (k larger than the number of projects): districts are set up before projects."""
    found = slug_problems(settings.slug)
    if not settings.name.strip():
        found.append(_reason("name", "name_required", "Enter the district's name."))
    budget_reasons = amount_problems(settings.budget, "budget", "district budget")
    found += budget_reasons
    design_count = project_count if project_count else max(
        settings.design.max_choices or 1, settings.design.min_choices or 1, 1)
    for reason in settings.design.problems(design_count):
        if reason.field == "budget" and budget_reasons:
            continue  # already said about the budget field
        if reason.field == "kind":
            reason = _reason("ballot_kind", reason.code, reason.message)
        found.append(reason)
    if project_count is not None and project_count < 1:
        found.append(_reason("projects", "no_projects",
                             f"The district {settings.name or settings.slug} has no projects."))
    found += tally_problems(settings.tally_rule, settings.tally_params, settings.design.kind)
    return found


def budget_sum_problems(total_budget: int, district_budgets: Mapping[str, int],
                        field_name: str = "budget") -> list[Reason]:
    spent = sum(district_budgets.values())
    if spent > total_budget:
        return [_reason(field_name, "districts_exceed_total",
                        f"The district budgets add up to {spent:,}, more than the cycle's total "
                        f"budget of {total_budget:,}.")]
    return []


# ---------------------------------------------------------------------------
# Projects


@dataclass(frozen=True)
class ProjectSettings:
    code: str
    title: str
    cost: int


def project_problems(settings: ProjectSettings, district_budget: int,
                     codes_in_use: Iterable[str] = ()) -> list[Reason]:
    found: list[Reason] = []
    if not PROJECT_CODE_PATTERN.match(settings.code or ""):
        found.append(_reason("code", "code_invalid",
                             "Use 1 to 40 letters, digits, hyphens or underscores for the "
                             "project code, for example NB-1."))
    elif settings.code in set(codes_in_use):
        found.append(_reason("code", "code_taken",
                             "Another project of this cycle already has the code "
                             f"{settings.code}."))
    if not settings.title.strip():
        found.append(_reason("title", "title_required", "Enter the project's title."))
    cost_reasons = amount_problems(settings.cost, "cost", "cost")
    found += cost_reasons
    if not cost_reasons and settings.cost > district_budget:
        found.append(_reason("cost", "cost_exceeds_budget",
                             f"The cost ({settings.cost:,}) is more than the district's budget "
                             f"({district_budget:,}), so the project could never be funded."))
    return found


# ---------------------------------------------------------------------------
# The whole configuration, before voting opens


def configuration_problems(cycle: CycleSettings, windows: Sequence[PhaseWindow],
                           eligibility: EligibilityRules,
                           districts: Sequence[tuple[DistrictSettings, int]]) -> list[Reason]:
    """Everything that must hold before ballots can be cast; districts come with their
    project counts. District reasons are prefixed ``district:<slug>:``."""
    found = cycle_problems(cycle) + phase_problems(windows) + list(eligibility.problems())
    if not districts:
        found.append(_reason("districts", "no_districts", "The cycle has no districts."))
    for settings, project_count in districts:
        for reason in district_problems(settings, project_count):
            found.append(_reason(f"district:{settings.slug}:{reason.field}", reason.code,
                                 f"{settings.name}: {reason.message}"))
    if not any(r.field == "total_budget" for r in found):
        found += budget_sum_problems(cycle.total_budget,
                                     {s.slug: s.budget for s, _ in districts}, "total_budget")
    return found


def ballot_kinds() -> tuple[str, ...]:
    return tuple(BALLOT_KINDS)
