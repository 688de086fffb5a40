"""Set-up pages for the cycle itself: settings, phases, and opening or closing voting by hand."""
from __future__ import annotations

import datetime as dt
import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.rules import setup as setup_rules
from pbvote.services import codes as code_service
from pbvote.services import cycle_drafts, images, roll_import, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.setup import (
    ConfirmForm,
    CycleForm,
    PhasesForm,
)
from pbvote.web.guards import require_fresh_login
from pbvote.web.setup import (
    _actor,
    _submit,
    bp,
    confirm_saved,
)

# ---------------------------------------------------------------------------
# Cycle


def _cycle_form(obj=None) -> CycleForm:
    form = CycleForm(obj=obj)
    form.timezone.choices = [(name, name.replace("_", " ")) for name in
                             setup_rules.timezone_names()]
    return form


def _cycle_input(form: CycleForm, slug: str | None = None) -> setup.CycleInput:
    typed = (form.slug.data or "").strip() if form.slug is not None else ""
    return setup.CycleInput(
        slug=slug or typed or setup_rules.slug_from_name(form.name.data or ""),
        name=form.name.data or "",
        currency=(form.currency.data or "").strip().upper(), total_budget=form.total_budget.data,
        timezone=(form.timezone.data or "").strip(), city_name=form.city_name.data or "",
        description=form.description.data or "", tie_break_seed=form.tie_break_seed.data or "",
        minimum_age=form.minimum_age.data, allowed_methods=list(form.allowed_methods.data or []),
        self_declared_allowed=bool(form.self_declared_allowed.data),
        online_self_declaration=bool(form.online_self_declaration.data))


@bp.route("/new", methods=["GET", "POST"])
def new_cycle():
    form = _cycle_form()
    submitted = _submit(form, lambda: setup.create_cycle(_cycle_input(form), _actor()))
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=submitted.result.slug))
    return render_template("staff/setup/cycle_form.html", form=form, cycle=None,
                           problems=submitted.problems, message=submitted.message), \
        submitted.status


@bp.get("/<slug>/")
def overview(slug: str):
    return _overview_with(get_cycle(slug), 200, None, [])


@bp.route("/<slug>/settings", methods=["GET", "POST"])
def edit_cycle(slug: str):
    cycle = get_cycle(slug)
    form = _cycle_form(obj=cycle if request.method == "GET" else None)
    if request.method == "GET":
        form.allowed_methods.data = cycle.method_list
    del form.slug  # fixed for the life of the cycle; not on the form
    submitted = _submit(form, lambda: setup.update_cycle(
        cycle, _cycle_input(form, cycle.slug), _actor()))
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=cycle.slug))
    return render_template("staff/setup/cycle_form.html", form=form, cycle=cycle,
                           frozen=setup.voting_has_opened(cycle),
                           problems=submitted.problems, message=submitted.message), \
        submitted.status


# ---------------------------------------------------------------------------
# Phases


def _local_naive(moment: dt.datetime, timezone: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


@bp.route("/<slug>/phases", methods=["GET", "POST"])
def phases(slug: str):
    cycle = get_cycle(slug)
    form = PhasesForm()
    if request.method == "GET":
        for phase in cycle.phases:
            getattr(form, f"{phase.kind}_starts_at").data = _local_naive(phase.starts_at,
                                                                       cycle.timezone)
            getattr(form, f"{phase.kind}_ends_at").data = _local_naive(phase.ends_at,
                                                                     cycle.timezone)

    def save():
        windows, reasons = _windows_from(form, cycle.timezone)
        if reasons:
            raise setup.SetupInvalid(reasons)
        setup.set_phases(cycle, windows, _actor())

    submitted = _submit(form, save)
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=cycle.slug))
    return render_template("staff/setup/phases.html", form=form, cycle=cycle,
                           frozen=setup.voting_has_opened(cycle), kinds=setup_rules.PHASE_ORDER,
                           problems=submitted.problems,
                           message=submitted.message), submitted.status


