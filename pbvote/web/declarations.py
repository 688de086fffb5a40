"""Staff review of online self-declarations, per cycle and district: counts by status, the
declarations themselves (never a name, an address or a ballot) and rejecting one before it
is used. Auditors read the page; the service refuses (403) their changes."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.i18n_hook import translate
from pbvote.infra.extensions import db
from pbvote.services import declaration_review as service
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("declarations", __name__, url_prefix="/staff/cycles/<slug>/declarations")
set_policy(bp.name, require_roles("staff", "admin", "auditor"))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _page(slug: str, status_code: int = 200, error: str | None = None,
          error_row: int | None = None, typed: str = ""):
    cycle = get_cycle(slug)
    district = cycle.district_by_slug(request.args.get("district", ""))
    status = request.args.get("status", "")
    status = status if status in service.STATUSES else None
    review = service.review(cycle, district.id if district else None, status,
                            _int_arg("page") or 1)
    return render_template(
        "declarations/overview.html", cycle=cycle, review=review, form=CsrfOnlyForm(),
        statuses=service.STATUSES,
        status_labels={key: translate(label) for key, label in service.STATUS_LABELS.items()},
        districts={d.id: d for d in cycle.districts}, chosen_district=district,
        chosen_status=status, filters=_filters(),
        can_review=current_user.has_role("staff", "admin"),
        error=error, error_row=error_row, typed=typed), status_code


@bp.get("")
def overview(slug: str):
    return _page(slug)


def _filters() -> dict[str, str]:
    """The page's own query arguments only, kept across a review action."""
    return {key: request.args[key] for key in ("district", "status", "page")
            if request.args.get(key)}


def _back(slug: str):
    return redirect(url_for("declarations.overview", slug=slug, **_filters()), 303)


@bp.post("/<int:declaration_id>/reject")
def reject(slug: str, declaration_id: int):
    reason = request.form.get("reason", "")
    try:
        refuse_control_characters_in(request.form, ("reason",))
        service.reject(get_cycle(slug), declaration_id, reason,
                       current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        return _page(slug, error.status, error.message, declaration_id, reason)
    flash(gettext("Declaration #%(number)s is rejected; the resident is shown your reason.",
                  number=declaration_id), "success")
    return _back(slug)


@bp.post("/<int:declaration_id>/reinstate")
def reinstate(slug: str, declaration_id: int):
    try:
        service.reinstate(get_cycle(slug), declaration_id, current_user._get_current_object())
    except DomainError as error:
        db.session.rollback()
        return _page(slug, error.status, error.message, declaration_id)
    flash(gettext("Declaration #%(number)s is no longer rejected.", number=declaration_id),
          "success")
    return _back(slug)
