"""Staff pages to set up a cycle: settings, districts, phases, projects, the voter roll,
access codes, and opening/closing voting. Views are thin: forms check types, the
services check consistency and refuse frozen changes (409), and reasons land on fields."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Project
from pbvote.rules import setup as setup_rules
from pbvote.rules.roll_csv import FIELDS, normalise_header
from pbvote.services import codes as code_service
from pbvote.services import images, roll_import, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.tally import describe_rules
from pbvote.web.forms.setup import (
    ALL_DISTRICTS,
    CodesForm,
    ConfirmForm,
    CycleForm,
    DistrictForm,
    PhasesForm,
    ProjectForm,
    RollCodesForm,
    RollConfirmForm,
    RollUploadForm,
    VoidCodeForm,
)
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_fresh_login, require_roles, set_policy

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
    return _Submission(saved=True, result=result)


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


# ---------------------------------------------------------------------------
# Cycle


def _cycle_input(form: CycleForm, slug: str | None = None) -> setup.CycleInput:
    return setup.CycleInput(
        slug=slug or (form.slug.data or "").strip(), name=form.name.data or "",
        currency=(form.currency.data or "").strip().upper(), total_budget=form.total_budget.data,
        timezone=(form.timezone.data or "").strip(), city_name=form.city_name.data or "",
        description=form.description.data or "", tie_break_seed=form.tie_break_seed.data or "",
        minimum_age=form.minimum_age.data, allowed_methods=list(form.allowed_methods.data or []),
        self_declared_allowed=bool(form.self_declared_allowed.data))


@bp.route("/new", methods=["GET", "POST"])
def new_cycle():
    form = CycleForm()
    submitted = _submit(form, lambda: setup.create_cycle(_cycle_input(form), _actor()))
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=submitted.result.slug))
    return render_template("staff/setup/cycle_form.html", form=form, cycle=None,
                           problems=submitted.problems, message=submitted.message), \
        submitted.status


@bp.get("/<slug>/")
def overview(slug: str):
    cycle = get_cycle(slug)
    if cycle.manifest_hash is None and setup.voting_has_opened(cycle):
        # Voting opened by its date since the last visit: store the manifest now, in a
        # writing transaction of its own (on SQLite a GET only reads).
        db.session.rollback()
        with write_intent():
            setup.freeze_if_due(get_cycle(slug))
            db.session.commit()
        cycle = get_cycle(slug)
    return _overview_with(cycle, 200, None, [])


@bp.route("/<slug>/settings", methods=["GET", "POST"])
def edit_cycle(slug: str):
    cycle = get_cycle(slug)
    form = CycleForm(obj=cycle if request.method == "GET" else None)
    if request.method == "GET":
        form.allowed_methods.data = cycle.method_list
    del form.slug  # fixed for the life of the cycle; not on the form
    submitted = _submit(form, lambda: setup.update_cycle(
        cycle, _cycle_input(form, cycle.slug), _actor()))
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=cycle.slug))
    return render_template("staff/setup/cycle_form.html", form=form, cycle=cycle,
                           problems=submitted.problems, message=submitted.message), \
        submitted.status


# ---------------------------------------------------------------------------
# Districts


def _district_form(district: District | None) -> DistrictForm:
    form = DistrictForm(obj=district if request.method == "GET" and district else None)
    form.tally_rule.choices = [SelectChoice(rule["name"], rule["name"])
                               for rule in describe_rules()]
    if request.method == "GET" and district is not None:
        form.tally_params.data = json.dumps(district.tally_parameters) \
            if district.tally_parameters else ""
    return form


def _district_input(form: DistrictForm) -> tuple[setup.DistrictInput | None, list]:
    params, reasons = setup_rules.parse_tally_params(form.tally_params.data or "")
    data = setup.DistrictInput(
        slug=(form.slug.data or "").strip(), name=form.name.data or "",
        description=form.description.data or "", budget=form.budget.data,
        ballot_kind=form.ballot_kind.data, max_choices=form.max_choices.data,
        min_choices=form.min_choices.data or 0,
        min_spend_percent=form.min_spend_percent.data or 0, points=form.points.data,
        max_points_per_project=form.max_points_per_project.data,
        tally_rule=form.tally_rule.data, tally_params=params or {})
    return (None if reasons else data), reasons


def _district_page(cycle: Cycle, district: District | None):
    form = _district_form(district)

    def save():
        data, reasons = _district_input(form)
        if reasons:
            raise setup.SetupInvalid(reasons)
        setup.save_district(cycle, district, data, _actor())

    submitted = _submit(form, save)
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=cycle.slug))
    return render_template("staff/setup/district_form.html", form=form, cycle=cycle,
                           district=district, rules=describe_rules(),
                           problems=submitted.problems, message=submitted.message,
                           delete_form=CsrfOnlyForm()), submitted.status


@bp.route("/<slug>/districts/new", methods=["GET", "POST"])
def new_district(slug: str):
    return _district_page(get_cycle(slug), None)


@bp.route("/<slug>/districts/<district_slug>", methods=["GET", "POST"])
def edit_district(slug: str, district_slug: str):
    cycle = get_cycle(slug)
    return _district_page(cycle, _district_of(cycle, district_slug))


@bp.post("/<slug>/districts/<district_slug>/delete")
def delete_district(slug: str, district_slug: str):
    _require_csrf()
    cycle = get_cycle(slug)
    district = _district_of(cycle, district_slug)
    image_names = [p.image_name for p in district.projects]
    setup.delete_district(cycle, district, _actor())
    db.session.commit()  # the files go only once the rows are gone for good
    for name in image_names:
        images.remove_image(name)
    return redirect(url_for("staff_setup.overview", slug=cycle.slug))


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
                           kinds=setup_rules.PHASE_ORDER, problems=submitted.problems,
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
# Projects


@bp.get("/<slug>/projects")
def projects(slug: str):
    return render_template("staff/setup/projects.html", cycle=get_cycle(slug))


def _project_page(cycle: Cycle, district: District, project: Project | None):
    form = ProjectForm(obj=project if request.method == "GET" and project else None)
    problems, status, message = [], 200, None
    if request.method == "POST":
        if form.validate_on_submit():
            data = setup.ProjectInput(
                code=(form.code.data or "").strip(), title=form.title.data or "",
                cost=form.cost.data, summary=form.summary.data or "",
                description=form.description.data or "", category=form.category.data or "",
                location=form.location.data or "")
            stored_name = None
            try:
                upload = form.image.data
                if upload is not None and getattr(upload, "filename", ""):
                    stored_name = images.store_image(upload.stream)
                saved = setup.save_project(cycle, district, project, data, _actor())
                replaced = None
                if stored_name:
                    replaced = setup.set_project_image(cycle, saved, stored_name, _actor())
                elif form.remove_image.data and saved.image_name:
                    replaced = setup.set_project_image(cycle, saved, None, _actor())
            except DomainError as error:
                images.remove_image(stored_name)
                if isinstance(error, images.ImageRefused):
                    form.image.errors = [error.message]
                    problems = []
                else:
                    problems = _apply_reasons(form, error.reasons)
                status, message = error.status, error.message
            else:
                db.session.commit()
                images.remove_image(replaced)
                return redirect(url_for("staff_setup.projects", slug=cycle.slug))
        else:
            status = 422  # each field error is in the summary already
    return render_template("staff/setup/project_form.html", form=form, cycle=cycle,
                           district=district, project=project, problems=problems,
                           message=message, delete_form=CsrfOnlyForm()), status


@bp.route("/<slug>/districts/<district_slug>/projects/new", methods=["GET", "POST"])
def new_project(slug: str, district_slug: str):
    cycle = get_cycle(slug)
    return _project_page(cycle, _district_of(cycle, district_slug), None)


@bp.route("/<slug>/projects/<code>", methods=["GET", "POST"])
def edit_project(slug: str, code: str):
    cycle = get_cycle(slug)
    project = _project_of(cycle, code)
    return _project_page(cycle, project.district, project)


@bp.post("/<slug>/projects/<code>/delete")
def delete_project(slug: str, code: str):
    _require_csrf()
    cycle = get_cycle(slug)
    image_name = setup.delete_project(cycle, _project_of(cycle, code), _actor())
    db.session.commit()
    images.remove_image(image_name)
    return redirect(url_for("staff_setup.projects", slug=cycle.slug))


# ---------------------------------------------------------------------------
# Voter roll: upload → mapping and preview → confirm (fresh login) → applied


@bp.route("/<slug>/roll", methods=["GET", "POST"])
def roll_upload(slug: str):
    cycle = get_cycle(slug)
    form = RollUploadForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            if upload is None or not getattr(upload, "filename", ""):
                form.file.errors = [_("Choose a CSV file to upload.")]
                status = 422
            else:
                token = roll_import.stash_upload(upload.stream, str(cycle.id))
                return redirect(url_for("staff_setup.roll_preview", slug=cycle.slug,
                                        token=token))
        else:
            status = 422
    return render_template("staff/setup/roll_upload.html", form=form, cycle=cycle,
                           roll_size=roll_import.roll_size(cycle), fields=FIELDS), status


def _mapping_from(values, header: list[str]) -> dict[str, str]:
    """{column header: field or ""} from map-<index> values; unmapped columns keep the
    automatic choice (a header named like a field)."""
    mapping = {}
    for index, column in enumerate(header):
        chosen = values.get(f"map-{index}")
        if chosen is None:
            automatic = normalise_header(column)
            chosen = automatic if automatic in FIELDS else ""
        mapping[column] = chosen if chosen in FIELDS else ""
    return mapping


@bp.route("/<slug>/roll/<token>", methods=["GET", "POST"])
def roll_preview(slug: str, token: str):
    cycle = get_cycle(slug)
    path = roll_import.stash_path(token, str(cycle.id))
    if path is None:
        abort(404)
    header = roll_import.read_header(path)
    source = request.form if request.method == "POST" else request.args
    mapping = _mapping_from(source, header)
    form = RollConfirmForm()
    status, message, applied = 200, None, None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        require_fresh_login(return_to=url_for("staff_setup.roll_preview", slug=slug,
                                              token=token, **_map_args(mapping, header)))
        try:
            applied = roll_import.apply_import(cycle, path, _actor(), mapping,
                                               expected_fingerprint=form.fingerprint.data)
        except roll_import.RollFileInvalid as invalid:
            status, message = invalid.status, invalid.message
        except DomainError as error:
            db.session.rollback()
            status, message = error.status, error.message
        else:
            db.session.commit()
            roll_import.discard_stash(token, str(cycle.id))
            return render_template("staff/setup/roll_done.html", cycle=cycle, plan=applied)
        db.session.rollback()
    plan = roll_import.plan_import(cycle, path, mapping)
    form.fingerprint.data = plan.fingerprint()
    return render_template("staff/setup/roll_preview.html", cycle=cycle, token=token,
                           header=header, mapping=mapping, fields=FIELDS, plan=plan, form=form,
                           message=message), (status if status != 200 else
                                              (200 if plan.ok else 422))


def _map_args(mapping: dict[str, str], header: list[str]) -> dict[str, str]:
    return {f"map-{i}": mapping.get(column, "") for i, column in enumerate(header)}


# ---------------------------------------------------------------------------
# Access codes


def _codes_form(cycle: Cycle) -> CodesForm:
    form = CodesForm()
    form.district.choices = [SelectChoice(d.slug, d.name) for d in cycle.districts]
    return form


def _roll_codes_form(cycle: Cycle) -> RollCodesForm:
    # prefixed: the generation form on the same page has a "district" field too
    form = RollCodesForm(prefix="roll")
    form.district.choices = [SelectChoice(ALL_DISTRICTS, _("All districts"))] + [
        SelectChoice(d.slug, d.name) for d in cycle.districts]
    return form


def _codes_page(cycle: Cycle, status: int = 200, message: str | None = None, *, form=None,
                roll_form=None, void_form=None, voided=None):
    return render_template(
        "staff/setup/codes.html", cycle=cycle, form=form or _codes_form(cycle),
        roll_form=roll_form or _roll_codes_form(cycle), void_form=void_form or VoidCodeForm(),
        counts=code_service.counts_by_status(cycle), message=message, voided=voided,
        max_codes=code_service.MAX_CODES_PER_REQUEST), status


def _letters(cycle: Cycle, issued, csv_text: str, remaining: int = 0):
    token = code_service.save_export(csv_text, str(cycle.id))
    return render_template("staff/setup/letters.html", cycle=cycle, codes=issued,
                           voting=cycle.phase_window("voting"), export_token=token,
                           remaining=remaining,
                           vote_url=url_for("public.cycle", slug=cycle.slug, _external=True))


@bp.route("/<slug>/codes", methods=["GET", "POST"])
def codes(slug: str):
    cycle = get_cycle(slug)
    form = _codes_form(cycle)
    status, message = 200, None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                issued = code_service.generate_codes(
                    cycle, _district_of(cycle, form.district.data), form.count.data, _actor())
            except DomainError as error:
                status, message = error.status, error.message
                if getattr(error, "about", None) == code_service.COUNT_FIELD:
                    form.count.errors = [error.message]  # so the summary links to it
            else:
                db.session.commit()
                return _letters(cycle, issued, code_service.codes_csv(cycle, issued))
        else:
            status = 422
    return _codes_page(cycle, status, message, form=form)


@bp.post("/<slug>/codes/roll")
def roll_codes(slug: str):
    """A code for every roll entry of a district (or the cycle) that has none yet."""
    cycle = get_cycle(slug)
    roll_form = _roll_codes_form(cycle)
    if not roll_form.validate_on_submit():
        return _codes_page(cycle, 422, roll_form=roll_form)
    chosen = roll_form.district.data
    district = None if chosen == ALL_DISTRICTS else _district_of(cycle, chosen)
    try:
        issued = code_service.issue_codes_for_roll(cycle, district, _actor())
    except DomainError as error:
        db.session.rollback()
        roll_form.district.errors = [error.message]
        return _codes_page(get_cycle(slug), error.status, error.message, roll_form=roll_form)
    db.session.commit()
    return _letters(cycle, issued.codes, code_service.roll_codes_csv(cycle, issued.codes),
                    issued.remaining)


@bp.post("/<slug>/codes/void")
def void_code(slug: str):
    cycle = get_cycle(slug)
    void_form = VoidCodeForm()
    status, message, voided = 200, None, None
    if void_form.validate_on_submit():
        try:
            voided = code_service.void_code(cycle, void_form.code.data, _actor())
        except DomainError as error:
            status, message = error.status, error.message
            void_form.code.errors = [error.message]
    else:
        status = 422
    return _codes_page(cycle, status, message, void_form=void_form, voided=voided)


@bp.get("/<slug>/codes/export/<token>")
def codes_export(slug: str, token: str):
    cycle = get_cycle(slug)
    text = code_service.take_export(token, str(cycle.id))
    if text is None:
        abort(404)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{cycle.slug}-access-codes.csv"'})


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


def _overview_with(cycle: Cycle, status: int, message: str | None, reasons):
    now = utcnow()
    frozen = setup.voting_has_opened(cycle, now)
    return render_template(
        "staff/setup/overview.html", cycle=cycle, now=now, frozen=frozen,
        voting_open=cycle.voting_open(now), problems=reasons or ([] if frozen else
                                                                 setup.configuration_problems(cycle)),
        code_counts=code_service.counts_by_status(cycle), roll_size=roll_import.roll_size(cycle),
        confirm_form=ConfirmForm(), message=message,
        manifest=json.dumps(json.loads(cycle.manifest_json), indent=2, ensure_ascii=False)
        if cycle.manifest_json else None), status


@bp.post("/<slug>/voting/open")
def open_voting(slug: str):
    return _voting_action(slug, setup.open_voting)


@bp.post("/<slug>/voting/close")
def close_voting(slug: str):
    return _voting_action(slug, setup.close_voting)

