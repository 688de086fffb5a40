"""Set-up pages for who may vote: the voter-roll import and access codes."""
from __future__ import annotations

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from pbvote.infra.db import reads_first
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.rules.roll_csv import FIELDS, normalise_header
from pbvote.services import codes as code_service
from pbvote.services import letters, roll_import, roll_import_job, roll_preview_job
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.setup import (
    ALL_DISTRICTS,
    CodesForm,
    RollCodesForm,
    RollConfirmForm,
    RollUploadForm,
    VoidCodeForm,
)
from pbvote.web.guards import require_fresh_login
from pbvote.web.setup import (
    _actor,
    _district_of,
    bp,
)

# ---------------------------------------------------------------------------
# Voter roll: upload → mapping and preview → confirm (fresh login) → applied


def _closed_message(cycle: Cycle) -> str | None:
    try:
        roll_import.refuse_if_closed(cycle)
    except roll_import.RollClosed as closed:
        return closed.message
    return None


@bp.route("/<slug>/roll", methods=["GET", "POST"])
def roll_upload(slug: str):
    cycle = get_cycle(slug)
    form = RollUploadForm()
    status = 200
    closed = _closed_message(cycle)
    if request.method == "POST" and closed:
        status = 409
    elif request.method == "POST":
        if form.validate_on_submit():
            upload = form.file.data
            if upload is None or not getattr(upload, "filename", ""):
                form.file.errors = [_("Choose a CSV file to upload.")]
                status = 422
            else:
                token = roll_import.stash_upload(upload.stream, str(cycle.id))
                path = roll_import.stash_path(token, str(cycle.id))
                if _previewed_by_job(path):
                    header = roll_import.read_header(path)
                    return _preview_as_job(cycle, token, _mapping_from({}, header))
                return redirect(url_for("staff_setup.roll_preview", slug=cycle.slug,
                                        token=token))
        else:
            status = 422
    return render_template("staff/setup/roll_upload.html", form=form, cycle=cycle,
                           roll_size=roll_import.roll_size(cycle), fields=FIELDS,
                           closed=closed), status


def _previewed_by_job(path) -> bool:
    return path.stat().st_size >= current_app.config["ROLL_PREVIEW_JOB_FROM_BYTES"]


def _preview_as_job(cycle: Cycle, token: str, mapping: dict[str, str]):
    """A large file: its preview is computed by a job, whose progress page links to it."""
    job_id = roll_preview_job.enqueue_preview(cycle, token, mapping, _actor(),
                                              str(get_locale() or "en"))
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job_id), 303)


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


def _pages(values) -> dict[str, int]:
    pages = {}
    for kind in roll_import.LISTS:
        text = values.get(f"{kind}_page", "")
        pages[kind] = int(text) if text.isdigit() and 0 < len(text) < 7 else 1
    return pages


@bp.route("/<slug>/roll/<token>", methods=["GET", "POST"])
def roll_preview(slug: str, token: str):
    cycle = get_cycle(slug)
    path = roll_import.stash_path(token, str(cycle.id))
    if path is None:
        abort(404)
    header = roll_import.read_header(path)
    source = request.form if request.method == "POST" else request.args
    mapping = _mapping_from(source, header)
    pages = _pages(request.args)
    form = RollConfirmForm()
    status, message = 200, None
    large = _previewed_by_job(path)
    preview_job = request.form.get("job") or request.args.get("job")
    if request.method == "POST" and large and "check" in request.form:
        if not form.validate_on_submit():
            abort(400)
        try:
            return _preview_as_job(cycle, token, mapping)
        except DomainError as error:
            db.session.rollback()
            return _stored_preview_page(cycle, token, path, header, form, error.status,
                                        error.message, None)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        require_fresh_login(return_to=url_for(
            "staff_setup.roll_preview", slug=slug, token=token, **_map_args(mapping, header),
            **({"job": preview_job} if large and preview_job else {})))
        typed = (form.confirm_removed.data or "").strip().replace(",", "").replace(" ", "")
        confirmed = int(typed) if typed.isdigit() and len(typed) < 10 else None
        try:
            if path.stat().st_size >= current_app.config["ROLL_IMPORT_JOB_FROM_BYTES"]:
                return _import_as_job(cycle, token, mapping, form, confirmed)
            applied = roll_import.apply_import(
                cycle, path, _actor(), mapping, expected_fingerprint=form.fingerprint.data,
                confirmed_removals=confirmed)
        except roll_import.RemovalNotConfirmed as error:
            status, message = error.status, error.message
            form.confirm_removed.errors = [
                _("Type %(num)s, the number of entries this import removes, to confirm.",
                  num=error.removed)]
        except roll_import.RollFileInvalid as invalid:
            status, message = invalid.status, invalid.message
        except DomainError as error:
            status, message = error.status, error.message
        else:
            db.session.commit()
            roll_import.discard_stash(token, str(cycle.id))
            return render_template("staff/setup/roll_done.html", cycle=cycle, plan=applied)
        db.session.rollback()
    if large:
        return _stored_preview_page(cycle, token, path, header, form, status, message,
                                    preview_job)
    # Reading a large file takes seconds: after a refused POST, too, without the write
    # lock that ballots queue on (SQLite).
    with reads_first():
        return _preview_page(slug, token, path, header, mapping, pages, form, status, message)


