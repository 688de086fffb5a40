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

from pbvote.i18n_hook import N_, _, format_number, translate
from pbvote.rules.ballots import BALLOT_KINDS, BallotDesign, Reason
from pbvote.rules.eligibility import EligibilityRules
from pbvote.tally import RULES, TallyInputError
from pbvote.tally.registry import resolve_params

PHASE_ORDER: tuple[str, ...] = ("intake", "review", "voting", "tally", "published")
#: how messages name each phase ("the voting phase"), translated when a message is built
PHASE_NAMES: dict[str, str] = {"intake": N_("intake"), "review": N_("review"),
                               "voting": N_("voting"), "tally": N_("tally"),
                               "published": N_("publication")}
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


def slug_from_name(name: str) -> str:
    """A web address name made from a display name: "Safer Streets 2027!" → "safer-streets-2027".
    Letters without an ASCII form are dropped, so a name in another script gives "" and the
    clerk is asked for one."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-")


def slug_problems(slug: str, field_name: str = "slug") -> list[Reason]:
    if not slug:
        return [_reason(field_name, "slug_required", _("Enter a short web address name."))]
    if len(slug) > 80 or not SLUG_PATTERN.match(slug):
        return [_reason(field_name, "slug_invalid",
                        _("Use lower-case letters, digits and single hyphens only, "
                          "for example safer-streets-2027 (at most 80 characters)."))]
    return []


def timezone_names() -> list[str]:
    """Every IANA time zone this machine knows, for the picker: by region, then city."""
    return sorted(name for name in available_timezones()
                  if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
                  ) + ["UTC"]


def timezone_problems(name: str, field_name: str = "timezone") -> list[Reason]:
    try:
        if not name or name not in available_timezones():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [_reason(field_name, "timezone_unknown",
                        _("%(zone)s is not a known time zone; use an IANA name such as "
                          "Europe/London or America/Chicago.", zone=repr(name)))]
    return []


def amount_problems(amount: object, field_name: str, what: str) -> list[Reason]:
    """`what` names the amount at the start of a sentence, marked with N_ ("The cost")."""
    what = translate(what)
    if isinstance(amount, bool) or not isinstance(amount, int):
        return [_reason(field_name, "not_integer", _("%(what)s must be a whole number.",
                                                     what=what))]
    if amount <= 0:
        return [_reason(field_name, "not_positive", _("%(what)s must be more than zero.",
                                                      what=what))]
    if amount > MAXIMUM_AMOUNT:
        return [_reason(field_name, "too_large", _("%(what)s is too large.", what=what))]
    return []


def cycle_problems(settings: CycleSettings) -> list[Reason]:
    found = slug_problems(settings.slug)
    if not settings.name.strip():
        found.append(_reason("name", "name_required", _("Enter the cycle's name.")))
    if not CURRENCY_PATTERN.match(settings.currency or ""):
        found.append(_reason("currency", "currency_invalid",
                             _("Enter a three-letter ISO 4217 currency code such as USD or EUR.")))
    found += amount_problems(settings.total_budget, "total_budget", N_("The total budget"))
    found += timezone_problems(settings.timezone)
    if len(settings.tie_break_seed) > 128:
        found.append(_reason("tie_break_seed", "seed_too_long",
                             _("The tie-break seed can be at most 128 characters.")))
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
                                 _("%(kind)s is not a phase; use %(kinds)s.", kind=repr(kind),
                                   kinds=", ".join(PHASE_ORDER))))
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            found.append(_reason(f"{kind}_starts_at", "phase_repeated",
                                 _("The %(phase)s phase is given more than once.",
                                   phase=_phase_name(kind))))
    for kind in REQUIRED_PHASES:
        if kind not in kinds:
            found.append(_reason(f"{kind}_starts_at", "phase_required",
                                 _("The %(phase)s phase needs a start and an end.",
                                   phase=_phase_name(kind))))
    for window in windows:
        if window.ends_at <= window.starts_at:
            found.append(_reason(f"{window.kind}_ends_at", "phase_ends_before_start",
                                 _("The %(phase)s phase must end after it starts.",
                                   phase=_phase_name(window.kind))))
    known = sorted((w for w in windows if w.kind in PHASE_ORDER),
                   key=lambda w: PHASE_ORDER.index(w.kind))
    for earlier, later in zip(known, known[1:], strict=False):
        if later.starts_at < earlier.ends_at:
            found.append(_reason(
                f"{later.kind}_starts_at", "phase_overlap",
                _("The %(later)s phase starts before the %(earlier)s phase ends; phases run in "
                  "the order %(order)s and may not overlap.", later=_phase_name(later.kind),
                  earlier=_phase_name(earlier.kind),
                  order=" → ".join(_phase_name(kind) for kind in PHASE_ORDER))))
    return found


def _phase_name(kind: str) -> str:
    return translate(PHASE_NAMES[kind]) if kind in PHASE_NAMES else kind


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
                              _('Write the parameters as a JSON object, for example '
                                '{"scoring_fn": "dowdall"}, or leave the box empty.'))]
    return value, []


def tally_problems(rule: str, params: Mapping[str, object], ballot_kind: str) -> list[Reason]:
    spec = RULES.get(rule)
    if spec is None:
        return [_reason("tally_rule", "rule_unknown",
                        _("%(rule)s is not a counting rule; choose one of %(rules)s.",
                          rule=repr(rule), rules=", ".join(RULES)))]
    found: list[Reason] = []
    engine_type = ENGINE_BALLOT_TYPES.get(ballot_kind)
    if engine_type is not None and engine_type not in spec.ballot_types:
        found.append(_reason("tally_rule", "rule_ballot_mismatch",
                             _("The rule %(rule)s cannot count %(kind)s ballots; it takes "
                               "%(kinds)s ballots.", rule=rule, kind=ballot_kind,
                               kinds=", ".join(spec.ballot_types))))
    overridden = sorted(CYCLE_LEVEL_PARAMS & set(params))
    if overridden:
        found.append(_reason("tally_params", "params_cycle_level",
                             _("The tie-break seed is set once for the whole cycle, not per "
                               "district; remove %(params)s.", params=", ".join(overridden))))
    try:
        resolve_params(spec, dict(params))
    except TallyInputError as error:
        found.append(_reason("tally_params", "params_invalid",
                             _("Counting parameters: %(error)s.", error=error)))
    return found


def district_problems(settings: DistrictSettings, project_count: int | None = None) -> list[Reason]:
    """One district's own settings. ``project_count=None`` skips the checks that need the
    projects (k larger than the number of projects): districts are set up before projects."""
    found = slug_problems(settings.slug)
    if not settings.name.strip():
        found.append(_reason("name", "name_required", _("Enter the district's name.")))
    budget_reasons = amount_problems(settings.budget, "budget", N_("The district budget"))
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
                             _("The district %(district)s has no projects.",
                               district=settings.name or settings.slug)))
    found += tally_problems(settings.tally_rule, settings.tally_params, settings.design.kind)
    return found


def budget_sum_problems(total_budget: int, district_budgets: Mapping[str, int],
                        field_name: str = "budget") -> list[Reason]:
    spent = sum(district_budgets.values())
    if spent > total_budget:
        return [_reason(field_name, "districts_exceed_total",
                        _("The district budgets add up to %(spent)s, more than the cycle's "
                          "total budget of %(total)s.", spent=format_number(spent),
                          total=format_number(total_budget)))]
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
                             _("Use 1 to 40 letters, digits, hyphens or underscores for the "
                               "project code, for example NB-1.")))
    elif settings.code in set(codes_in_use):
        found.append(_reason("code", "code_taken",
                             _("Another project of this cycle already has the code "
                               "%(code)s.", code=settings.code)))
    if not settings.title.strip():
        found.append(_reason("title", "title_required", _("Enter the project's title.")))
    cost_reasons = amount_problems(settings.cost, "cost", N_("The cost"))
    found += cost_reasons
    if not cost_reasons and settings.cost > district_budget:
        found.append(_reason("cost", "cost_exceeds_budget",
                             _("The cost (%(cost)s) is more than the district's budget "
                               "(%(budget)s), so the project could never be funded.",
                               cost=format_number(settings.cost),
                               budget=format_number(district_budget))))
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
        found.append(_reason("districts", "no_districts", _("The cycle has no districts.")))
    for settings, project_count in districts:
        for reason in district_problems(settings, project_count):
            found.append(_reason(f"district:{settings.slug}:{reason.field}", reason.code,
                                 _("%(label)s: %(error)s", label=settings.name,
                                   error=reason.message)))
    if not any(r.field == "total_budget" for r in found):
        found += budget_sum_problems(cycle.total_budget,
                                     {s.slug: s.budget for s, _ in districts}, "total_budget")
    return found


def ballot_kinds() -> tuple[str, ...]:
    return tuple(BALLOT_KINDS)
