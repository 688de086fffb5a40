"""Public pages after the vote: "What we funded" per cycle, district and project, following a
project by email, the open data (delivery.json, CSV, the bundle) and update photos."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, send_from_directory
from flask_babel import get_locale

from pbvote.services import images
from pbvote.services.cycles import get_cycle
from pbvote.services.delivery import export, follow, records
from pbvote.services.delivery.survey import list_rounds
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.translations import project_titles
from pbvote.web.delivery_view import (
    project_view,
    reasons_list,
    status_counts,
    status_text,
    surveys_view,
)
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("delivery", __name__, url_prefix="/cycles/<slug>/delivery")
set_policy(bp.name, allow_anyone)

api = Blueprint("delivery_api", __name__, url_prefix="/api/v1/cycles/<slug>")
set_policy(api.name, allow_anyone)


@bp.app_template_filter("delivery_status")
def delivery_status(status: str) -> str:
    return status_text(status)


@bp.app_template_global()
def delivery_url(cycle, code: str | None = None) -> str | None:
    """The "What we funded" page (or a project's part of it) once delivery is tracked."""
    from flask import url_for

    if records.delivery_chain(cycle) is None:
        return None
    if code is None:
        return url_for("delivery.index", slug=cycle.slug)
    return url_for("delivery.project", slug=cycle.slug, code=code)


@bp.app_template_global()
def delivery_funded_codes(cycle) -> set[str]:
    try:
        state = records.current_state(cycle) if records.delivery_chain(cycle) else None
    except records.DeliveryTampered:
        # the cycle page stays up; "What we funded" itself answers 409 and says why
        return set()
    return set(state["projects"]) if state else set()


def _titles(cycle) -> dict[str, str]:
    return project_titles(cycle.id, str(get_locale() or "en"))


def _tracked(slug: str):
    cycle = get_cycle(slug)
    return cycle, records.require_state(cycle)


def _page(cycle, state, district=None):
    titles = _titles(cycle)
    projects = [project_view(p, state, cycle.currency, titles)
                for p in sorted(state["projects"].values(),
                                key=lambda p: (p["district"], p["project"]))
                if district is None or p["district"] == district.slug]
    return render_template("delivery/index.html", cycle=cycle, district=district,
                           projects=projects, counts=status_counts(projects),
                           surveys=surveys_view(state, district.slug if district else None),
                           open_rounds=[r for r in list_rounds(cycle) if r.is_open and (
                               district is None or r.district_id == district.id)])


@bp.get("")
def index(slug: str):
    cycle, state = _tracked(slug)
    return _page(cycle, state)


@bp.get("/districts/<district_slug>")
def district(slug: str, district_slug: str):
    cycle, state = _tracked(slug)
    found = cycle.district_by_slug(district_slug)
    if found is None:
        abort(404)
    return _page(cycle, state, found)


def _project_page(cycle, state, code, status=200, reasons=(), sent=False, email=""):
    project = state["projects"].get(code)
    if project is None:
        raise NotFound()
    return render_template("delivery/project.html", cycle=cycle,
                           district=cycle.district_by_slug(project["district"]),
                           project=project_view(project, state, cycle.currency,
                                                _titles(cycle)),
                           form=CsrfOnlyForm(), reasons=reasons_list(reasons), sent=sent,
                           email=email), status


@bp.get("/projects/<code>")
def project(slug: str, code: str):
    cycle, state = _tracked(slug)
    return _project_page(cycle, state, code)


@bp.post("/projects/<code>/follow")
def follow_project(slug: str, code: str):
    cycle, state = _tracked(slug)
    project = state["projects"].get(code)
    if project is None:
        raise NotFound()
    email = request.form.get("email", "")
    try:
        refuse_control_characters_in(request.form, ("email",))
        follow.request_follow(cycle, project, email)
    except DomainError as error:
        return _project_page(cycle, state, code, error.status, error.reasons, email=email)
    return _project_page(cycle, state, code, sent=True)


def _token_page(template: str, slug: str, token: str, status: int = 200, done: bool = False,
                project: dict | None = None):
    cycle = get_cycle(slug)
    return render_template(template, cycle=cycle, token=token, form=CsrfOnlyForm(),
                           done=done, project=project), status


@bp.get("/follow/confirm")
def confirm_follow(slug: str):
    return _token_page("delivery/confirm.html", slug, request.args.get("token", ""))


@bp.post("/follow/confirm")
def confirm_follow_post(slug: str):
    cycle = get_cycle(slug)
    subscription = follow.confirm_follow(cycle, request.form.get("token", ""))
    state = records.require_state(cycle)
    return _token_page("delivery/confirm.html", slug, "", done=True,
                       project=state["projects"].get(subscription.project_code))


@bp.get("/unsubscribe")
def unsubscribe(slug: str):
    token = request.args.get("token", "")
    follow.check_unsubscribe_token(token)
    return _token_page("delivery/unsubscribe.html", slug, token)


@bp.post("/unsubscribe")
def unsubscribe_post(slug: str):
    follow.unsubscribe(request.form.get("token", "") or request.args.get("token", ""))
    return _token_page("delivery/unsubscribe.html", slug, "", done=True)


@bp.get("/photos/<name>")
def photo(slug: str, name: str):
    cycle = get_cycle(slug)
    if not images.NAME_PATTERN.match(name) or name not in records.photo_names(cycle):
        abort(404)
    response = send_from_directory(images.image_folder(), name, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/bundle.zip")
def bundle(slug: str):
    cycle, _state = _tracked(slug)
    return Response(export.bundle_zip(cycle), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{cycle.slug}-delivery.zip"'})


def _open(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@api.get("/delivery.json")
def delivery_json(slug: str):
    cycle, _state = _tracked(slug)
    return _open(Response(export.document_text(cycle), mimetype="application/json"))


@api.get("/delivery.csv")
def delivery_csv(slug: str):
    cycle, _state = _tracked(slug)
    return _open(Response(export.csv_text(cycle), mimetype="text/csv", headers={
        "Content-Disposition": f'inline; filename="{cycle.slug}-delivery.csv"'}))
