from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from pbvote.web.i18n import lazy_gettext as _l


class RollCheckForm(FlaskForm):
    method = HiddenField(default="roll")
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    # InputRequired, not DataRequired: a date typed but unreadable must say so, not that
    # nothing was typed (DataRequired replaces the parse error with "required")
    birth_date = DateField(_l("Date of birth"), validators=[InputRequired()],
                           description=_l("For example 1984-03-27."))
    postcode_or_roll = StringField(
        _l("Postcode or voter-roll number"), validators=[DataRequired(), Length(max=40)],
        description=_l("Your postcode as on the roll, or the roll number on your letter."))


class AccessCodeForm(FlaskForm):
    method = HiddenField(default="code")
    code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 12-character code in your letter from the city, "
                                      "for example 7K3M-Q9XD-2HPA."))


class CsrfOnlyForm(FlaskForm):
    """Ballot, review and cast forms: fields are read by pbvote.rules.ballots.parse_form."""
