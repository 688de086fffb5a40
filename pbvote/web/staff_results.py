"""Staff pages at the end of a cycle: run the count privately, ask to publish, confirm.

Every page here refuses (409) until voting has closed, so no count leaks during voting.
Publishing needs a fresh login; the service checks the admin role and the second admin.
"""
from __future__ import annotations

import json

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.services import jobs, publication, results_notice, transitions, translations
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_fresh_login, require_roles, set_policy
from pbvote.web.results import prepare_results

bp = Blueprint("staff_results", __name__, url_prefix="/staff/cycles/<slug>/results")
set_policy(bp.name, require_roles("staff", "admin"))



def _closed_cycle(slug: str):
    cycle = get_cycle(slug)
    publication.require_voting_closed(cycle)
    return cycle


def _run_page(cycle, run, status: int = 200, message: str | None = None):
    results = json.loads(run.results_json)
    return render_template(
        "staff_results/run.html", cycle=cycle, run=run, form=CsrfOnlyForm(), message=message,
        snapshot=publication.published_results(cycle), private=True,
        **prepare_results(results, translations.project_titles(cycle.id, str(get_locale())))), \
        status


def _overview(cycle, status: int = 200, message: str | None = None):
    return render_template("staff_results/overview.html", cycle=cycle, form=CsrfOnlyForm(),
                           runs=publication.list_tally_runs(cycle),
                           snapshot=publication.published_results(cycle), now=utcnow(),
                           count_readiness=transitions.readiness_of(cycle, "count"),
                           notice=results_notice.notice_status(cycle),
                           message=message), status


@bp.app_template_filter("job_status")
def job_status(status: str) -> str:
    return jobs.describe_status(status)


@bp.get("")
def overview(slug: str):
    cycle = get_cycle(slug)
    try:
        publication.require_voting_closed(cycle)
    except publication.EmbargoError as embargo:
        # still the embargo's 409, but a staff page with the way on, not a dead end
        return render_template("staff_results/not_yet.html", cycle=cycle,
                               message=embargo.message,
                               voting=cycle.phase_window("voting"),
                               notice=results_notice.notice_status(cycle)), embargo.status
    return _overview(cycle)


@bp.post("/tally")
def run_tally(slug: str):
    cycle = _closed_cycle(slug)
    try:
        run = publication.run_tally(cycle, current_user)
    except transitions.TransitionRefused as error:
        db.session.rollback()
        return _overview(get_cycle(slug), error.status, error.message)
    return redirect(url_for("staff_results.run", slug=slug, run_id=run.id))


@bp.get("/runs/<int:run_id>")
def run(slug: str, run_id: int):
    cycle = _closed_cycle(slug)
    return _run_page(cycle, publication.get_tally_run(cycle, run_id))


def _publication_step(slug: str, run_id: int, step):
    cycle = _closed_cycle(slug)
    require_fresh_login(return_to=url_for("staff_results.run", slug=slug, run_id=run_id))
    run = publication.get_tally_run(cycle, run_id)
    try:
        step(cycle, run, current_user)
    except DomainError as error:
        db.session.rollback()
        cycle = get_cycle(slug)
        return _run_page(cycle, publication.get_tally_run(cycle, run_id), error.status,
                         error.message)
    return None


@bp.post("/runs/<int:run_id>/request")
def request_publication(slug: str, run_id: int):
    refused = _publication_step(slug, run_id, publication.request_publication)
    return refused or redirect(url_for("staff_results.run", slug=slug, run_id=run_id))


@bp.post("/runs/<int:run_id>/confirm")
def confirm_publication(slug: str, run_id: int):
    refused = _publication_step(slug, run_id, publication.confirm_publication)
    return refused or redirect(url_for("results.page", slug=slug))
