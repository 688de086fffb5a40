"""Auditors' in-person pages: the reconciliation per site and district, and the sampled
paper audit (public seed → reproducible sample → findings → discrepancy rate)."""
from __future__ import annotations

import json

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.infra.db import utcnow
from pbvote.services import in_person
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web import paper
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, scope_to_cycle, set_policy

bp = Blueprint("in_person_audit", __name__, url_prefix="/audit/cycles/<slug>/in-person")
set_policy(bp.name, require_roles("auditor", "admin"))

scope_to_cycle(bp, get_cycle)



@bp.get("/")
def reconciliation():
    return render_template("in_person/reconciliation.html", cycle=g.cycle,
                           report=in_person.reconciliation(g.cycle), back="audit")


def _page(error=None, reasons=(), status=200, retry_serial=None, retry_chosen=None):
    audit = in_person.get_audit(g.cycle)
    sample, findings, summary, rows = [], {}, None, {}
    if audit is not None:
        sample = json.loads(audit.sample_json)
        findings = {f.serial: f for f in audit.findings}
        summary = in_person.audit_summary(audit)
        rows = in_person.serial_rows(g.cycle, sample)
    phase = g.cycle.phase_window("voting")
    closed = phase is not None and utcnow() >= phase.ends_at
    return render_template(
        "in_person/paper_audit.html", cycle=g.cycle, audit=audit, sample=sample,
        findings=findings, summary=summary, rows=rows, form=CsrfOnlyForm(), error=error,
        reasons=list(reasons), voting_closed=closed, data=request.form,
        population=len(in_person.audit_population(g.cycle)), retry_serial=retry_serial,
        retry_chosen=retry_chosen or {}), status


@bp.route("/paper-audit", methods=["GET", "POST"])
def paper_audit():
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        data = request.form
        try:
            refuse_control_characters_in(data, ("seed",))
            in_person.start_audit(
                g.cycle, seed=data.get("seed", ""), method=data.get("method", ""),
                risk_limit=data.get("risk_limit", ""), margin=data.get("margin", ""),
                percentage=data.get("percentage", ""), actor=current_user)
        except DomainError as refusal:
            return _page(refusal.message, refusal.reasons, refusal.status)
        return redirect(url_for("in_person_audit.paper_audit"))
    return _page()


@bp.post("/paper-audit/finding")
def finding():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    serial = request.form.get("serial", "")
    audit = in_person.get_audit(g.cycle)
    if audit is None:
        raise in_person.InPersonRefused(gettext("Start the paper audit first."))
    row = in_person.find_serial(g.cycle, serial)
    district = row.district
    try:
        refuse_control_characters_in(request.form, ("reason",))
        # as on the paper entry page: a refused outcome or reason is a reason on its field
        read, reasons = paper.read_paper_form(district)
        if read is None:
            return _page(None, reasons, 422, row.serial, paper.choices_as_typed(district))
        in_person.record_finding(g.cycle, row.serial, read, current_user)
    except DomainError as refusal:
        return _page(refusal.message, refusal.reasons, refusal.status, row.serial,
                     paper.choices_as_typed(district))
    return redirect(url_for("in_person_audit.paper_audit"))
