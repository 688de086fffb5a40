"""Is a cycle ready for its next step? One pure check per transition.

Each check takes a :class:`CycleSnapshot` (plain data the services read from the database)
and returns a :class:`Readiness`: the blockers that refuse the transition and the warnings
that do not, each with a :class:`Link` (an endpoint and its arguments) to the page that
fixes it. The staff set-up overview shows every check at all times; the service that
performs a transition runs the same check and refuses while any blocker remains, so the web
and the command line cannot disagree.

Transitions: ``open`` (schedule voting or open it now), ``close``, ``count``,
``request`` (ask to publish a tally run) and ``confirm`` (publish it).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pbvote.i18n_hook import N_, _, translate
from pbvote.rules import setup as setup_rules
from pbvote.rules.ballots import Reason
from pbvote.rules.eligibility import EligibilityRules

TRANSITIONS = ("open", "close", "count", "request", "confirm")
TRANSITION_NAMES = {
    "open": N_("Open voting"),
    "close": N_("Close voting"),
    "count": N_("Run the count"),
    "request": N_("Ask to publish the results"),
    "confirm": N_("Confirm the publication"),
}


@dataclass(frozen=True)
class Link:
    """A page that fixes a finding: a Flask endpoint and its URL arguments."""

    endpoint: str
    args: tuple[tuple[str, str], ...] = ()

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.args)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    link: Link


@dataclass(frozen=True)
class Readiness:
    transition: str
    blockers: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    #: the step has already been taken (its blockers then say why it cannot be again)
    done: bool = False

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def title(self) -> str:
        return translate(TRANSITION_NAMES[self.transition])


@dataclass(frozen=True)
class DistrictSnapshot:
    settings: setup_rules.DistrictSettings
    #: (project code, cost) in display order
    projects: tuple[tuple[str, int], ...] = ()
    roll_entries: int = 0
    unused_codes: int = 0
    #: paper ballots printed for a site of this district (a desk that can hand them out)
    desk_sites: int = 0


@dataclass(frozen=True)
class Imbalance:
    """A reconciliation figure that does not add up, per site (or "online") and district."""

    site: str
    district_slug: str
    message: str
    #: a staff note explains it (logged to the chain and published in the bundle)
    explained: bool = False


@dataclass(frozen=True)
class CycleSnapshot:
    slug: str
    now: dt.datetime
    settings: setup_rules.CycleSettings
    eligibility: EligibilityRules
    phases: tuple[setup_rules.PhaseWindow, ...] = ()
    districts: tuple[DistrictSnapshot, ...] = ()
    #: the manifest is stored: voting was scheduled or opened, the configuration is frozen
    frozen: bool = False
    #: languages of the site other than the one texts are written in
    languages: tuple[str, ...] = ()
    #: (project code, language) whose title has no translation
    missing_texts: tuple[tuple[str, str], ...] = ()
    #: paper serials entered once (waiting for the second entry) and in adjudication
    paper_entered_once: int = 0
    paper_adjudication: int = 0
    imbalances: tuple[Imbalance, ...] = ()
    #: the id of the newest draft tally run and of the run waiting for confirmation
    draft_run: int | None = None
    requested_run: int | None = None
    published: bool = False
    #: the verifier's verdict on the bundle a publication would publish: None when not
    #: built (no run to publish), "" when every check held, else "<check>: <detail>"
    bundle_failure: str | None = None
    #: the verdict stored on the newest draft run when it was counted: None when not taken,
    #: "" when every check held, else "<check>: <detail>"
    draft_run_verdict: str | None = None

    def phase(self, kind: str) -> setup_rules.PhaseWindow | None:
        return next((p for p in self.phases if p.kind == kind), None)

    @property
    def voting_state(self) -> str:
        """"draft" (not frozen), "scheduled", "open" or "closed"."""
        voting = self.phase("voting")
        if not self.frozen or voting is None:
            return "draft"
        if self.now < voting.starts_at:
            return "scheduled"
        if self.now < voting.ends_at:
            return "open"
        return "closed"


def _link(endpoint: str, **args: str) -> Link:
    return Link(endpoint, tuple(sorted(args.items())))


def _overview(s: CycleSnapshot) -> Link:
    return _link("staff_setup.overview", slug=s.slug)


def _configuration_link(s: CycleSnapshot, reason: Reason) -> Link:
    """The form a configuration reason's field belongs to."""
    name = reason.field or ""
    if name.startswith("district:"):
        return _link("staff_setup.edit_district", slug=s.slug, district_slug=name.split(":")[1])
    if name == "districts":
        return _link("staff_setup.new_district", slug=s.slug)
    if name.endswith(("_starts_at", "_ends_at")):
        return _link("staff_setup.phases", slug=s.slug)
    return _link("staff_setup.edit_cycle", slug=s.slug)


