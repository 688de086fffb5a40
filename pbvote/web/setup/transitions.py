"""The cycle's checked steps on the set-up pages: the readiness of every transition (shown on
the overview at all times, each finding a link to the page that fixes it), scheduling
voting, extending it, and the notes that explain a reconciliation difference."""
from __future__ import annotations

import datetime as dt

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import transitions
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.setup import ConfirmForm, ExtendVotingForm, ImbalanceNoteForm
from pbvote.web.guards import require_fresh_login
from pbvote.web.setup import _actor, _apply_reasons, bp


def overview_context(cycle: Cycle, now: dt.datetime) -> dict:
    """What the overview shows about the cycle's steps."""
    return {
        "readiness": transitions.all_readiness(cycle, now),
        "verdict_run": transitions.latest_unpublished_run(cycle),
        "unscheduled_but_due": transitions.unscheduled_but_due(cycle, now),
        "extensions": transitions.extensions(cycle),
        "extend_form": ExtendVotingForm(formdata=None),
        "can_extend": current_user.has_role("admin") and cycle.voting_open(now),
    }


def _with_overview_refusal(slug: str, error: DomainError, form=None):
    from pbvote.web.setup.settings import _overview_with

    db.session.rollback()
    problems = _apply_reasons(form, error.reasons) if form is not None else error.reasons
    return _overview_with(get_cycle(slug), error.status, error.message, problems,
                          extend_form=form)


@bp.post("/<slug>/voting/schedule")
def schedule_voting(slug: str):
    from pbvote.web.setup.settings import _overview_with

    cycle = get_cycle(slug)
    form = ConfirmForm()
    require_fresh_login(return_to=url_for("staff_setup.overview", slug=slug))
    if not form.validate():
        return _overview_with(cycle, 422, _("Tick “Yes, I am sure” to go on."), [])
    try:
        transitions.schedule_voting(cycle, _actor())
    except DomainError as error:
        return _with_overview_refusal(slug, error)
    return redirect(url_for("staff_setup.overview", slug=slug))


@bp.post("/<slug>/voting/extend")
def extend_voting(slug: str):
    from pbvote.web.setup.settings import _overview_with

    cycle = get_cycle(slug)
    form = ExtendVotingForm()
    require_fresh_login(return_to=url_for("staff_setup.overview", slug=slug))
    if not form.validate():
        return _overview_with(cycle, 422, _("Please correct the fields marked below; nothing "
                                            "was changed."), [], extend_form=form)
    from zoneinfo import ZoneInfo

    new_end = form.ends_at.data.replace(tzinfo=ZoneInfo(cycle.timezone)).astimezone(dt.UTC)
    try:
        transitions.extend_voting(cycle, current_user, new_end, form.reason.data or "")
    except DomainError as error:
        return _with_overview_refusal(slug, error, form)
    return redirect(url_for("staff_setup.overview", slug=slug))


@bp.route("/<slug>/reconciliation", methods=["GET", "POST"])
def reconciliation_notes(slug: str):
    cycle = get_cycle(slug)
    form = ImbalanceNoteForm()
    status, message = 200, None
    if request.method == "POST":
        if not form.validate_on_submit():
            status, message = 422, _("Write what caused the difference; nothing was saved.")
        else:
            try:
                transitions.explain_imbalance(cycle, form.site.data or "",
                                              form.district.data or "", form.note.data or "",
                                              _actor())
            except DomainError as error:
                db.session.rollback()
                status, message = error.status, error.message
                _apply_reasons(form, error.reasons)
                cycle = get_cycle(slug)
            else:
                return redirect(url_for("staff_setup.reconciliation_notes", slug=slug))
    if cycle.manifest_hash is None:
        abort(404)
    return render_template("staff/setup/reconciliation_notes.html", cycle=cycle,
                           imbalances=transitions.imbalances(cycle),
                           notes=transitions.notes(cycle), form=form, message=message,
                           posted=(form.site.data, form.district.data)
                           if request.method == "POST" else None, now=utcnow()), status
