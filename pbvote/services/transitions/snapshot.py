"""Reading a cycle into the plain snapshot the readiness checks judge (pbvote.rules.readiness)."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, ContentTranslation, Cycle, LogEntry, RollEntry, TallyRun
from pbvote.models.in_person import PaperSerial
from pbvote.rules import readiness
from pbvote.rules import setup as setup_rules
from pbvote.services import in_person

#: the chain entry that records a staff note explaining a reconciliation imbalance
NOTE_KIND = "reconciliation.explained"
#: each language by its own name, as the language switcher shows it
LANGUAGE_NAMES = {"es": "Español", "zh_Hans": "简体中文"}
#: the chain entry that records a later end of voting
EXTENSION_KIND = "voting.extended"


def chain_records(cycle: Cycle, kind: str) -> list[dict]:
    """The data of every entry of this kind in the cycle's chain, in chain order."""
    rows = db.session.scalars(select(LogEntry.entry_json).where(
        LogEntry.chain_id == cycle.chain_id, LogEntry.kind == kind).order_by(LogEntry.position))
    return [json.loads(text)["data"] for text in rows]


def _by_district(cycle: Cycle, statement) -> dict[int, int]:
    return {district_id: int(count) for district_id, count in db.session.execute(statement)}


def imbalances(cycle: Cycle) -> list[readiness.Imbalance]:
    """Every reconciliation figure that does not add up, marked explained when a staff note
    names its site and district. Entries still waiting for a second person or adjudication
    are blockers of their own, not imbalances."""
    report = in_person.reconciliation(cycle)
    explained = {(n.get("site"), n.get("district")) for n in chain_records(cycle, NOTE_KIND)}
    found = []
    for row in report.sites:
        if row.paper_handed_out < 0 or row.paper_unreturned < 0:
            problem = row.problems[0]
            found.append(readiness.Imbalance(row.site, row.district_slug,
                                             f"{row.district_name}: {problem}",
                                             (row.site, row.district_slug) in explained))
    names = {d.slug: d.name for d in cycle.districts}
    for online in report.online:
        if not online.balanced:
            found.append(readiness.Imbalance(
                "online", online.district_slug,
                f"{online.district_name}: {online.participations} ≠ {online.ballots}",
                ("online", online.district_slug) in explained))
    for check in report.ballot_checks:
        if not check.balanced:
            found.append(readiness.Imbalance(
                check.channel, check.district_slug,
                f"{names.get(check.district_slug, check.district_slug)}: "
                f"{check.ballots} ≠ {check.expected}",
                (check.channel, check.district_slug) in explained))
    return found


def cycle_snapshot(cycle: Cycle, now: dt.datetime | None = None,
                   bundle_failure: str | None = None) -> readiness.CycleSnapshot:
    from pbvote.services.publication import published_results
    from pbvote.services.setup import cycle_settings_of, district_settings_of, eligibility_of
    from pbvote.services.translations import TRANSLATION_LOCALES

    now = now or utcnow()
    roll = _by_district(cycle, select(RollEntry.district_id, func.count()).where(
        RollEntry.cycle_id == cycle.id).group_by(RollEntry.district_id))
    codes = _by_district(cycle, select(AccessCode.district_id, func.count()).where(
        AccessCode.cycle_id == cycle.id, AccessCode.status == "unused")
        .group_by(AccessCode.district_id))
    sites = _by_district(cycle, select(PaperSerial.district_id,
                                       func.count(func.distinct(PaperSerial.site)))
                         .where(PaperSerial.cycle_id == cycle.id)
                         .group_by(PaperSerial.district_id))
    districts = tuple(readiness.DistrictSnapshot(
        district_settings_of(d), tuple((p.code, p.cost) for p in d.projects),
        roll.get(d.id, 0), codes.get(d.id, 0), sites.get(d.id, 0)) for d in cycle.districts)
    projects = {p.id: p.code for d in cycle.districts for p in d.projects}
    translated = set(db.session.execute(
        select(ContentTranslation.object_id, ContentTranslation.locale).where(
            ContentTranslation.object_type == "project", ContentTranslation.field == "title",
            ContentTranslation.object_id.in_(list(projects) or [-1]))))
    missing = tuple((code, LANGUAGE_NAMES.get(locale, locale))
                    for project_id, code in projects.items()
                    for locale in TRANSLATION_LOCALES if (project_id, locale) not in translated)
    statuses = dict(db.session.execute(
        select(PaperSerial.status, func.count()).where(PaperSerial.cycle_id == cycle.id)
        .group_by(PaperSerial.status)).all())
    runs = list(db.session.execute(select(TallyRun.id, TallyRun.status).where(
        TallyRun.cycle_id == cycle.id).order_by(TallyRun.id.desc())))
    draft_run = next((run_id for run_id, status in runs if status == "draft"), None)
    voting_ever = cycle.manifest_hash is not None
    return readiness.CycleSnapshot(
        slug=cycle.slug, now=now, settings=cycle_settings_of(cycle),
        eligibility=eligibility_of(cycle),
        phases=tuple(setup_rules.PhaseWindow(p.kind, p.starts_at, p.ends_at)
                     for p in cycle.phases),
        districts=districts, frozen=voting_ever, languages=TRANSLATION_LOCALES,
        missing_texts=missing,
        paper_entered_once=int(statuses.get("entered_once", 0)),
        paper_adjudication=int(statuses.get("adjudication", 0)),
        imbalances=tuple(imbalances(cycle)) if voting_ever else (),
        draft_run=draft_run, draft_run_verdict=_stored_verdict(draft_run),
        requested_run=next((run_id for run_id, status in runs if status == "requested"), None),
        published=published_results(cycle) is not None,
        bundle_failure=bundle_failure)


def _stored_verdict(run_id: int | None) -> str | None:
    """The verifier's verdict stored on a tally run: None when none was taken, "" for a pass,
    else "<check>: <detail>"."""
    if run_id is None:
        return None
    ok, failure = db.session.execute(select(TallyRun.verified_ok, TallyRun.verifier_failure)
                                     .where(TallyRun.id == run_id)).one()
    if ok is None:
        return None
    return "" if ok else (failure or "verifier")
