"""Setting up a cycle: its settings, districts, phases and projects; opening and closing
voting by hand. Every change is logged to the cycle's chain with before/after.

Once voting is scheduled or opened (the manifest is stored), whatever
changes how ballots are cast or counted is refused with ConfigurationFrozen (409):
currency, budgets, time zone, tie-break seed, eligibility, districts and their ballot
design and counting rule, the phases, and which projects stand at which cost. Names,
descriptions, project texts and images stay editable; the manifest stored at opening is
the frozen record.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

from sqlalchemy import select

from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import N_, _, format_number, n_, translate
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Phase, Project
from pbvote.rules import setup as setup_rules
from pbvote.rules.ballots import BallotDesign, Reason
from pbvote.rules.eligibility import EligibilityRules
from pbvote.services import log
from pbvote.services import roll_import_batches as batches
from pbvote.services.cycles import build_manifest
from pbvote.services.errors import ConfigurationFrozen, DomainError


class SetupInvalid(DomainError):
    """The settings are inconsistent; each reason names the form field to mark."""

    def __init__(self, reasons: list[Reason],
                 message: str = N_("Please correct the settings marked below; nothing was saved.")):
        super().__init__(translate(message), 422, list(reasons))


class VotingStateConflict(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 409)


def _refuse_if_invalid(reasons: list[Reason]) -> None:
    if reasons:
        raise SetupInvalid(reasons)


# ---------------------------------------------------------------------------
# Freezing


def voting_has_opened(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    """The configuration is frozen: voting was scheduled or opened, and the manifest stored.
    A voting phase whose start passes without that does not open voting."""
    return cycle.manifest_hash is not None


#: what voting's opening freezes, by the names the set-up pages give it
FROZEN_LABELS = {
    "currency": N_("Currency"), "total_budget": N_("Total budget"),
    "timezone": N_("Time zone"), "tie_break_seed": N_("Tie-break seed"),
    "minimum_age": N_("Minimum age on the day of voting"),
    "allowed_methods": N_("Allowed ways to prove eligibility"),
    "self_declared_allowed": N_("Allow self-declared residence"), "districts": N_("Districts"),
    "online_self_declaration": N_("Residents on no roll may declare online"),
    "slug": N_("Web address name"), "budget": N_("Budget"), "ballot_kind": N_("Ballot type"),
    "max_choices": N_("Most projects a resident may choose or rank"),
    "min_choices": N_("Fewest projects a resident must choose"),
    "min_spend_percent": N_("Minimum share of the budget a ballot must spend"),
    "points": N_("Points each resident spreads"),
    "max_points_per_project": N_("Most points on one project"),
    "tally_rule": N_("Counting rule"), "tally_params": N_("Counting rule settings"),
    "phases": N_("Phases"), "projects": N_("Projects"), "code": N_("Project code"),
    "cost": N_("Cost"),
}


def frozen_label(name: str) -> str:
    return translate(FROZEN_LABELS[name]) if name in FROZEN_LABELS else name


def _refuse_frozen(cycle: Cycle, what: list[str], now: dt.datetime | None) -> None:
    if what and voting_has_opened(cycle, now):
        labels = [frozen_label(name) for name in what]
        error = ConfigurationFrozen(
            _("Voting has opened, so this can no longer change: %(what)s. These settings "
              "decide how ballots are cast and counted and are fixed in the published "
              "manifest.", what=", ".join(labels)))
        error.reasons = [Reason(name, "frozen", _("%(name)s can't change after voting opened.",
                                                  name=label))
                         for name, label in zip(what, labels, strict=True)]
        raise error


def store_manifest(cycle: Cycle) -> None:
    """Freeze the configuration: keep the manifest's exact text and its SHA-256."""
    text = canonical_json(build_manifest(cycle))
    cycle.manifest_json = text
    cycle.manifest_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Reading the configuration as pure settings


def eligibility_of(cycle: Cycle) -> EligibilityRules:
    return EligibilityRules(minimum_age=cycle.minimum_age,
                            allowed_methods=frozenset(cycle.method_list),
                            self_declared_residence=cycle.self_declared_allowed)


def cycle_settings_of(cycle: Cycle) -> setup_rules.CycleSettings:
    return setup_rules.CycleSettings(cycle.slug, cycle.name, cycle.currency, cycle.total_budget,
                                     cycle.timezone, cycle.tie_break_seed)


