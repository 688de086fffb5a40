"""The base of pbvote's forms: a submitted text with a control character is an error of its
own field, shown beside it (422 with the form), not a page of its own.

Endpoints whose forms all derive from BaseForm are listed in
pbvote.web.limits.FIELD_CHECKED_ENDPOINTS; the app-wide refusal (a generic 422 page naming
the field) stays the backstop for every other endpoint.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField

from pbvote.rules.ballots import Reason
from pbvote.rules.text import forbidden_character, forbidden_character_message
from pbvote.services.errors import DomainError


def control_character_problem(field) -> str | None:
    """The message for the first control character in what was typed into `field`."""
    for value in field.raw_data or ():
        if isinstance(value, str):
            character = forbidden_character(value)
            if character is not None:
                return forbidden_character_message(character)
    return None


def control_character_reasons(values: Mapping[str, str]) -> list[Reason]:
    """The same check for a form read field by field (the idea form): one reason per field
    with a control character, for the page to show beside that field."""
    reasons = []
    for name, value in values.items():
        character = forbidden_character(value or "")
        if character is not None:
            reasons.append(Reason(name, "control_character",
                                  forbidden_character_message(character)))
    return reasons


class BaseForm(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            problem = control_character_problem(field)
            if problem is not None:
                field.errors = [problem, *(e for e in field.errors if e != problem)]
                valid = False
        return valid


class ControlCharacterRefused(DomainError):
    """Typed texts holding a control character: 422, one reason per field, for the page
    to show beside that field with the rest of the form as typed."""

    def __init__(self, reasons: list[Reason]):
        super().__init__(reasons[0].message, 422, reasons)


def refuse_control_characters_in(form: Mapping[str, str], names: Iterable[str]) -> None:
    """For a view that reads `names` from a submitted form by hand (with CsrfOnlyForm for
    its token): raise ControlCharacterRefused if any of them holds a control character.
    Every value of a repeated field is checked."""
    reasons = []
    for name in names:
        values = form.getlist(name) if hasattr(form, "getlist") else [form.get(name, "")]
        for value in values:
            character = forbidden_character(value or "")
            if character is not None:
                reasons.append(Reason(name, "control_character",
                                      forbidden_character_message(character)))
                break
    if reasons:
        raise ControlCharacterRefused(reasons)


class TickForm(BaseForm):
    """The tick box of a destructive action written inline in a list (macros.confirm_tick)."""

    confirm = BooleanField()


class NotConfirmed(DomainError):
    """A destructive action sent without its tick: 422, the message beside the tick box
    `control`, nothing changed."""

    def __init__(self, control: str, message: str):
        super().__init__(message, 422, [Reason(control, "not_confirmed", message)])


def require_tick(control: str, message: str) -> None:
    """Raise NotConfirmed unless the submitted form has its "Yes, I am sure" box ticked."""
    if not TickForm().confirm.data:
        raise NotConfirmed(control, message)
