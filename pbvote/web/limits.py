"""Limits on what a request body may cost, applied before anything parses it, and the
refusal of control characters in any submitted text.

Each POST gets a byte limit and a field limit for its endpoint (DEFAULT_FORM unless listed
in FORM_LIMITS). They are set in an app-wide URL value preprocessor, which Flask runs
before every before_request hook, so before CSRFProtect reads the form: an anonymous 8 MB
form is refused with 413 without being parsed, and a URL-encoded form with more fields
than its endpoint needs is refused after one count of its separators instead of after
building a dictionary of 200,000 fields. (Werkzeug bounds multipart parts itself through
request.max_form_parts, but applies no field limit to URL-encoded forms.)
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from pbvote.i18n_hook import _
from pbvote.rules.ballots import Reason
from pbvote.rules.text import forbidden_character, forbidden_character_message
from pbvote.services.errors import DomainError

MIN_FORM_MEMORY = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class FormLimit:
    bytes: int
    fields: int


#: every form but those below: sign-in, a ballot (a few fields per project), settings
DEFAULT_FORM = FormLimit(64 * 1024, 500)
#: forms with a JPEG/PNG of up to 5 MB, and the texts of a project in every language
FORM_LIMITS = {
    "staff_setup.new_project": FormLimit(6 * 1024 * 1024, 100),
    "staff_setup.edit_project": FormLimit(6 * 1024 * 1024, 100),
    "my_ideas.new": FormLimit(6 * 1024 * 1024, 100),
    "my_ideas.edit": FormLimit(6 * 1024 * 1024, 100),
    "content_translations.project": FormLimit(512 * 1024, 200),
    "content_translations.proposal": FormLimit(512 * 1024, 200),
    # the roll upload raises its byte limit for staff in its blueprint (web.setup)
    "staff_setup.roll_upload": FormLimit(64 * 1024, 50),
    # district outlines: a GeoJSON file, then the same text sent back from the preview
    "staff_setup.map_outlines": FormLimit(6 * 1024 * 1024, 10),
}


#: endpoints whose forms derive from pbvote.web.forms.base.BaseForm (or check their texts
#: with its control_character_reasons) and show a control character as an error beside its
#: field, with the form and 422: endpoint → the field names (a name ending in "-" is a
#: prefix) the form checks, or None for every field. refuse_control_characters leaves those
#: fields to the form and still refuses any other with the generic 422 page naming it.
FIELD_CHECKED_ENDPOINTS: dict[str, tuple[str, ...] | None] = {
    "vote.verify": ("roll-", "code-"),  # roll check and access code
    "resident_auth.sign_in": ("email",),  # rules.sign_in.email_problem
    "staff_setup.new_cycle": None,
    "staff_setup.edit_cycle": None,
    # the district's texts (its counting parameters are read outside the form)
    "staff_setup.new_district": ("slug", "name", "description"),
    "staff_setup.edit_district": ("slug", "name", "description"),
    # the idea form, read field by field (web.forms.base.control_character_reasons)
    "my_ideas.new": ("title", "description", "category", "district", "location",
                     "cost_estimate"),
    "my_ideas.edit": ("title", "description", "category", "district", "location",
                      "cost_estimate"),
    # staff sign-in and accounts (web.forms.auth)
    "auth.login": None,
    "auth.totp": None,
    "auth.enrol": None,
    "auth.reauth": None,
    "auth.accept_invitation": None,
    "admin.invite": None,
    # projects, phases, codes, the end of voting, reconciliation notes (web.forms.setup)
    "staff_setup.new_project": None,
    "staff_setup.edit_project": None,
    "staff_setup.phases": None,
    "staff_setup.codes": None,
    "staff_setup.void_code": None,
    "staff_setup.extend_voting": ("ends_at", "reason"),
    "staff_setup.reconciliation_notes": ("note",),
    # forms read by hand, checked with web.forms.base.refuse_control_characters_in
    "desk.lookup": ("name", "birth_date", "last_name", "postcode_or_roll"),
    "desk.self_declared": ("district", "last_name", "birth_date", "postcode", "display_name",
                           "proof_seen"),
    "paper.enter": ("reason",),
    "paper.adjudicate": ("reason",),
    "discussion.post": ("body",),
    "discussion.post_on_project": ("body",),
    # every field but the token is a translation, and the view checks them all
    "content_translations.project": None,
    "content_translations.proposal": None,
    "delivery_staff.grant_editor": ("email",),
    "delivery_staff.open_round": ("label", "question"),
    "delivery_staff.project_status": ("reason",),
    "delivery_staff.project_money": ("committed", "spent", "money_reason"),
    "delivery_staff.project_responsible": ("responsible",),
    "delivery_staff.project_milestone": ("title", "planned", "actual"),
    "delivery_staff.project_update": ("text",),
    "delivery_staff.project_indicator": ("name", "unit", "area", "source", "baseline_period",
                                         "baseline_value", "followup_periods"),
    "delivery_staff.project_value": ("period", "value", "source"),
    "delivery_survey.answer_post": ("comment",),
    "delivery.follow_project": ("email",),
    "results_notice.subscribe": ("email",),
    "declarations.reject": ("reason",),
    "kiosk.setup": ("site",),
    "desk.set_site": ("site",),
    "paper.print_batch": ("site",),
    "in_person_audit.paper_audit": ("seed",),
    "in_person_audit.finding": ("reason",),
    "moderation.decide": ("reason",),
    "my_ideas.answer": ("answer",),
    "review.change_status": ("question", "reason"),
    "review.merge": ("reason",),
    "review.hide": ("reason",),
    "review.unhide": ("reason",),
    "review.settings": ("categories",),
    "review.promote": ("code", "title", "summary", "description", "category", "location"),
    "staff_setup.map_points": ("point-",),
    "vote.declare": None,
    "vote.email_receipt": ("email",),
}


def checked_fields(endpoint: str | None) -> tuple[str, ...]:
    """The fields a hand-read form checks itself, as listed for its endpoint (none if it is
    not listed, or lists no names)."""
    return FIELD_CHECKED_ENDPOINTS.get(endpoint or "") or ()


def checked_by_form(endpoint: str | None, name: str) -> bool:
    """Does this endpoint's form show a control character in field `name` beside it?"""
    if endpoint not in FIELD_CHECKED_ENDPOINTS:
        return False
    names = FIELD_CHECKED_ENDPOINTS[endpoint]
    return names is None or any(name == n or (n.endswith("-") and name.startswith(n))
                                for n in names)


