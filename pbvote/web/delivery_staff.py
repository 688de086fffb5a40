"""Staff pages for delivery: open tracking, record changes (each appended to the delivery
chain), outcome indicators and CSV values, survey rounds and comment moderation, and (for
administrators) who may edit. Auditors read every page; the services refuse (403) a change
by anyone who is not a delivery editor of the cycle or an administrator."""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.infra.extensions import db
from pbvote.rules.delivery import STATUS_LABELS, TRANSITIONS
from pbvote.services.cycles import get_cycle
from pbvote.services.delivery import outcomes, records, survey
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.publication import published_results
from pbvote.web.delivery_view import project_view, reasons_list
from pbvote.web.forms.base import refuse_control_characters_in, require_tick
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, set_policy
from pbvote.web.limits import checked_fields

bp = Blueprint("delivery_staff", __name__, url_prefix="/staff/cycles/<slug>/delivery")
set_policy(bp.name, require_roles("staff", "admin", "auditor"))


def _me():
    return current_user._get_current_object()


def _overview(cycle, status=200, reasons=(), message=None, preview=None, upload=""):
    state = records.current_state(cycle)
    return render_template(
        "delivery_staff/overview.html", cycle=cycle, state=state, form=CsrfOnlyForm(),
        published=published_results(cycle) is not None,
        can_edit=records.is_editor(cycle, _me()), editors=records.list_editors(cycle),
        rounds=survey.list_rounds(cycle), comments=survey.pending_comments(cycle),
        reasons=reasons_list(reasons), message=message, preview=preview, upload=upload,
        projects=sorted(state["projects"].values(), key=lambda p: (p["district"], p["project"]))
        if state else []), status


@bp.get("")
def overview(slug: str):
    return _overview(get_cycle(slug))


def _overview_action(slug: str, action, done_message: str | None = None):
    cycle = get_cycle(slug)
    try:
        refuse_control_characters_in(request.form, checked_fields(request.endpoint))
        action(cycle)
    except DomainError as error:
        db.session.rollback()
        cycle = get_cycle(slug)
        return _overview(cycle, error.status, error.reasons, error.message)
    return redirect(url_for("delivery_staff.overview", slug=slug), 303)


@bp.post("/open")
def open_tracking(slug: str):
    return _overview_action(slug, lambda cycle: records.open_delivery(cycle, _me()))


@bp.post("/editors")
def grant_editor(slug: str):
    return _overview_action(slug, lambda cycle: records.grant_editor(
        cycle, _me(), request.form.get("email", "")))


@bp.post("/editors/<int:account_id>/revoke")
def revoke_editor(slug: str, account_id: int):
    def revoke(cycle):
        # the tick after the service's refusals (403, no such editor 404); the refusal's
        # rollback (_overview_action) undoes the change
        records.revoke_editor(cycle, _me(), account_id)
        require_tick(f"confirm-revoke-{account_id}",
                     gettext("Tick “Yes, I am sure” to remove this delivery editor; nothing "
                             "was changed."))
    return _overview_action(slug, revoke)


@bp.post("/surveys")
def open_round(slug: str):
    form = request.form
    return _overview_action(slug, lambda cycle: survey.open_round(
        cycle, _me(), form.get("district", ""), form.get("label", ""), form.get("question", "")))


@bp.post("/surveys/<int:round_id>/close")
def close_round(slug: str, round_id: int):
    def close(cycle):
        survey.close_round(cycle, _me(), round_id)  # its refusals first, as for revoke
        require_tick(f"confirm-close-{round_id}",
                     gettext("Tick “Yes, I am sure” to close this round and publish its counts; "
                             "nothing was changed."))
    return _overview_action(slug, close)


@bp.post("/comments/<response_id>")
def moderate(slug: str, response_id: str):
    publish = request.form.get("decision") == "publish"
    return _overview_action(slug, lambda cycle: survey.moderate(cycle, _me(), response_id,
                                                                publish))


@bp.post("/values")
def upload_values(slug: str):
    """Preview a CSV of indicator values: nothing is stored here."""
    cycle = get_cycle(slug)
    records.require_editor(cycle, _me())
    upload = request.files.get("file")
    data = upload.read(2 * 1024 * 1024) if upload else b""
    if not data:
        return _overview(cycle, 422, [("file", _no_file())])
    preview = outcomes.preview_values(cycle, data)
    return _overview(cycle, 422 if preview.errors else 200, preview=preview,
                     upload=base64.b64encode(data).decode("ascii"))


def _no_file() -> str:
    return gettext("Choose a CSV file to upload.")


@bp.post("/values/confirm")
def confirm_values(slug: str):
    records.require_editor(get_cycle(slug), _me())
    try:
        data = base64.b64decode(request.form.get("upload", ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        return _overview(get_cycle(slug), 422, [("file", _no_file())])
    return _overview_action(slug, lambda cycle: outcomes.import_values(cycle, _me(), data))


def _project_page(cycle, code, status=200, reasons=(), message=None, form_name=None):
    state = records.require_state(cycle)
    project = state["projects"].get(code)
    if project is None:
        raise NotFound()
    return render_template(
        "delivery_staff/project.html", cycle=cycle, project=project_view(project, state,
                                                                         cycle.currency),
        statuses=STATUS_LABELS, next_statuses=TRANSITIONS[project["status"]],
        can_edit=records.is_editor(cycle, _me()), form=CsrfOnlyForm(),
        reasons=reasons_list(reasons), message=message, form_name=form_name,
        values=request.form if request.method == "POST" else {}), status


@bp.get("/projects/<code>")
def project(slug: str, code: str):
    return _project_page(get_cycle(slug), code)


def _project_action(name: str, action):
    def view(slug: str, code: str):
        cycle = get_cycle(slug)
        try:
            refuse_control_characters_in(request.form, checked_fields(request.endpoint))
            action(cycle, code, request.form)
        except DomainError as error:
            db.session.rollback()
            if error.status in (403, 404):  # no page to show the refusal on
                raise
            return _project_page(get_cycle(slug), code, error.status, error.reasons,
                                 error.message, name)
        return redirect(url_for("delivery_staff.project", slug=slug, code=code), 303)
    bp.add_url_rule(f"/projects/<code>/{name}", f"project_{name}", view, methods=["POST"])


_project_action("status", lambda c, code, f: records.set_status(
    c, _me(), code, f.get("status", ""), f.get("reason", ""), f.get("corrects") or None))
_project_action("progress", lambda c, code, f: records.set_progress(
    c, _me(), code, f.get("percent", "")))
_project_action("money", lambda c, code, f: records.set_money(
    c, _me(), code, f.get("committed", ""), f.get("spent", ""), f.get("money_reason", "")))
_project_action("responsible", lambda c, code, f: records.set_responsible(
    c, _me(), code, f.get("responsible", "")))
_project_action("milestone", lambda c, code, f: records.set_milestone(
    c, _me(), code, f.get("milestone") or None, f.get("title", ""), f.get("planned", ""),
    f.get("actual", "")))
_project_action("update", lambda c, code, f: records.post_update(
    c, _me(), code, f.get("text", ""), _photo(), f.get("corrects") or None))
_project_action("indicator", lambda c, code, f: outcomes.define_indicator(
    c, _me(), code, f.to_dict()))
_project_action("value", lambda c, code, f: outcomes.add_value(
    c, _me(), f.get("indicator", ""), f.get("period", ""), f.get("value", ""),
    f.get("source", "")))


def _photo():
    upload = request.files.get("photo")
    return upload.stream if upload and upload.filename else None