# ----- open ------------------------------------------------------------------------------------
def open_voting(s: CycleSnapshot) -> Readiness:
    blockers: list[Finding] = []
    warnings: list[Finding] = []
    if s.frozen:
        blockers.append(Finding("already_frozen", _(
            "Voting is already scheduled or open; the settings are frozen."), _overview(s)))
        return Readiness("open", tuple(blockers), done=True)
    reasons = setup_rules.configuration_problems(
        s.settings, list(s.phases), s.eligibility,
        [(d.settings, len(d.projects)) for d in s.districts])
    blockers += [Finding(r.code, r.message, _configuration_link(s, r)) for r in reasons]
    voting = s.phase("voting")
    if voting is not None and voting.ends_at <= s.now:
        blockers.append(Finding("voting_end_past", _(
            "The voting phase's end is already past; set a later end first."),
            _link("staff_setup.phases", slug=s.slug)))
    methods = s.eligibility.allowed_methods
    for district in s.districts:
        d = district.settings
        for code, cost in district.projects:
            if cost > d.budget:
                blockers.append(Finding("project_over_budget", _(
                    "%(district)s: project %(code)s costs more than the district's budget; "
                    "raise the budget or lower the cost.", district=d.name, code=code),
                    _link("staff_setup.edit_district", slug=s.slug, district_slug=d.slug)))
        ways = (("roll" in methods or "desk" in methods) and district.roll_entries > 0) \
            or ("code" in methods and district.unused_codes > 0) \
            or (district.desk_sites > 0 and s.eligibility.self_declared_residence)
        if not ways:
            blockers.append(Finding("no_way_to_vote", _(
                "%(district)s: nobody could vote. Import a voter roll, generate access codes "
                "or prepare a desk site first.", district=d.name),
                _link("staff_setup.roll_upload", slug=s.slug)
                if "roll" in methods or "code" not in methods
                else _link("staff_setup.codes", slug=s.slug)))
    missing: dict[str, list[str]] = {}
    for code, language in s.missing_texts:
        missing.setdefault(code, []).append(language)
    for code, languages in sorted(missing.items()):
        warnings.append(Finding("text_missing", _(
            "Project %(code)s has no translation in %(languages)s; residents reading those "
            "languages see the original.", code=code, languages=", ".join(sorted(languages))),
            _link("content_translations.project", slug=s.slug, code=code)))
    return Readiness("open", tuple(blockers), tuple(warnings))


# ----- close -----------------------------------------------------------------------------------
def close_voting(s: CycleSnapshot) -> Readiness:
    state = s.voting_state
    if state == "open":
        return Readiness("close")
    message = {
        "draft": _("Voting has not been scheduled or opened yet."),
        "scheduled": _("Voting is scheduled but has not started yet."),
        "closed": _("Voting has already closed."),
    }[state]
    return Readiness("close", (Finding(f"voting_{state}", message, _overview(s)),),
                     done=state == "closed")


