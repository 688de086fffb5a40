"""Set-up pages for what is on the ballot: districts and their projects."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from wtforms.fields.choices import SelectChoice

from pbvote.infra.extensions import db
from pbvote.models import Cycle, District, Project
from pbvote.rules import counting_choices
from pbvote.rules import setup as setup_rules
from pbvote.services import images, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.setup import (
    DeleteDistrictForm,
    DeleteProjectForm,
    DistrictForm,
    ProjectForm,
)
from pbvote.web.setup import (
    _actor,
    _apply_reasons,
    _district_of,
    _project_of,
    _require_csrf,
    _Submission,
    _submit,
    bp,
    confirm_saved,
)

# ---------------------------------------------------------------------------
# Districts


def _district_form(district: District | None, stored: bool = False) -> DistrictForm:
    """`stored`: fill the form from the district even on a POST (the delete form's refusal
    shows the district as it is)."""
    if stored:
        form = DistrictForm(formdata=None, obj=district)
    else:
        form = DistrictForm(obj=district if request.method == "GET" and district else None)
    form.tally_rule.choices = [SelectChoice(rule.name, rule.title)
                               for rule in counting_choices.rule_choices()]
    # a new district preselects no rule: saved without a choice, it gets the rule
    # recommended for the ballot type it was given (the form cannot know that type yet)
    return form


def _district_input(form: DistrictForm) -> tuple[setup.DistrictInput | None, list]:
    rule = form.tally_rule.data or counting_choices.RECOMMENDED_RULE.get(
        form.ballot_kind.data, "greedy")
    params, reasons = counting_choices.params_from_form(rule, request.form)
    data = setup.DistrictInput(
        slug=(form.slug.data or "").strip() or setup_rules.slug_from_name(form.name.data or ""),
        name=form.name.data or "",
        description=form.description.data or "", budget=form.budget.data,
        ballot_kind=form.ballot_kind.data, max_choices=form.max_choices.data,
        min_choices=form.min_choices.data or 0,
        min_spend_percent=form.min_spend_percent.data or 0, points=form.points.data,
        max_points_per_project=form.max_points_per_project.data,
        tally_rule=rule, tally_params=params)
    return (None if reasons else data), reasons


def _district_page(cycle: Cycle, district: District | None,
                   refused_delete: tuple[DeleteDistrictForm, DomainError] | None = None):
    """The district form; `refused_delete`: the delete form sent without its tick, and the
    refusal, shown on the district as it is stored (422, nothing deleted)."""
    form = _district_form(district, stored=refused_delete is not None)
    delete_form = DeleteDistrictForm(formdata=None)

    def save():
        data, reasons = _district_input(form)
        if reasons:
            raise setup.SetupInvalid(reasons)
        setup.save_district(cycle, district, data, _actor())

    if refused_delete is None:
        submitted = _submit(form, save)
    else:
        delete_form, error = refused_delete
        submitted = _Submission(status=error.status, message=gettext("Nothing was deleted."),
                                problems=_apply_reasons(delete_form, error.reasons))
    if submitted.saved:
        return redirect(url_for("staff_setup.overview", slug=cycle.slug))
    if request.method == "POST" and refused_delete is None:
        values = {key: value for key, value in request.form.items() if key.startswith("param.")}
    elif district is not None:
        values = counting_choices.form_values(district.tally_rule, district.tally_parameters)
    else:
        values = {}
    rules = counting_choices.rule_choices()
    controls = {counting_choices.field_name(rule.name, setting.name):
                (f"param-{index}-{setting.name}", setting.label)
                for index, rule in enumerate(rules, start=1) for setting in rule.settings}
    linked = [(controls[p.field][0], p.message) for p in submitted.problems
              if p.field in controls]
    linked += [("confirm_delete", message) for message in delete_form.confirm_delete.errors]
    return render_template("staff/setup/district_form.html", form=form, cycle=cycle,
                           district=district, rules=rules, linked=linked,
                           loose=[p for p in submitted.problems if p.field not in controls],
                           recommended=counting_choices.RECOMMENDED_RULE,
                           field_name=counting_choices.field_name, values=values,
                           frozen=setup.voting_has_opened(cycle),
                           problems=submitted.problems, message=submitted.message,
                           delete_form=delete_form), submitted.status


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
    form = DeleteDistrictForm()
    cycle = get_cycle(slug)
    district = _district_of(cycle, district_slug)
    image_names = [p.image_name for p in district.projects]
    try:
        setup.delete_district(cycle, district, _actor(), confirmed=form.confirm_delete.data)
    except DomainError as error:
        if error.status != 422:
            raise  # a frozen cycle: the refusal page (409)
        db.session.rollback()
        cycle = get_cycle(slug)
        return _district_page(cycle, _district_of(cycle, district_slug), (form, error))
    db.session.commit()  # the files go only once the rows are gone for good
    for name in image_names:
        images.remove_image(name)
    confirm_saved(gettext("Deleted the district %(name)s.", name=district.name))
    return redirect(url_for("staff_setup.overview", slug=cycle.slug))




# ---------------------------------------------------------------------------
# Projects


@bp.get("/<slug>/projects")
def projects(slug: str):
    return render_template("staff/setup/projects.html", cycle=get_cycle(slug))


def _project_page(cycle: Cycle, district: District, project: Project | None,
                  refused_delete: tuple[DeleteProjectForm, DomainError] | None = None):
    """The project form; `refused_delete`: the delete form sent without its tick, and the
    refusal, shown on the project as it is stored (422, nothing deleted)."""
    form = ProjectForm(obj=project if request.method == "GET" and project else None)
    problems, status, message = [], 200, None
    delete_form = DeleteProjectForm(formdata=None)
    if refused_delete is not None:
        form = ProjectForm(formdata=None, obj=project)
        delete_form, error = refused_delete
        delete_form.confirm_delete.errors = [r.message for r in error.reasons
                                             if r.field == "confirm_delete"]
        status, message = error.status, gettext("Nothing was deleted.")
    elif request.method == "POST":
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
                confirm_saved()
                return redirect(url_for("staff_setup.projects", slug=cycle.slug))
        else:
            status = 422  # each field error is in the summary already
    return render_template("staff/setup/project_form.html", form=form, cycle=cycle,
                           district=district, project=project, problems=problems,
                           frozen=setup.voting_has_opened(cycle),
                           message=message, delete_form=delete_form,
                           linked=[("confirm_delete", m)
                                   for m in delete_form.confirm_delete.errors]), status


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
    form = DeleteProjectForm()
    cycle = get_cycle(slug)
    project = _project_of(cycle, code)
    title = project.title
    try:
        image_name = setup.delete_project(cycle, project, _actor(),
                                          confirmed=form.confirm_delete.data)
    except DomainError as error:
        if error.status != 422:
            raise  # a frozen cycle: the refusal page (409)
        db.session.rollback()
        cycle = get_cycle(slug)
        project = _project_of(cycle, code)
        return _project_page(cycle, project.district, project, (form, error))
    db.session.commit()
    images.remove_image(image_name)
    confirm_saved(gettext("Deleted the project %(title)s.", title=title))
    return redirect(url_for("staff_setup.projects", slug=cycle.slug))