def district_settings_of(district: District) -> setup_rules.DistrictSettings:
    return setup_rules.DistrictSettings(district.slug, district.name, district.budget,
                                        district.ballot_design(), district.tally_rule,
                                        district.tally_parameters)


def windows_of(cycle: Cycle) -> list[setup_rules.PhaseWindow]:
    return [setup_rules.PhaseWindow(p.kind, p.starts_at, p.ends_at) for p in cycle.phases]


def configuration_problems(cycle: Cycle) -> list[Reason]:
    return setup_rules.configuration_problems(
        cycle_settings_of(cycle), windows_of(cycle), eligibility_of(cycle),
        [(district_settings_of(d), len(d.projects)) for d in cycle.districts])


# ---------------------------------------------------------------------------
# Cycle


@dataclass
class CycleInput:
    slug: str
    name: str
    currency: str
    total_budget: int
    timezone: str
    city_name: str = ""
    description: str = ""
    tie_break_seed: str = ""
    minimum_age: int = 16
    allowed_methods: list[str] = field(default_factory=lambda: ["roll", "code"])
    self_declared_allowed: bool = False
    online_self_declaration: bool = False

    def eligibility(self) -> EligibilityRules:
        return EligibilityRules(self.minimum_age, frozenset(self.allowed_methods),
                                self.self_declared_allowed)


#: cycle fields that decide casting or counting
FROZEN_CYCLE_FIELDS = ("currency", "total_budget", "timezone", "tie_break_seed", "minimum_age",
                       "allowed_methods", "self_declared_allowed", "online_self_declaration")


def _cycle_snapshot(cycle: Cycle) -> dict:
    snapshot = {"slug": cycle.slug, "name": cycle.name, "city_name": cycle.city_name,
                "description": cycle.description, "currency": cycle.currency,
                "total_budget": cycle.total_budget, "timezone": cycle.timezone,
                "tie_break_seed": cycle.tie_break_seed, "minimum_age": cycle.minimum_age,
                "allowed_methods": sorted(cycle.method_list),
                "self_declared_allowed": cycle.self_declared_allowed}
    # only when on, as in the manifest: logged snapshots of other cycles stay as they were
    if cycle.online_self_declaration:
        snapshot["online_self_declaration"] = True
    return snapshot


def _input_snapshot(data: CycleInput) -> dict:
    snapshot = asdict(data)
    snapshot["allowed_methods"] = sorted(data.allowed_methods)
    return snapshot


def _cycle_input_problems(data: CycleInput) -> list[Reason]:
    return setup_rules.cycle_problems(setup_rules.CycleSettings(
        data.slug, data.name, data.currency, data.total_budget, data.timezone,
        data.tie_break_seed)) + list(data.eligibility().problems())


def create_cycle(data: CycleInput, actor: str) -> Cycle:
    reasons = _cycle_input_problems(data)
    if not reasons and db.session.scalar(select(Cycle.id).where(Cycle.slug == data.slug)):
        reasons.append(Reason("slug", "slug_taken", _("A cycle with the address '%(slug)s' "
                                                      "already exists.", slug=data.slug)))
    _refuse_if_invalid(reasons)
    chain = log.get_or_create_chain(log.chain_name_for_cycle(data.slug))
    cycle = Cycle(chain_id=chain.id, **_cycle_columns(data), slug=data.slug)
    db.session.add(cycle)
    db.session.flush()
    log.record_action(chain.id, "cycle.created", actor, {"before": None,
                                                         "after": _cycle_snapshot(cycle)})
    return cycle


def _cycle_columns(data: CycleInput) -> dict:
    return {"name": data.name.strip(), "city_name": data.city_name.strip(),
            "description": data.description.strip(), "currency": data.currency,
            "total_budget": data.total_budget, "timezone": data.timezone,
            "tie_break_seed": data.tie_break_seed, "minimum_age": data.minimum_age,
            "allowed_methods": ",".join(sorted(set(data.allowed_methods))),
            "self_declared_allowed": data.self_declared_allowed,
            "online_self_declaration": data.online_self_declaration}


