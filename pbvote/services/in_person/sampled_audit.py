"""The sampled paper audit after voting closes, and the paper_audit.json bundle document."""
from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbvote.audit.chain import canonical_json
from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.models.in_person import (
    FINAL_SERIAL_STATUSES,
    PaperAudit,
    PaperAuditFinding,
    PaperSerial,
)
from pbvote.rules import paper_audit
from pbvote.services import log
from pbvote.services.in_person.common import InPersonRefused, _actor_label, _bad_input
from pbvote.services.in_person.paper import PaperReading, find_serial, normalise_serial
from pbvote.services.in_person.reconciliation import bundle_figures


def _voting_closed(cycle: Cycle, now: dt.datetime) -> bool:
    phase = cycle.phase_window("voting")
    return phase is not None and now >= phase.ends_at


def audit_population(cycle: Cycle) -> list[str]:
    """Serials of every entered paper ballot (counted, spoiled or invalid)."""
    return list(db.session.scalars(select(PaperSerial.serial).where(
        PaperSerial.cycle_id == cycle.id, PaperSerial.status.in_(FINAL_SERIAL_STATUSES))))


def get_audit(cycle: Cycle) -> PaperAudit | None:
    return db.session.scalar(select(PaperAudit).where(PaperAudit.cycle_id == cycle.id))


def start_audit(cycle: Cycle, *, seed: str, method: str, risk_limit: str = "",
                margin: str = "", percentage: str = "", actor,
                now: dt.datetime | None = None) -> PaperAudit:
    now = now or utcnow()
    if not _voting_closed(cycle, now):
        raise InPersonRefused(_("The paper audit starts after voting closes."))
    if get_audit(cycle) is not None:
        raise InPersonRefused(_("This cycle's paper audit has already been started; its seed and "
                                "sample cannot change."))
    unfinished = db.session.scalar(select(func.count()).select_from(PaperSerial).where(
        PaperSerial.cycle_id == cycle.id,
        PaperSerial.status.in_(("entered_once", "adjudication"))))
    if unfinished:
        raise InPersonRefused(_("%(unfinished)s paper ballots are still waiting for a second "
                                "entry or adjudication: finish them before sampling.",
                                unfinished=unfinished))
    seed = (seed or "").strip()
    if not seed or len(seed) > 200:
        raise _bad_input(_("Enter the public random seed (up to 200 characters)."), "seed")
    population = sorted(audit_population(cycle))
    if not population:
        raise InPersonRefused(_("No paper ballots were entered: there is nothing to audit."))
    try:
        if method == "risk":
            limit = paper_audit.parse_percent(risk_limit, _("The risk limit"), field="risk_limit")
            reported = paper_audit.parse_percent(margin, _("The reported margin"), field="margin")
            size = paper_audit.sample_size("risk", len(population), risk_limit=limit,
                                           margin=reported)
        else:
            share = paper_audit.parse_percent(percentage, _("The percentage"), field="percentage")
            if (margin or "").strip():
                paper_audit.parse_percent(margin, _("The reported margin"), field="margin")
            size = paper_audit.sample_size(method, len(population), percentage=share)
    except paper_audit.AuditInputError as error:
        raise _bad_input(str(error), *([error.field] if error.field else [])) from error
    sample = paper_audit.sample_serials(seed, population, size)
    audit = PaperAudit(cycle_id=cycle.id, seed=seed, method=method,
                       risk_limit=risk_limit.strip() if method == "risk" else "",
                       margin=(margin or "").strip(),
                       percentage=percentage.strip() if method == "percentage" else "",
                       population=len(population), sample_json=json.dumps(sample),
                       account_id=actor.id, started_at=now)
    db.session.add(audit)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("The paper audit was started a moment ago by someone else.")) \
            from error
    log.record_action(cycle.chain_id, "paper_audit.started", _actor_label(actor), {
        "seed": seed, "method": method, "risk_limit": audit.risk_limit, "margin": audit.margin,
        "percentage": audit.percentage, "population": len(population), "sample": sample,
        "before": None, "after": {"sample_size": len(sample)}})
    return audit