def _windows_from(form, timezone: str):
    from zoneinfo import ZoneInfo

    from pbvote.rules.ballots import Reason

    zone = ZoneInfo(timezone)
    windows, reasons = [], []
    for kind in setup_rules.PHASE_ORDER:
        start = getattr(form, f"{kind}_starts_at").data
        end = getattr(form, f"{kind}_ends_at").data
        if start is None and end is None:
            continue
        if start is None or end is None:
            missing = "starts_at" if start is None else "ends_at"
            reasons.append(Reason(f"{kind}_{missing}", "phase_half_given",
                                  _("Give both a start and an end for the %(kind)s phase, "
                                    "or neither.", kind=kind)))
            continue
        windows.append(setup_rules.PhaseWindow(
            kind, start.replace(tzinfo=zone).astimezone(dt.UTC),
            end.replace(tzinfo=zone).astimezone(dt.UTC)))
    return windows, reasons




# ---------------------------------------------------------------------------
# Opening and closing voting by hand (fresh login)


def _voting_action(slug: str, action):
    cycle = get_cycle(slug)
    form = ConfirmForm()  # CSRFProtect has already refused a request without a token
    require_fresh_login(return_to=url_for("staff_setup.overview", slug=slug))
    if not form.validate():
        return _overview_with(cycle, 422, _("Tick “Yes, I am sure” to go on."), [])
    try:
        action(cycle, _actor())
    except DomainError as error:
        db.session.rollback()
        return _overview_with(get_cycle(slug), error.status, error.message, error.reasons)
    return redirect(url_for("staff_setup.overview", slug=slug))


def _overview_with(cycle: Cycle, status: int, message: str | None, reasons, extend_form=None):
    from pbvote.web.setup.transitions import overview_context

    now = utcnow()
    frozen = setup.voting_has_opened(cycle, now)
    context = overview_context(cycle, now)
    if extend_form is not None:
        context["extend_form"] = extend_form
    return render_template(
        "staff/setup/overview.html", cycle=cycle, now=now, frozen=frozen, **context,
        voting_open=cycle.voting_open(now), problems=reasons,
        code_counts=code_service.counts_by_status(cycle), roll_size=roll_import.roll_size(cycle),
        confirm_form=ConfirmForm(), message=message,
        draft=cycle_drafts.is_draft(cycle, now),
        manifest=json.dumps(json.loads(cycle.manifest_json), indent=2, ensure_ascii=False)
        if cycle.manifest_json else None), status


# ---------------------------------------------------------------------------
# A draft that never opened: archive (and bring back) or delete


@bp.post("/<slug>/archive")
def archive_cycle(slug: str):
    return _draft_action(slug, cycle_drafts.archive_cycle, _("Archived: the cycle is no longer "
                                                               "on the public home page."))


@bp.post("/<slug>/restore")
def restore_cycle(slug: str):
    return _draft_action(slug, cycle_drafts.restore_cycle, _("Restored: the cycle is back on "
                                                               "the public home page."))


def _draft_action(slug: str, action, done: str):
    cycle = get_cycle(slug)
    form = ConfirmForm()
    if not form.validate():
        return _overview_with(cycle, 422, _("Tick “Yes, I am sure” to go on."), [])
    try:
        action(cycle, _actor())
    except DomainError as error:
        db.session.rollback()
        return _overview_with(get_cycle(slug), error.status, error.message, error.reasons)
    confirm_saved(done)
    return redirect(url_for("staff_setup.overview", slug=slug))


@bp.post("/<slug>/delete")
def delete_cycle(slug: str):
    cycle = get_cycle(slug)
    form = ConfirmForm()
    require_fresh_login(return_to=url_for("staff_setup.overview", slug=slug))
    if not form.validate():
        return _overview_with(cycle, 422, _("Tick “Yes, I am sure” to go on."), [])
    name = cycle.name
    try:
        image_names = cycle_drafts.delete_draft_cycle(cycle, _actor())
    except DomainError as error:
        db.session.rollback()
        return _overview_with(get_cycle(slug), error.status, error.message, error.reasons)
    db.session.commit()  # the image files go only once the rows are gone for good
    for image_name in image_names:
        images.remove_image(image_name)
    flash(_("Deleted the cycle %(name)s.", name=name), "success")
    return redirect(url_for("staff.dashboard"))


@bp.post("/<slug>/voting/open")
def open_voting(slug: str):
    return _voting_action(slug, setup.open_voting)


@bp.post("/<slug>/voting/close")
def close_voting(slug: str):
    return _voting_action(slug, setup.close_voting)

