from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from pbvote.rules.sign_in import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from pbvote.web.forms.base import BaseForm
from pbvote.web.i18n import lazy_gettext as _l

CODE_DESCRIPTION = _l("The 6-digit code your authenticator app shows now, "
                      "or one of your recovery codes.")
ROLE_CHOICES = [("staff", _l("Staff: cycles, projects, proposals and the desk")),
                ("auditor", _l("Auditor: read-only audit area")),
                ("admin", _l("Administrator: everything, including staff accounts"))]


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in ROLE_CHOICES]


class LoginForm(BaseForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])
    next = HiddenField()


class SecondFactorForm(BaseForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=CODE_DESCRIPTION)
    next = HiddenField()


class EnrolForm(BaseForm):
    code = StringField(_l("Code from your authenticator app"),
                       validators=[DataRequired(), Length(max=20)],
                       description=_l("Add the account to your app, then type the 6-digit "
                                      "code it shows."))
    next = HiddenField()


class ReauthForm(BaseForm):
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       description=CODE_DESCRIPTION)
    next = HiddenField()


class SetPasswordForm(BaseForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
        description=_l("At least %(n)s characters; a few unrelated words make a good password.",
                       n=PASSWORD_MIN_LENGTH))
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("The two passwords differ."))])


class InviteForm(BaseForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[Length(max=120)],
                               description=_l("How colleagues and the audit log see this person."))
    role = SelectField(_l("Role"), choices=_role_choices(), validators=[DataRequired()])


class RoleForm(BaseForm):
    role = SelectField(_l("New role"), choices=_role_choices(), validators=[DataRequired()])
