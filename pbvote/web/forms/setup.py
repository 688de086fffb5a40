"""Forms of the cycle set-up pages. They check types and presence only; whether the
settings make sense together is pbvote.rules.setup' job, whose reasons land on these
fields by name."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from pbvote.rules.ballots import BALLOT_KINDS
from pbvote.rules.eligibility import VERIFICATION_METHODS
from pbvote.rules.setup import PHASE_ORDER
from pbvote.web.forms.base import BaseForm
from pbvote.web.i18n import lazy_gettext as _l

METHOD_LABELS = {
    "roll": _l("Voter roll: last name, date of birth and postcode or roll number"),
    "code": _l("Access code from a letter"),
    "desk": _l("In person at a help desk"),
    "self_declared": _l("Self-declared residence"),
}
BALLOT_KIND_LABELS = {
    "approval": _l("Approval: choose up to k projects"),
    "knapsack": _l("Knapsack: choose projects that fit the budget"),
    "ranked": _l("Ranked: rank up to k projects"),
    "cumulative": _l("Cumulative: spread points"),
}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CycleForm(BaseForm):
    slug = StringField(_l("Web address name"), validators=[Optional(), Length(max=80)],
                       description=_l("Leave it empty to make it from the name (Safer Streets "
                                      "2027 gives safer-streets-2027). Lower-case letters, "
                                      "digits and hyphens; it cannot change later."))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    city_name = StringField(_l("City or body running the cycle"),
                            validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    currency = StringField(_l("Currency"), validators=[InputRequired(), Length(max=20)],
                           default="USD", description=_l("ISO 4217 code, such as USD or EUR."))
    total_budget = IntegerField(_l("Total budget"), validators=[InputRequired()],
                                description=_l("Whole currency units. The district budgets "
                                               "may add up to at most this."))
    timezone = SelectField(_l("Time zone"), validators=[InputRequired()], default="UTC",
                           choices=[], validate_choice=False,
                           description=_l("The city's time zone, by region and city (for "
                                          "example America/Chicago). Phase dates are entered "
                                          "and shown in it."))
    tie_break_seed = StringField(_l("Tie-break seed"), validators=[Optional(), Length(max=128)],
                                 description=_l("Published before the count; it seeds the "
                                                "lot that breaks a last tie."))
    minimum_age = IntegerField(_l("Minimum age on the day of voting"), default=16,
                               validators=[InputRequired()])
    allowed_methods = MultiCheckboxField(
        _l("Allowed ways to prove eligibility"),
        choices=[SelectChoice(m, METHOD_LABELS[m]) for m in VERIFICATION_METHODS],
        default=["roll", "code"])
    self_declared_allowed = BooleanField(_l("Allow self-declared residence"))
    online_self_declaration = BooleanField(
        _l("Residents on no roll may declare online"),
        description=_l("They declare an address in a district and their date of birth, and "
                       "confirm a code sent to their email or phone; then they vote once."))


class DistrictForm(BaseForm):
    slug = StringField(_l("Web address name"), validators=[Optional(), Length(max=80)],
                       description=_l("Leave it empty to make it from the name."))
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    budget = IntegerField(_l("Budget"), validators=[InputRequired()],
                          description=_l("Whole currency units; more than zero."))
    ballot_kind = SelectField(_l("Ballot type"), validators=[InputRequired()],
                              choices=[SelectChoice(k, BALLOT_KIND_LABELS[k])
                                       for k in BALLOT_KINDS])
    max_choices = IntegerField(_l("k: most projects a resident may choose or rank"),
                               validators=[Optional()],
                               description=_l("Approval (optional) and ranked (required)."))
    min_choices = IntegerField(_l("Fewest projects a resident must choose"), default=0,
                               validators=[Optional()])
    min_spend_percent = IntegerField(_l("Minimum share of the budget a ballot must spend (%)"),
                                     default=0, validators=[Optional()],
                                     description=_l("Knapsack only; 0 to 100."))
    points = IntegerField(_l("Points each resident spreads"), validators=[Optional()],
                          description=_l("Cumulative only."))
    max_points_per_project = IntegerField(_l("Most points on one project"),
                                          validators=[Optional()],
                                          description=_l("Cumulative only; optional."))
    tally_rule = SelectField(_l("Counting rule"), validators=[Optional()], choices=[],
                             validate_choice=False)


def _phase_fields() -> dict:
    fields = {}
    for kind in PHASE_ORDER:
        fields[f"{kind}_starts_at"] = DateTimeLocalField(
            _l("Starts"), format=DATETIME_FORMATS, validators=[Optional()])
        fields[f"{kind}_ends_at"] = DateTimeLocalField(
            _l("Ends"), format=DATETIME_FORMATS, validators=[Optional()])
    return fields


PhasesForm = type("PhasesForm", (BaseForm,), _phase_fields())


class ProjectForm(BaseForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)],
                       description=_l("Short id on ballots and in the log, such as NB-1."))
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    cost = IntegerField(_l("Cost"), validators=[InputRequired()],
                        description=_l("Whole currency units."))
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=80)])
    location = StringField(_l("Where"), validators=[Optional(), Length(max=300)])
    image = FileField(_l("Image"), description=_l("JPEG or PNG, at most 5 MB. Camera and "
                                                  "location data are removed."))
    remove_image = BooleanField(_l("Remove the current image"))


class RollUploadForm(BaseForm):
    file = FileField(_l("Voter-roll CSV file"),
                     description=_l("UTF-8 CSV with a header row. Dates as YYYY-MM-DD."))


class RollConfirmForm(BaseForm):
    fingerprint = HiddenField()
    #: the number of entries the import removes, typed again when it is more than a tenth
    confirm_removed = StringField(_l("Type the number of entries to remove"),
                                  validators=[Optional(), Length(max=20)])
    #: the number the preview said would be removed, when that needs confirming
    expected_removed = HiddenField()


class CodesForm(BaseForm):
    district = SelectField(_l("District"), validators=[InputRequired()], choices=[])
    count = IntegerField(_l("Number of codes"), validators=[InputRequired()], default=100)


ALL_DISTRICTS = "*"


class RollCodesForm(BaseForm):
    #: ALL_DISTRICTS (never a slug) or a district's slug
    district = SelectField(_l("For the roll of"), validators=[InputRequired()], choices=[])


class VoidCodeForm(BaseForm):
    code = StringField(_l("Access code to void"), validators=[InputRequired(), Length(max=40)],
                       description=_l("As printed on the letter, for example 7K3M-Q9XD-2HPA."))


class ConfirmForm(BaseForm):
    confirm = BooleanField(_l("Yes, I am sure"), validators=[InputRequired()])


class DeleteDistrictForm(BaseForm):
    """The district page's "Delete" form: nothing goes without the tick (the service checks
    it too and says how many projects go with the district)."""

    confirm_delete = BooleanField(_l("Yes, delete this district and all its projects"))


class DeleteProjectForm(BaseForm):
    """The project page's "Delete" form: nothing goes without the tick (the service checks
    it too)."""

    confirm_delete = BooleanField(_l("Yes, delete this project"))


class ExtendVotingForm(BaseForm):
    ends_at = DateTimeLocalField(_l("New end of voting"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired()])
    reason = TextAreaField(_l("Reason (published on the cycle page)"),
                           validators=[InputRequired(), Length(max=2000)])
    confirm = BooleanField(_l("Yes, I am sure"), validators=[InputRequired()])


class ImbalanceNoteForm(BaseForm):
    site = HiddenField()
    district = HiddenField()
    note = TextAreaField(_l("What caused the difference"),
                         validators=[InputRequired(), Length(max=2000)])