def update_cycle(cycle: Cycle, data: CycleInput, actor: str,
                 now: dt.datetime | None = None) -> Cycle:
    before = _cycle_snapshot(cycle)
    wanted = {**_input_snapshot(data), "slug": cycle.slug}
    changed_frozen = [name for name in FROZEN_CYCLE_FIELDS
                      if wanted.get(name, False) != before.get(name, False)]
    _refuse_frozen(cycle, changed_frozen, now)
    data.slug = cycle.slug  # the address names the chain and the URLs; it never changes
    reasons = _cycle_input_problems(data)
    if not any(r.field == "total_budget" for r in reasons):
        reasons += setup_rules.budget_sum_problems(
            data.total_budget, {d.slug: d.budget for d in cycle.districts}, "total_budget")
    _refuse_if_invalid(reasons)
    for column, value in _cycle_columns(data).items():
        setattr(cycle, column, value)
    db.session.flush()
    after = _cycle_snapshot(cycle)
    if after != before:
        log.record_action(cycle.chain_id, "cycle.updated", actor,
                          {"cycle": cycle.slug, "before": before, "after": after})
    return cycle


# ---------------------------------------------------------------------------
# Districts


@dataclass
class DistrictInput:
    slug: str
    name: str
    budget: int
    ballot_kind: str
    description: str = ""
    max_choices: int | None = None
    min_choices: int = 0
    min_spend_percent: int = 0
    points: int | None = None
    max_points_per_project: int | None = None
    tally_rule: str = "greedy"
    tally_params: dict = field(default_factory=dict)

    def design(self) -> BallotDesign:
        return BallotDesign(kind=self.ballot_kind, budget=self.budget,
                            max_choices=self.max_choices, min_choices=self.min_choices,
                            min_spend_percent=self.min_spend_percent, points=self.points,
                            max_points_per_project=self.max_points_per_project)


#: district fields that decide casting or counting (all but name and description)
FROZEN_DISTRICT_FIELDS = ("slug", "budget", "ballot_kind", "max_choices", "min_choices",
                          "min_spend_percent", "points", "max_points_per_project",
                          "tally_rule", "tally_params")


def _district_snapshot(district: District) -> dict:
    return {"slug": district.slug, "name": district.name, "description": district.description,
            "budget": district.budget, "ballot_kind": district.ballot_kind,
            "max_choices": district.max_choices, "min_choices": district.min_choices,
            "min_spend_percent": district.min_spend_percent, "points": district.points,
            "max_points_per_project": district.max_points_per_project,
            "tally_rule": district.tally_rule, "tally_params": district.tally_parameters}


def save_district(cycle: Cycle, district: District | None, data: DistrictInput, actor: str,
                  now: dt.datetime | None = None) -> District:
    """Create (district=None) or update a district."""
    before = _district_snapshot(district) if district else None
    if district is None:
        _refuse_frozen(cycle, ["districts"], now)
    else:
        wanted = asdict(data)
        _refuse_frozen(cycle, [n for n in FROZEN_DISTRICT_FIELDS if wanted[n] != before[n]], now)
    settings = setup_rules.DistrictSettings(data.slug, data.name, data.budget, data.design(),
                                            data.tally_rule, data.tally_params)
    project_count = len(district.projects) if district and district.projects else None
    reasons = setup_rules.district_problems(settings, project_count)
    others = [d for d in cycle.districts if d is not district]
    if any(d.slug == data.slug for d in others):
        reasons.append(Reason("slug", "slug_taken",
                              _("Another district of this cycle already uses '%(slug)s'.",
                                slug=data.slug)))
    if district is not None and not any(r.field == "budget" for r in reasons):
        dearest = max(district.projects, key=lambda p: p.cost, default=None)
        if dearest is not None and dearest.cost > data.budget:
            reasons.append(Reason("budget", "budget_below_project", _(
                "The budget is less than project %(code)s costs (%(cost)s); lower that "
                "project's cost first, or keep a larger budget.", code=dearest.code,
                cost=format_number(dearest.cost))))
    if not any(r.field == "budget" for r in reasons):
        reasons += setup_rules.budget_sum_problems(
            cycle.total_budget, {**{d.slug: d.budget for d in others}, data.slug: data.budget})
    _refuse_if_invalid(reasons)
    if district is None:
        district = District(position=len(cycle.districts))
        cycle.districts.append(district)
    district.slug, district.name = data.slug, data.name.strip()
    district.description = data.description.strip()
    district.budget, district.ballot_kind = data.budget, data.ballot_kind
    district.max_choices, district.min_choices = data.max_choices, data.min_choices
    district.min_spend_percent, district.points = data.min_spend_percent, data.points
    district.max_points_per_project = data.max_points_per_project
    district.tally_rule, district.tally_params = data.tally_rule, canonical_json(data.tally_params)
    db.session.flush()
    after = _district_snapshot(district)
    if after != before:
        log.record_action(cycle.chain_id, "district.created" if before is None else
                          "district.updated", actor,
                          {"cycle": cycle.slug, "district": district.slug,
                           "before": before, "after": after})
    return district


