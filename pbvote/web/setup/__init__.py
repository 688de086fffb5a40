"""Staff pages to set up a cycle: settings, districts, phases, projects, the voter roll,
access codes, and opening/closing voting. Views are thin: forms check types, the
services check consistency and refuse frozen changes (409), and reasons land on fields.

This module holds the blueprint and what its pages share; settings.py (cycle settings, phases,
opening and closing), ballot.py (districts and projects) and roll.py (voter roll and
access codes) hold the pages."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, request
from flask_babel import gettext
from flask_login import current_user

from pbvote.models import Cycle, District, Project
from pbvote.services.errors import DomainError
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("staff_setup", __name__, url_prefix="/staff/cycles")
set_policy(bp.name, require_roles("staff", "admin"))

#: a voter roll of a million people is about 50 MB of CSV
ROLL_UPLOAD_MAX_BYTES = 256 * 1024 * 1024


@bp.url_value_preprocessor
def _roll_upload_limit(endpoint, values):
    # URL preprocessors run before any before_request hook, and CSRFProtect's hook reads
    # the body: the larger limit must be in place by then. Only signed-in staff get it.
    if endpoint == "staff_setup.roll_upload" and current_user.is_authenticated \
            and current_user.has_role("staff", "admin"):
        request.max_content_length = ROLL_UPLOAD_MAX_BYTES


def _actor() -> str:
    return current_user.label


def _apply_reasons(form, reasons) -> list:
    """Put each reason on its form field; return those that belong to no field."""
    loose = []
    for reason in reasons:
        form_field = getattr(form, reason.field, None) if reason.field else None
        if form_field is not None and hasattr(form_field, "errors"):
            form_field.errors = list(form_field.errors) + [reason.message]
        else:
            loose.append(reason)
    return loose


@dataclass
class _Submission:
    """What became of a set-up form: `saved` (then `result` is what the save returned), or
    the page is shown again with `status`, the refusal's `message` and the `problems` that
    fit no field (the others are on their fields)."""

    saved: bool = False
    result: object = None
    status: int = 200
    message: str | None = None
    problems: list = field(default_factory=list)


def _submit(form, save: Callable[[], object]) -> _Submission:
    """On a POST, validate `form`, then call `save`, which returns or raises DomainError."""
    if request.method != "POST":
        return _Submission()
    if not form.validate_on_submit():
        return _Submission(status=422)  # each field error is in the summary already
    try:
        result = save()
    except DomainError as error:
        return _Submission(status=error.status, message=error.message,
                           problems=_apply_reasons(form, error.reasons))
    confirm_saved()
    return _Submission(saved=True, result=result)


def confirm_saved(message: str | None = None) -> None:
    """Confirm on the next page that what the clerk sent was saved."""
    flash(message or gettext("Saved."), "success")


def _district_of(cycle: Cycle, district_slug: str) -> District:
    district = cycle.district_by_slug(district_slug)
    if district is None:
        abort(404)
    return district


def _project_of(cycle: Cycle, code: str) -> Project:
    project = next((p for d in cycle.districts for p in d.projects if p.code == code), None)
    if project is None:
        abort(404)
    return project


def _require_csrf() -> None:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)


# The pages, by part of the set-up; importing them adds their routes to bp.
from pbvote.web.setup import ballot as _ballot  # noqa: E402,F401
from pbvote.web.setup import map as _map  # noqa: E402,F401
from pbvote.web.setup import roll as _roll  # noqa: E402,F401
from pbvote.web.setup import settings as _settings  # noqa: E402,F401
from pbvote.web.setup import transitions as _transitions  # noqa: E402,F401