def _preview_page(slug: str, token: str, path, header: list[str], mapping: dict[str, str],
                  pages: dict[str, int], form: RollConfirmForm, status: int,
                  message: str | None):
    cycle = get_cycle(slug)
    try:
        plan = roll_import.plan_import(cycle, path, mapping, pages=pages)
    except roll_import.RollClosed as closed:
        return render_template("staff/setup/roll_upload.html", form=RollUploadForm(),
                               cycle=cycle, roll_size=roll_import.roll_size(cycle),
                               fields=FIELDS, closed=closed.message), closed.status
    form.fingerprint.data = plan.fingerprint()
    form.expected_removed.data = str(plan.removed) if plan.removal_needs_confirmation else ""
    return render_template("staff/setup/roll_preview.html", cycle=cycle, token=token,
                           header=header, mapping=mapping, fields=FIELDS, plan=plan, form=form,
                           message=message, map_args=_map_args(mapping, header),
                           page_size=roll_import.PAGE_SIZE), (status if status != 200 else
                                                              (200 if plan.ok else 422))


def _stored_preview_page(cycle: Cycle, token: str, path, header: list[str],
                         form: RollConfirmForm, status: int, message: str | None,
                         job_id: str | None):
    """A large file's preview as its job stored it; without one, the mapping and a button
    that starts the job (reading the file here could outlast the proxy's timeout)."""
    found = roll_preview_job.stored_preview(job_id, cycle, token)
    if found is None:
        mapping = _mapping_from(request.args, header)
        return render_template("staff/setup/roll_check.html", cycle=cycle, token=token,
                               header=header, mapping=mapping, fields=FIELDS, form=form,
                               message=message), (status if status != 200 else 200)
    mapping, plan = found
    mapping = {column: mapping.get(column, "") for column in header}
    form.fingerprint.data = plan.fingerprint()
    form.expected_removed.data = str(plan.removed) if plan.removal_needs_confirmation else ""
    return render_template("staff/setup/roll_preview.html", cycle=cycle, token=token,
                           header=header, mapping=mapping, fields=FIELDS, plan=plan, form=form,
                           message=message, map_args=_map_args(mapping, header),
                           page_size=roll_import.PAGE_SIZE, preview_job=job_id), status


def _import_as_job(cycle: Cycle, token: str, mapping: dict, form: RollConfirmForm,
                   confirmed: int | None):
    """A large file: checked and applied by a job, whose progress page this answers with.
    A removal the preview said needs confirming is checked here already, so the clerk hears
    at once; the job checks it again against the file."""
    expected = form.expected_removed.data or ""
    if expected.isdigit() and confirmed != int(expected):
        raise roll_import.RemovalNotConfirmed(int(expected), roll_import.roll_size(cycle))
    job_id = roll_import_job.enqueue_import(
        cycle, token, mapping, form.fingerprint.data or "", confirmed, _actor(),
        str(get_locale() or "en"))
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job_id), 303)


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
    """A code and a letter for every roll entry of a district (or the cycle) that has none
    yet: a job (services/letters), whose progress page this answers with."""
    cycle = get_cycle(slug)
    roll_form = _roll_codes_form(cycle)
    if not roll_form.validate_on_submit():
        return _codes_page(cycle, 422, roll_form=roll_form)
    chosen = roll_form.district.data
    district = None if chosen == ALL_DISTRICTS else _district_of(cycle, chosen)
    try:
        job_id = letters.enqueue_roll_letters(
            cycle, district, _actor(), locale=str(get_locale() or "en"),
            vote_url=url_for("public.cycle", slug=cycle.slug, _external=True))
    except DomainError as error:
        db.session.rollback()
        roll_form.district.errors = [error.message]
        return _codes_page(get_cycle(slug), error.status, error.message, roll_form=roll_form)
    db.session.commit()
    return redirect(url_for("jobs.show", job_id=job_id), 303)


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