def delete_district(cycle: Cycle, district: District, actor: str,
                    now: dt.datetime | None = None, *, confirmed: bool = False) -> None:
    """Delete a district and its projects, only when the clerk `confirmed` it (422 otherwise,
    nothing deleted)."""
    _refuse_frozen(cycle, ["districts"], now)
    if not confirmed:
        message = n_(
            "Tick the box to confirm that %(name)s and its %(num)s project are deleted; "
            "nothing was deleted.",
            "Tick the box to confirm that %(name)s and its %(num)s projects are deleted; "
            "nothing was deleted.", len(district.projects), name=district.name)
        raise DomainError(message, 422, [Reason("confirm_delete", "not_confirmed", message)])
    before = _district_snapshot(district)
    before["projects"] = [p.code for p in district.projects]
    cycle.districts.remove(district)
    db.session.flush()
    log.record_action(cycle.chain_id, "district.deleted", actor,
                      {"cycle": cycle.slug, "district": before["slug"], "before": before,
                       "after": None})


# ---------------------------------------------------------------------------
# Phases


def _phase_snapshot(cycle: Cycle) -> dict:
    return {p.kind: [p.starts_at.isoformat(), p.ends_at.isoformat()] for p in cycle.phases}


def set_phases(cycle: Cycle, windows: list[setup_rules.PhaseWindow], actor: str,
               now: dt.datetime | None = None) -> None:
    before = _phase_snapshot(cycle)
    after = {w.kind: [w.starts_at.isoformat(), w.ends_at.isoformat()] for w in windows}
    if after == before:
        return
    _refuse_frozen(cycle, ["phases"], now)
    _refuse_if_invalid(setup_rules.phase_problems(windows))
    existing = {p.kind: p for p in cycle.phases}
    for kind, phase in existing.items():
        if kind not in after:
            cycle.phases.remove(phase)
    db.session.flush()
    for window in windows:
        phase = existing.get(window.kind)
        if phase is None:
            cycle.phases.append(Phase(kind=window.kind, starts_at=window.starts_at,
                                      ends_at=window.ends_at))
        else:
            phase.starts_at, phase.ends_at = window.starts_at, window.ends_at
    db.session.flush()
    db.session.expire(cycle, ["phases"])
    log.record_action(cycle.chain_id, "phases.updated", actor,
                      {"cycle": cycle.slug, "before": before, "after": after})


# ---------------------------------------------------------------------------
# Projects


@dataclass
class ProjectInput:
    code: str
    title: str
    cost: int
    summary: str = ""
    description: str = ""
    category: str = ""
    location: str = ""


def _project_snapshot(project: Project) -> dict:
    return {"code": project.code, "title": project.title, "cost": project.cost,
            "summary": project.summary, "description": project.description,
            "category": project.category, "location": project.location,
            "district": project.district.slug if project.district else None,
            "image": project.image_name}


def save_project(cycle: Cycle, district: District, project: Project | None, data: ProjectInput,
                 actor: str, now: dt.datetime | None = None) -> Project:
    before = _project_snapshot(project) if project else None
    if project is None:
        _refuse_frozen(cycle, ["projects"], now)
    else:
        _refuse_frozen(cycle, [name for name in ("code", "cost")
                               if getattr(data, name) != before[name]], now)
    codes_in_use = db.session.scalars(select(Project.code).where(
        Project.cycle_id == cycle.id, Project.id != (project.id if project else -1))).all()
    _refuse_if_invalid(setup_rules.project_problems(
        setup_rules.ProjectSettings(data.code, data.title, data.cost), district.budget,
        codes_in_use))
    if project is None:
        project = Project(cycle=cycle, position=len(district.projects))
        district.projects.append(project)
    project.code, project.title, project.cost = data.code, data.title.strip(), data.cost
    project.summary, project.description = data.summary.strip(), data.description.strip()
    project.category, project.location = data.category.strip(), data.location.strip()
    db.session.flush()
    after = _project_snapshot(project)
    if after != before:
        log.record_action(cycle.chain_id, "project.created" if before is None else
                          "project.updated", actor,
                          {"cycle": cycle.slug, "project": project.code, "before": before,
                           "after": after})
    return project