class FormTooLarge(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 413)


class ForbiddenCharacter(DomainError):
    def __init__(self, field: str, character: str):
        message = forbidden_character_message(character)
        super().__init__(message, 422, [Reason(field, "control_character",
                                               f"{_readable(field)}: {message}")])


def _readable(field: str) -> str:
    """A form field's name as a person reads it: "roll-last_name" → "last name"."""
    return field.rpartition("-")[2].replace("_", " ").strip() or field


def limit_for(endpoint: str | None) -> FormLimit:
    return FORM_LIMITS.get(endpoint or "", DEFAULT_FORM)


def limit_request_body(endpoint, values) -> None:
    """Set this request's limits, and count a URL-encoded form's fields before parsing."""
    if request.method not in BODY_METHODS:
        return
    limit = limit_for(endpoint)
    ceiling = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = limit.bytes if ceiling is None else min(limit.bytes, ceiling)
    # a text part's limit; Werkzeug also applies it to its parser's buffer, which holds up
    # to 64 KiB of a file part on the way, so it never goes below that
    request.max_form_memory_size = max(limit.bytes, MIN_FORM_MEMORY)
    request.max_form_parts = limit.fields
    if request.mimetype == "application/x-www-form-urlencoded":
        if (request.content_length or 0) > request.max_content_length:
            raise FormTooLarge(_("This form is too large for this page."))
        body = request.get_data(cache=True)  # bounded by max_content_length
        if body.count(b"&") + 1 > limit.fields:
            raise FormTooLarge(_("This form has too many fields for this page."))


def refuse_control_characters() -> None:
    """Any submitted text with a control character is refused, naming the field (422):
    nothing reaches a service, the database or a log with one."""
    if request.method not in BODY_METHODS:
        return
    endpoint = request.endpoint
    for name, value in request.form.items(multi=True):
        character = forbidden_character(name) or (
            None if checked_by_form(endpoint, name) else forbidden_character(value))
        if character is not None:
            raise ForbiddenCharacter(name, character)


def install(app) -> None:
    # first of the URL preprocessors: the image forms (web.uploads) and the roll upload
    # (web.setup) raise their own byte limit after this one has set the default
    app.url_value_preprocessors.setdefault(None, []).insert(0, limit_request_body)
    # first of the before_request hooks, before CSRFProtect's: a form refused for its
    # content needs no token check, and nothing later sees the character
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters)
