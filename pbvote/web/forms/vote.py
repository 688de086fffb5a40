from __future__ import annotations

from flask_babel import get_locale
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from pbvote.rules.dates import parse_typed_date
from pbvote.web.forms.base import BaseForm
from pbvote.web.i18n import lazy_gettext as _l


class TypedDateField(StringField):
    """A date typed in a text box: the ISO form or the reader's own order, as the hint says.

    Not <input type=date>: its pattern follows the browser (mm/dd/yyyy in US English) and
    would contradict any hint; a text box reads the same with and without JavaScript."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update(autocomplete="bday", spellcheck="false")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.typed = valuelist[0].strip() if valuelist else ""
        self.data = None
        if self.typed:
            self.data = parse_typed_date(self.typed, str(get_locale()))
            if self.data is None:
                raise ValueError(_l("Not a valid date: write it like the example."))

    def _value(self):
        if getattr(self, "typed", None):
            return self.typed
        return self.data.isoformat() if self.data else ""


class RollCheckForm(BaseForm):
    method = HiddenField(default="roll")
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    # InputRequired, not DataRequired: a date typed but unreadable must say so, not that
    # nothing was typed (DataRequired replaces the parse error with "required")
    birth_date = TypedDateField(
        _l("Date of birth"), validators=[InputRequired()],
        description=_l("For example 1984-03-27 (year-month-day) or 03/27/1984 "
                       "(month/day/year)."),
        render_kw={"placeholder": _l("YYYY-MM-DD")})
    postcode_or_roll = StringField(
        _l("Postcode or voter-roll number"), validators=[DataRequired(), Length(max=40)],
        description=_l("Your postcode as on the roll, or the roll number on your letter."))


class AccessCodeForm(BaseForm):
    method = HiddenField(default="code")
    code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 12-character code in your letter from the city, "
                                      "for example 7K3M-Q9XD-2HPA."))


class CsrfOnlyForm(BaseForm):
    """Ballot, review and cast forms: fields are read by pbvote.rules.ballots.parse_form."""


class SelfDeclarationForm(BaseForm):
    """Online self-declaration (vote/declare): the rules in pbvote.rules.self_declaration
    check the values; the form reads them and keeps the CSRF token."""

    district = SelectField(_l("The district you live in"), validators=[InputRequired()])
    given_names = StringField(_l("Given names"), validators=[Length(max=100)],
                              render_kw={"autocomplete": "given-name"})
    last_name = StringField(_l("Last name"), validators=[Length(max=100)],
                            render_kw={"autocomplete": "family-name"})
    street = StringField(_l("Street address"), validators=[Length(max=200)],
                         description=_l("The number and street where you live."),
                         render_kw={"autocomplete": "street-address"})
    postcode = StringField(_l("Postcode"), validators=[Length(max=20)],
                           render_kw={"autocomplete": "postal-code"})
    birth_date = TypedDateField(
        _l("Date of birth"), validators=[InputRequired()],
        description=_l("For example 1984-03-27 (year-month-day) or 03/27/1984 "
                       "(month/day/year)."),
        render_kw={"placeholder": _l("YYYY-MM-DD")})
    contact = StringField(
        _l("Email address or phone number"), validators=[Length(max=254)],
        description=_l("We send a 6-digit code there to confirm the declaration. We keep only "
                       "a coded fingerprint of it."),
        render_kw={"autocomplete": "email", "spellcheck": "false"})


class DeclarationCodeForm(BaseForm):
    code = StringField(_l("Code"), validators=[Length(max=20)],
                       description=_l("The 6 digits we sent you."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