def delete_project(cycle: Cycle, project: Project, actor: str,
                   now: dt.datetime | None = None, *, confirmed: bool = False) -> str | None:
    """Delete a project, only when the clerk `confirmed` it (422 otherwise, nothing deleted);
    returns its image file name so the caller can remove the file."""
    _refuse_frozen(cycle, ["projects"], now)
    if not confirmed:
        message = _("Tick the box to confirm that %(title)s is deleted; nothing was deleted.",
                    title=project.title)
        raise DomainError(message, 422, [Reason("confirm_delete", "not_confirmed", message)])
    before = _project_snapshot(project)
    project.district.projects.remove(project)
    db.session.flush()
    log.record_action(cycle.chain_id, "project.deleted", actor,
                      {"cycle": cycle.slug, "project": before["code"], "before": before,
                       "after": None})
    return before["image"]


def set_project_image(cycle: Cycle, project: Project, image_name: str | None,
                      actor: str) -> str | None:
    """Attach (or remove, with None) an image; returns the replaced file name."""
    previous = project.image_name
    project.image_name = image_name
    db.session.flush()
    log.record_action(cycle.chain_id, "project.image", actor,
                      {"cycle": cycle.slug, "project": project.code,
                       "before": previous, "after": image_name})
    return previous


# ---------------------------------------------------------------------------
# Opening and closing voting by hand


def open_voting(cycle: Cycle, actor: str, now: dt.datetime | None = None) -> str:
    """Check readiness, start the voting window now, store and log the manifest. Returns
    the manifest hash. A refusal (409 or 422) writes nothing."""
    from pbvote.services.transitions import require_ready

    now = now or utcnow()
    voting = cycle.phase_window("voting")
    if cycle.manifest_hash is not None:
        if voting and voting.ends_at <= now:
            raise VotingStateConflict(_("Voting has already closed for this cycle; it cannot be "
                                        "opened again."))
        if voting and voting.starts_at > now:
            raise VotingStateConflict(_("Voting is scheduled: it opens by itself at the voting "
                                        "phase's start, which can no longer change."))
        raise VotingStateConflict(_("Voting is already open."))
    require_ready(cycle, "open", now)
    reasons = []
    for phase in cycle.phases:
        if setup_rules.PHASE_ORDER.index(phase.kind) < setup_rules.PHASE_ORDER.index("voting") \
                and phase.starts_at > now:
            reasons.append(Reason(f"{phase.kind}_starts_at", "earlier_phase_not_started",
                                  _("The %(kind)s phase has not started yet, so voting cannot "
                                    "open before it; change the phase dates first.",
                                    kind=phase.kind)))
    _refuse_if_invalid(reasons)
    before = _phase_snapshot(cycle)
    for phase in cycle.phases:
        if phase.kind in ("intake", "review") and phase.ends_at > now:
            phase.ends_at = now  # voting starts now, so the earlier phase ends now
    voting.starts_at = now
    db.session.flush()
    store_manifest(cycle)
    db.session.flush()
    log.record_action(cycle.chain_id, "voting.opened", actor, {
        "how": "by hand", "cycle": cycle.slug, "manifest_hash": cycle.manifest_hash,
        "before": before, "after": _phase_snapshot(cycle)})
    return cycle.manifest_hash


def close_voting(cycle: Cycle, actor: str, now: dt.datetime | None = None) -> None:
    from pbvote.services.transitions import require_ready

    now = now or utcnow()
    if not cycle.voting_open(now):
        raise VotingStateConflict(_("Voting is not open, so there is nothing to close."))
    require_ready(cycle, "close", now)
    # An import whose check has passed finishes even after the close (roll_import_job);
    # by hand, wait for it, so the roll is final the moment voting closes.
    batches.lock_cycle(cycle.id)
    if batches.running_import(cycle.id) is not None:
        raise batches.RollBeingImported(_(
            "A voter-roll import of this cycle is being applied. Close voting once its "
            "progress page says it is done; voting is still open."), 409)
    voting = cycle.phase_window("voting")
    before = _phase_snapshot(cycle)
    voting.ends_at = now
    db.session.flush()
    log.record_action(cycle.chain_id, "voting.closed", actor, {
        "how": "by hand", "cycle": cycle.slug, "before": before,
        "after": _phase_snapshot(cycle)})
