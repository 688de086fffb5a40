"""Staff pages for jobs: a job's progress (HTML that refreshes itself while the job runs,
and JSON for scripts), and its result files. Every route is a GET that only reads; other
pages link here after they enqueue a job (services/jobs)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, send_file, url_for

from pbvote.services import jobs, roll_preview_job
from pbvote.services.jobs.runner import ensure_embedded_worker
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("jobs", __name__, url_prefix="/staff/jobs")
set_policy(bp.name, require_roles("staff", "admin"))


def _found(job_id: str) -> jobs.Progress:
    found = jobs.progress(job_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<job_id>")
def show(job_id: str):
    found = _found(job_id)
    return render_template("staff/job.html", job=found,
                           status_text=jobs.describe_status(found.status),
                           roll_preview_url=_roll_preview_url(found))


def _roll_preview_url(found: jobs.Progress) -> str | None:
    """A finished roll preview links to the preview (done) or to its mapping (failed)."""
    if found.kind != roll_preview_job.KIND or not found.finished:
        return None
    place = roll_preview_job.preview_place(found.id)
    if place is None:
        return None
    slug, token, mapping = place
    args = {f"map-{i}": field for i, field in enumerate(mapping.values())}
    if found.status == "done":
        args["job"] = found.id
    return url_for("staff_setup.roll_preview", slug=slug, token=token, **args)


@bp.get("/<job_id>.json")
def show_json(job_id: str):
    return jsonify(_found(job_id).as_json())


@bp.get("/<job_id>/files/<name>")
def result_file(job_id: str, name: str):
    path = jobs.result_path(job_id, name)
    if path is None:
        abort(404)
    mimetype = "text/csv" if name.endswith(".csv") else "text/html"
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name,
                         conditional=False, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app) -> None:
    """The database backend's worker thread in this process (development): started by the
    first request, so a command such as `pbvote init-db` starts none."""
    if jobs.backend_name(app.config) != "database" or not app.config.get("JOBS_EMBEDDED_WORKER"):
        return

    @app.before_request
    def _start_job_worker():
        ensure_embedded_worker(current_app._get_current_object())