# ----- count -----------------------------------------------------------------------------------
def _count_blockers(s: CycleSnapshot) -> list[Finding]:
    blockers: list[Finding] = []
    state = s.voting_state
    if state != "closed":
        blockers.append(Finding("voting_not_closed", _(
            "Voting has not closed yet: nothing is counted before it closes."), _overview(s)))
    if s.paper_entered_once:
        blockers.append(Finding("paper_pending", _n_pending(s.paper_entered_once),
                                _link("paper.enter", slug=s.slug)))
    if s.paper_adjudication:
        blockers.append(Finding("paper_adjudication", _(
            "%(number)s paper ballots wait for adjudication by a third person.",
            number=s.paper_adjudication), _link("paper.index", slug=s.slug)))
    for imbalance in s.imbalances:
        if not imbalance.explained:
            blockers.append(Finding("unexplained_imbalance", _(
                "%(site)s: %(problem)s. Find the cause, or explain it in a note.",
                site=imbalance.site, problem=imbalance.message),
                _link("staff_setup.reconciliation_notes", slug=s.slug)))
    return blockers


def _n_pending(number: int) -> str:
    return _("%(number)s paper ballots were entered once and wait for the second entry by "
             "another staff member.", number=number)


def count(s: CycleSnapshot) -> Readiness:
    return Readiness("count", tuple(_count_blockers(s)), done=s.published)


# ----- publication -----------------------------------------------------------------------------
def _bundle_blocker(s: CycleSnapshot, stored: str | None = None) -> list[Finding]:
    """`stored`: the verdict taken when the run was counted, used when no bundle was built
    for this check."""
    if s.published:
        return [Finding("published", _("The results of this cycle are already published."),
                        _link("results.page", slug=s.slug))]
    if s.bundle_failure is None and stored and s.draft_run is not None:
        return [Finding("bundle_fails", _(
            "When count %(number)s was made, the bundle it would publish failed the verifier "
            "at %(check)s. It cannot be published; fix the cause, then run the count again.",
            number=s.draft_run, check=stored),
            _link("staff_results.run", slug=s.slug, run_id=str(s.draft_run)))]
    if s.bundle_failure:
        return [Finding("bundle_fails", _(
            "The bundle this publication would publish fails the verifier at %(check)s. "
            "Nothing can be published until it verifies.", check=s.bundle_failure),
            _link("staff_results.overview", slug=s.slug))]
    return []


def request_publication(s: CycleSnapshot) -> Readiness:
    blockers = [b for b in _count_blockers(s)]
    if s.draft_run is None and not s.published:
        blockers.append(Finding("no_run", _("Run the count first: there is no tally run to "
                                            "publish."), _link("staff_results.overview",
                                                               slug=s.slug)))
    blockers += _bundle_blocker(s, s.draft_run_verdict)
    return Readiness("request", tuple(blockers),
                     done=s.published or s.requested_run is not None)


def confirm_publication(s: CycleSnapshot) -> Readiness:
    blockers = [b for b in _count_blockers(s)]
    if s.requested_run is None and not s.published:
        blockers.append(Finding("not_requested", _(
            "No administrator has asked to publish a tally run yet."),
            _link("staff_results.overview", slug=s.slug)))
    blockers += _bundle_blocker(s)
    return Readiness("confirm", tuple(blockers), done=s.published)


CHECKS: dict[str, Callable[[CycleSnapshot], Readiness]] = {
    "open": open_voting, "close": close_voting, "count": count,
    "request": request_publication, "confirm": confirm_publication,
}


def check(transition: str, snapshot: CycleSnapshot) -> Readiness:
    return CHECKS[transition](snapshot)


def all_checks(snapshot: CycleSnapshot) -> list[Readiness]:
    return [CHECKS[name](snapshot) for name in TRANSITIONS]


def as_reasons(readiness: Readiness) -> list[Reason]:
    return [Reason("", finding.code, finding.message) for finding in readiness.blockers]
