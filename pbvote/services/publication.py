"""Closing the count: private tally runs, two-admin publication and the immutable snapshot.

The embargo lives here: nothing is counted while voting is open or before it opened, so no
page, command or JSON can show a count that the service refuses to compute.

Results document (canonical JSON; ints stay ints, Fractions become exact strings such as
"1/3" or "12.5"; no timestamps, so a recount of unchanged ballots gives the same bytes)::

    {"format": 1,
     "cycle": {"slug", "name", "city", "currency", "total_budget"},
     "manifest_hash": "<sha-256 of the frozen manifest>",
     "chain": {"length": n, "head": "<entry hash>"},   # the cycle's chain when counted
     "tie_break_seed": "...",
     "totals": {"ballots", "participations", "roll_size"},
     "turnout_tables": services.turnout.public_tables(…): participations by district ×
                       channel, day and age band, cells of 1-9 hidden (None) with
                       complementary cells (pbvote.audit.suppression),
     "districts": [{
        "slug", "name", "budget", "ballot_kind", "rule", "params" (as resolved),
        "score_label": "votes" | "points",
        "ballots": n, "ballots_by_channel": {channel: n},
        "participations": {"total": n, "by_channel": {channel: n}},
        "roll_size": n,                     # roll entries old enough on the last voting day
        "access_codes": n,                  # codes for people not on the roll, not voided
        "eligible": roll_size + access_codes,
        "turnout": {"fraction": "p/q", "percent": "42.9"} | null (nobody eligible),
                                            # participations / eligible
        "projects": [{"id", "title", "cost", "supporters"}],   # display order
        "scores": {project id: score},      # votes, points or the ranked scoring points
        "outcome": Outcome.to_dict(),
        "analysis": pbvote.tally.analysis.analyse(…): per project effective support, the
                    money earlier projects took and what it needed (MES), or the score gap
                    and the project that took the last money (greedy); voters with none of
                    their projects funded (rule and plain greedy); each project's supporters'
                    average share of the money}]}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from fractions import Fraction
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from pbvote.audit import bundle as bundle_format
from pbvote.audit import verify
from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    AccessCode,
    Ballot,
    Chain,
    Cycle,
    District,
    LogEntry,
    Participation,
    ResultsSnapshot,
    RollEntry,
    TallyRun,
)
from pbvote.rules.turnout import latest_birth_date
from pbvote.services import log, transitions
from pbvote.services import turnout as turnout_figures
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.roll_import_batches import running_import
from pbvote.services.tally import district_election
from pbvote.services.transitions.publish import first_failure
from pbvote.tally import TallyInputError, run_rule
from pbvote.tally.analysis import analyse
from pbvote.tally.exact import fmt_approx, json_exact
from pbvote.tally.registry import RULES, resolve_params
from pbvote.tally.rules.scoring import score_label

RESULTS_FORMAT = 1
#: who may run a count and read private outcomes
COUNTING_ROLES = ("staff", "admin")
PUBLISHING_ROLE = "admin"


class EmbargoError(DomainError):
    """No count exists before voting has closed."""

    def __init__(self, message: str):
        super().__init__(message, 409)


class PublicationRefused(DomainError):
    def __init__(self, message: str, status: int = 409):
        super().__init__(message, status)


# ----- the embargo ---------------------------------------------------------------------------
def voting_state(cycle: Cycle, now: dt.datetime | None = None) -> str:
    """"unscheduled" (no voting window, or voting never scheduled nor opened), "not_yet",
    "open" or "closed"."""
    now = now or utcnow()
    window = cycle.phase_window("voting")
    if window is None or cycle.manifest_hash is None:
        return "unscheduled"
    if now < window.starts_at:
        return "not_yet"
    if now < window.ends_at:
        return "open"
    return "closed"


def require_voting_closed(cycle: Cycle, now: dt.datetime | None = None) -> None:
    state = voting_state(cycle, now)
    if state == "open":
        raise EmbargoError(_("Voting is still open. Nothing is counted, and no count is shown to "
                             "anyone, until voting closes."))
    if state in ("not_yet", "unscheduled"):
        raise EmbargoError(_("Voting has not taken place yet, so there is nothing to count."))


# ----- counting ------------------------------------------------------------------------------
def compute_results(cycle: Cycle, chain_point: dict | None = None,
                    now: dt.datetime | None = None) -> dict:
    """Count every district of a closed cycle from the stored ballots.

    `chain_point` ({"length", "head"}) pins the results to a chain position; by default the
    cycle's chain as it is now. Refuses (409) before voting has closed.
    """
    require_voting_closed(cycle, now)
    if chain_point is None:
        chain = db.session.get(Chain, cycle.chain_id)
        chain_point = {"length": chain.length, "head": chain.head_hash}
    last_voting_day = _last_voting_day(cycle)
    districts = [_district_results(cycle, district, last_voting_day)
                 for district in cycle.districts]
    return {
        "format": RESULTS_FORMAT,
        "cycle": {"slug": cycle.slug, "name": cycle.name, "city": cycle.city_name,
                  "currency": cycle.currency, "total_budget": cycle.total_budget},
        "manifest_hash": cycle.manifest_hash,
        "chain": {"length": int(chain_point["length"]), "head": str(chain_point["head"])},
        "tie_break_seed": cycle.tie_break_seed,
        "totals": {
            "ballots": sum(d["ballots"] for d in districts),
            "participations": sum(d["participations"]["total"] for d in districts),
            "roll_size": sum(d["roll_size"] for d in districts),
            "access_codes": sum(d["access_codes"] for d in districts),
            "eligible": sum(d["eligible"] for d in districts),
            "turnout": _turnout(sum(d["participations"]["total"] for d in districts),
                                sum(d["eligible"] for d in districts)),
        },
        "districts": districts,
        "turnout_tables": turnout_figures.public_tables(
            turnout_figures.figures(cycle, now=now, cached=False)),
    }


def results_text_and_hash(results: dict) -> tuple[str, str]:
    text = canonical_json(results)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_voting_day(cycle: Cycle) -> dt.date:
    from zoneinfo import ZoneInfo

    window = cycle.phase_window("voting")
    last_moment = window.ends_at - dt.timedelta(microseconds=1)
    return last_moment.astimezone(ZoneInfo(cycle.timezone)).date()


def _district_results(cycle: Cycle, district: District, last_voting_day: dt.date) -> dict:
    election = district_election(district)
    spec = RULES.get(election.rule)
    try:
        if spec is None:
            raise TallyInputError(_("unknown rule '%(rule)s'", rule=election.rule))
        params = resolve_params(spec, election.params)
        outcome = run_rule(election.instance, election.profile, election.rule, election.params)
    except TallyInputError as error:
        raise DomainError(_("%(name)s cannot be counted: %(error)s",
                            name=district.name, error=error), 409) from error
    profile = election.profile
    scores = profile.scores(params.get("scoring_fn") if profile.ballot_type == "ordinal" else None)
    supporters = profile.supporters()

    ballots_by_channel = _counts_by_channel(Ballot, district)
    participations_by_channel = _counts_by_channel(Participation, district)
    participations = sum(participations_by_channel.values())
    roll_size = _eligible_roll_size(cycle, district, last_voting_day)
    # Access codes reach people the roll may miss; each one is a possible voter. A code
    # issued for a roll entry is that entry's second way in, not another person.
    access_codes = db.session.scalar(select(func.count()).select_from(AccessCode).where(
        AccessCode.district_id == district.id, AccessCode.status != "voided",
        AccessCode.roll_entry_id.is_(None)))
    return {
        "slug": district.slug, "name": district.name, "budget": district.budget,
        "ballot_kind": district.ballot_kind, "rule": election.rule,
        "params": _exact_json(params),
        "score_label": score_label(profile),
        "ballots": profile.num_voters, "ballots_by_channel": ballots_by_channel,
        "participations": {"total": participations, "by_channel": participations_by_channel},
        "roll_size": roll_size, "access_codes": int(access_codes),
        "eligible": roll_size + int(access_codes),
        "turnout": _turnout(participations, roll_size + int(access_codes)),
        "projects": [{"id": p.code, "title": p.title, "cost": p.cost,
                      "supporters": supporters[p.code]} for p in district.projects],
        "scores": {code: _exact_json(value) for code, value in scores.items()},
        "outcome": outcome.to_dict(),
        "analysis": analyse(election.instance, profile, outcome),
    }


def _turnout(participations: int, eligible: int) -> dict | None:
    if not eligible:
        return None
    share = Fraction(participations, eligible)
    return {"fraction": f"{share.numerator}/{share.denominator}",
            "percent": fmt_approx(share * 100, 1)}


def _counts_by_channel(model, district: District) -> dict[str, int]:
    rows = db.session.execute(select(model.channel, func.count()).where(
        model.cycle_id == district.cycle_id, model.district_id == district.id)
        .group_by(model.channel))
    return {channel: int(count) for channel, count in sorted(rows)}


def _eligible_roll_size(cycle: Cycle, district: District, last_voting_day: dt.date) -> int:
    """Roll entries of the district old enough to vote on the last day of voting: born on
    or before the last birth date of someone that old then (age_on's rule, so born on 29
    February one is a year older on 1 March), one count over an index."""
    born_by = latest_birth_date(max(cycle.minimum_age, 0), last_voting_day)
    return int(db.session.connection().scalar(
        select(func.count()).select_from(RollEntry).where(
            RollEntry.cycle_id == cycle.id, RollEntry.district_id == district.id,
            RollEntry.birth_date <= born_by)))


def _exact_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, Fraction) or type(value).__name__ == "mpq":
        return json_exact(value)
    if isinstance(value, dict):
        return {str(k): _exact_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact_json(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} into results")


# ----- tally runs and publication ------------------------------------------------------------
def _require_role(actor, roles: tuple[str, ...], refusal: str) -> None:
    """`refusal`: the whole sentence (N_), translated here."""
    if actor is None or not getattr(actor, "is_active", False) or not actor.has_role(*roles):
        raise DomainError(translate(refusal), 403)


def run_tally(cycle: Cycle, actor, now: dt.datetime | None = None) -> TallyRun:
    """Count a closed cycle privately and keep the result as a draft tally run."""
    _require_role(actor, COUNTING_ROLES, N_("Only staff or admin accounts may run the count."))
    require_voting_closed(cycle, now)
    transitions.require_ready(cycle, "count", now)
    if running_import(cycle.id) is not None:
        # its check passed before the close, so it finishes (roll_import_job); the roll
        # size and turnout are of the roll it leaves
        raise DomainError(_("A voter-roll import of this cycle, confirmed before voting "
                            "closed, is still being applied. Run the count once its progress "
                            "page says it is done."), 409)
    results = compute_results(cycle, now=now)
    text, digest = results_text_and_hash(results)
    run = TallyRun(cycle_id=cycle.id, run_by=actor.label, results_json=text,
                   results_hash=digest, status="draft", created_at=utcnow())
    db.session.add(run)
    db.session.flush()
    log.record_action(cycle.chain_id, "tally.run", actor.label, {
        "cycle": cycle.slug, "tally_run": run.id, "results_hash": digest,
        "chain": results["chain"], "before": None, "after": {"status": "draft"}})
    # The verdict is taken now, on the bundle this run would publish, so the overview shows it
    # before anyone asks to publish; a failing run cannot be put forward (request_publication).
    # Those verified bytes are kept with the run: asking, confirming and exporting publish
    # them, after checking that nothing they were built from changed, instead of building
    # and verifying the bundle again.
    from pbvote.services import audit

    files, digest_of_inputs = audit.count_bundle(cycle, text)
    failure = first_failure(verify.verify_files(files))
    run.verified_ok = not failure
    run.verifier_failure = failure or None
    if not failure:
        run.bundle_zip = bundle_format.zip_bytes(files, audit.bundle_folder_name(cycle))
        run.bundle_sha256 = hashlib.sha256(run.bundle_zip).hexdigest()
        run.inputs_digest = digest_of_inputs
    db.session.flush()
    return run


def _verified_bundle_failure(cycle: Cycle, run: TallyRun) -> str:
    """"" when the bundle verified at the count is still what would be published; else why
    not. A run counted before bundles were kept is built and verified now, as it was then."""
    from pbvote.services import audit

    files = audit.stored_bundle(run)  # refuses altered bytes (StoredBundleAltered)
    if files is None:
        return transitions.bundle_failure_for_run(cycle, run)
    if files.get(verify.RESULTS_FILE) != run.results_json.encode("utf-8"):
        return "stored bundle: its results.json is not this run's results"
    return audit.stored_bundle_problem(cycle, run, files)


def get_tally_run(cycle: Cycle, run_id: int) -> TallyRun:
    run = db.session.get(TallyRun, run_id)
    if run is None or run.cycle_id != cycle.id:
        raise NotFound(_("There is no such tally run for this cycle."))
    return run


def list_tally_runs(cycle: Cycle) -> list[TallyRun]:
    return list(db.session.scalars(select(TallyRun).where(TallyRun.cycle_id == cycle.id)
                                   .order_by(TallyRun.id.desc())))


def published_results(cycle: Cycle) -> ResultsSnapshot | None:
    return db.session.scalar(select(ResultsSnapshot).where(ResultsSnapshot.cycle_id == cycle.id))


def _refuse_if_published(cycle: Cycle) -> None:
    if published_results(cycle) is not None:
        raise PublicationRefused(_("The results of this cycle are already published; a published "
                                   "snapshot is never replaced."))


def request_publication(cycle: Cycle, tally_run: TallyRun, admin,
                        now: dt.datetime | None = None) -> TallyRun:
    """First admin: ask to publish this run. A second admin must confirm."""
    _require_role(admin, (PUBLISHING_ROLE,),
                  N_("Only admin accounts may ask to publish results."))
    if tally_run.cycle_id != cycle.id:
        raise NotFound(_("There is no such tally run for this cycle."))
    require_voting_closed(cycle, now)
    _refuse_if_published(cycle)
    if tally_run.status != "draft":
        raise PublicationRefused(_("Tally run %(number)s has already been put forward for "
                                   "publication.", number=tally_run.id))
    # A run whose bundle failed the verifier when it was counted stays refused (run a new
    # count); otherwise the verified bundle must still be what would be published.
    failure = tally_run.verifier_failure if tally_run.verified_ok is False else None
    transitions.require_ready(cycle, "request", now,
                              failure or _verified_bundle_failure(cycle, tally_run))
    tally_run.status = "requested"
    tally_run.requested_by = admin.label
    tally_run.requested_by_id = admin.id
    tally_run.requested_at = now or utcnow()
    db.session.flush()
    log.record_action(cycle.chain_id, "publication.requested", admin.label, {
        "cycle": cycle.slug, "tally_run": tally_run.id, "results_hash": tally_run.results_hash,
        "before": {"status": "draft"}, "after": {"status": "requested"}})
    return tally_run


def confirm_publication(cycle: Cycle, tally_run: TallyRun, second_admin,
                        now: dt.datetime | None = None) -> ResultsSnapshot:
    """Second admin: recount, check nothing changed since the tally, write the snapshot once."""
    _require_role(second_admin, (PUBLISHING_ROLE,),
                  N_("Only admin accounts may confirm the publication of results."))
    if tally_run.cycle_id != cycle.id:
        raise NotFound(_("There is no such tally run for this cycle."))
    # Publications of one cycle queue on its chain row; the unique snapshot is the backstop.
    db.session.scalar(for_update(select(Chain).where(Chain.id == cycle.chain_id)))
    _refuse_if_published(cycle)
    if tally_run.status != "requested":
        raise PublicationRefused(_("Tally run %(number)s has not been put forward for "
                                   "publication by an administrator yet.", number=tally_run.id))
    if tally_run.requested_by_id == second_admin.id:
        raise PublicationRefused(_("A second administrator must confirm: you asked for this "
                                   "publication yourself."), 403)
    transitions.require_ready(cycle, "confirm", now)
    stored = json.loads(tally_run.results_json)
    _check_chain_unchanged(cycle, stored["chain"])
    if tally_run.bundle_zip is not None:
        # The bytes the verifier passed at the count are what the public gets (the chain head
        # aside, which only the chain checks read): nothing is rebuilt, so nothing unverified
        # can be published, provided that what they were built from is unchanged.
        failure = _verified_bundle_failure(cycle, tally_run)
        if failure.startswith("inputs:"):
            raise PublicationRefused(
                _("The ballots no longer give the results of this tally run: the ballots, "
                  "receipts, participations, roll or access codes changed since it was "
                  "counted. Nothing was published; find out what changed, then run a new "
                  "tally."))
        if failure:
            transitions.require_ready(cycle, "confirm", now, failure)
    else:
        _require_recount_matches(cycle, tally_run, stored["chain"], now)
    savepoint = db.session.begin_nested()
    snapshot = ResultsSnapshot(
        cycle_id=cycle.id, tally_run_id=tally_run.id, results_json=tally_run.results_json,
        results_hash=tally_run.results_hash, published_at=now or utcnow(),
        published_by=tally_run.requested_by, confirmed_by=second_admin.label)
    db.session.add(snapshot)
    try:
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        raise PublicationRefused(_("The results of this cycle were published a moment ago.")) \
            from error
    tally_run.status = "published"
    tally_run.confirmed_by = second_admin.label
    db.session.flush()
    log.record_action(cycle.chain_id, "results.published", second_admin.label, {
        "cycle": cycle.slug, "tally_run": tally_run.id, "results_hash": tally_run.results_hash,
        "requested_by": tally_run.requested_by, "confirmed_by": second_admin.label,
        "chain": stored["chain"], "manifest_hash": stored.get("manifest_hash"),
        "before": {"status": "requested", "published": False},
        "after": {"status": "published", "published": True}})
    # A run counted before bundles were kept: the exact bundle the public will download from
    # now on, through the standalone verifier; any failure undoes the publication (snapshot,
    # run status, log entry) and refuses.
    failure = "" if tally_run.bundle_zip is not None else \
        transitions.bundle_failure_for_run(cycle, tally_run)
    if failure:
        savepoint.rollback()
        db.session.expire_all()
        transitions.require_ready(cycle, "confirm", now, failure)
    else:
        savepoint.commit()
    from pbvote.services import results_notice

    # everyone who asked is told once, by a job outside this request
    results_notice.schedule(cycle, second_admin)
    return snapshot


def _require_recount_matches(cycle: Cycle, tally_run: TallyRun, chain_point: dict,
                             now: dt.datetime | None) -> None:
    _text, digest = results_text_and_hash(compute_results(cycle, chain_point, now=now))
    if digest != tally_run.results_hash:
        raise PublicationRefused(
            _("The ballots no longer give the results of this tally run (a recount now gives "
              "%(recount)s…, the run recorded %(recorded)s…). Nothing was published; find out "
              "what changed, then run a new tally.",
              recount=digest[:12], recorded=tally_run.results_hash[:12]))


def _check_chain_unchanged(cycle: Cycle, chain_point: dict) -> None:
    """The counted chain prefix still ends where it did, and no ballot was logged since."""
    length, head = int(chain_point["length"]), chain_point["head"]
    if length:
        recorded = db.session.scalar(select(LogEntry.entry_hash).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.position == length))
        if recorded != head:
            raise PublicationRefused(_("The ballot log no longer matches the one this tally "
                                       "counted. Nothing was published."))
    later_ballot = db.session.scalar(select(exists().where(
        LogEntry.chain_id == cycle.chain_id, LogEntry.position > length,
        LogEntry.kind == "ballot")))
    if later_ballot:
        raise PublicationRefused(_("Ballots were logged after this tally ran. Nothing was "
                                   "published; run a new tally."))