def _recorded_reading(row: PaperSerial) -> dict:
    return {"outcome": row.outcome, "selections": json.loads(row.recorded_selections)
            if row.recorded_selections else None}


def record_finding(cycle: Cycle, serial_text: str, read: PaperReading, actor) -> bool:
    """What the auditor read on a sampled ballot; returns True when it differs from the record."""
    audit = get_audit(cycle)
    if audit is None:
        raise InPersonRefused(_("Start the paper audit first."))
    serial = normalise_serial(serial_text)
    if serial not in json.loads(audit.sample_json):
        raise InPersonRefused(_("Serial %(serial)s is not in the sample.", serial=serial))
    if any(f.serial == serial for f in audit.findings):
        raise InPersonRefused(_("A finding for serial %(serial)s is already recorded.",
                                serial=serial))
    row = find_serial(cycle, serial)
    recorded = _recorded_reading(row)
    found = {"outcome": read.outcome,
             "selections": json.loads(read.selections) if read.selections else None}
    discrepancy = recorded != found
    db.session.add(PaperAuditFinding(audit_id=audit.id, serial=serial,
                                     recorded=canonical_json(recorded),
                                     found=canonical_json(found), discrepancy=int(discrepancy),
                                     account_id=actor.id))
    try:
        db.session.flush()
    except IntegrityError as error:
        raise InPersonRefused(_("A finding for serial %(serial)s was recorded a moment ago.",
                                serial=serial)) \
            from error
    log.record_action(cycle.chain_id, "paper_audit.finding", _actor_label(actor), {
        "serial": serial, "recorded": recorded, "found": found, "discrepancy": discrepancy,
        "before": None, "after": {"discrepancy": discrepancy}})
    return discrepancy


def audit_summary(audit: PaperAudit) -> paper_audit.AuditSummary:
    margin = Fraction(audit.margin) if audit.margin else None
    return paper_audit.summarise(
        audit.method, audit.population, len(json.loads(audit.sample_json)),
        sum(f.discrepancy for f in audit.findings), len(audit.findings), margin=margin)


def audit_document(cycle: Cycle) -> dict | None:
    """The seed, sample and findings as published in the bundle."""
    audit = get_audit(cycle)
    if audit is None:
        return None
    summary = audit_summary(audit)
    return {
        "seed": audit.seed, "method": audit.method, "risk_limit_percent": audit.risk_limit,
        "reported_margin_percent": audit.margin, "percentage": audit.percentage,
        "population": audit.population,
        "sampling": "sorted by SHA-256(seed + ':' + serial) hex, first n "
                    "(pbvote.rules.paper_audit)",
        #: every entered serial the sample was drawn from, so anyone can draw it again
        "population_serials": sorted(audit_population(cycle)),
        "sample": json.loads(audit.sample_json),
        "findings": [{"serial": f.serial, "recorded": json.loads(f.recorded),
                      "found": json.loads(f.found), "discrepancy": bool(f.discrepancy)}
                     for f in audit.findings],
        "audited": summary.audited, "discrepancies": summary.discrepancies,
        "discrepancy_rate": (f"{summary.discrepancy_rate.numerator}/"
                             f"{summary.discrepancy_rate.denominator}"
                             if summary.discrepancy_rate is not None else None),
        "hand_count_advised": summary.hand_count_advised,
        "explanation": summary.explanation,
    }


def bundle_document(cycle: Cycle) -> dict | None:
    """paper_audit.json: the in-person figures per district and the audit; None when the
    cycle had no in-person voting at all."""
    figures = bundle_figures(cycle)
    audit = audit_document(cycle)
    if not figures and audit is None:
        return None
    return {"districts": figures, "audit": audit}
