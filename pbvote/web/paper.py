"""Paper ballots: printing serialised sheets, double entry by two staff members, and the
adjudication queue where a third decides from the paper."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.rules import ballots
from pbvote.services import in_person
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, scope_to_cycle, set_policy

bp = Blueprint("paper", __name__, url_prefix="/staff/cycles/<slug>/paper")
set_policy(bp.name, require_roles("staff", "admin"))

#: session key: what the last entry did, shown once on the next page
LAST_RESULT = "paper_last_result"

scope_to_cycle(bp, get_cycle)



@bp.get("/")
def index():
    return _index()


def _index(reasons=(), status=200):
    """The paper page; `reasons`: the print form refused, each beside its field."""
    return render_template(
        "paper/index.html", cycle=g.cycle, form=CsrfOnlyForm(), batches=in_person.batches(g.cycle),
        queue=in_person.adjudication_queue(g.cycle),
        waiting=in_person.serials_awaiting_second_entry(g.cycle),
        last=session.pop(LAST_RESULT, None),
        site=request.form.get("site", "") if reasons else session.get("desk_site", ""),
        reasons=list(reasons)), status


@bp.post("/print")
def print_batch():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        refuse_control_characters_in(request.form, ("site",))
    except DomainError as refusal:
        return _index(refusal.reasons, refusal.status)
    try:
        count = int(request.form.get("count", ""))
    except ValueError:
        raise in_person.InPersonRefused(gettext("Enter how many ballots to print."),
                                        422) from None
    batch = in_person.print_serials(g.cycle, request.form.get("district", ""),
                                    request.form.get("site", ""), count, current_user)
    return redirect(url_for("paper.sheets", batch=batch))


@bp.get("/batches/<int:batch>")
def sheets(batch: int):
    rows = in_person.batch_serials(g.cycle, batch)
    district = rows[0].district
    return render_template("paper/sheets.html", cycle=g.cycle, rows=rows, district=district,
                           design=district.ballot_design())


def read_paper_form(district):
    """(reading, []) for what was typed on the form, or (None, reasons) when it cannot be
    recorded: choices that cannot be read, or a refused outcome or reason, as a Reason on
    that field so the error summary links to it."""
    outcome = request.form.get("outcome", "")
    if outcome == "valid":
        design = district.ballot_design()
        selections, reasons = ballots.parse_form(design, request.form)
        if reasons:
            return None, reasons
        return in_person.reading(district, "valid", selections), []
    try:
        return in_person.reading(district, outcome, None, request.form.get("reason", "")), []
    except in_person.InPersonRefused as refused:
        field = "reason" if outcome in in_person.PAPER_OUTCOMES else "outcome"
        return None, [ballots.Reason(field, "paper_reading_refused", refused.message)]


def choices_as_typed(district) -> dict:
    """The choices as typed, readable or not, to fill the form in again."""
    design = district.ballot_design()
    selections, reasons = ballots.parse_form(design, request.form)
    if reasons:
        return ballots.choices_as_typed(
            design, [project.code for project in district.projects], request.form)
    return ballots.choice_map(design, selections)


@bp.route("/enter", methods=["GET", "POST"])
def enter():
    """Type the serial, then what the paper says. Neither entry shows the other."""
    form = CsrfOnlyForm()
    serial_text = request.values.get("serial", "")
    if not serial_text.strip():
        if request.method == "POST":
            raise in_person.InPersonRefused(gettext("Enter the serial printed on the ballot."),
                                            422)
        return render_template("paper/find.html", cycle=g.cycle, form=form,
                               last=session.pop(LAST_RESULT, None))
    row = in_person.find_serial(g.cycle, serial_text)
    return _reading_page(row, form, in_person.enter_paper_ballot, url_for("paper.enter"),
                         adjudicating=False, last=session.pop(LAST_RESULT, None))


@bp.route("/adjudicate/<serial>", methods=["GET", "POST"])
def adjudicate(serial: str):
    row = in_person.find_serial(g.cycle, serial)
    if row.status != "adjudication":
        raise in_person.InPersonRefused(gettext("Serial %(serial)s is not waiting for "
                                                "adjudication.", serial=row.serial))
    return _reading_page(row, CsrfOnlyForm(), in_person.adjudicate, url_for("paper.index"),
                         adjudicating=True, last=None)


def _reading_page(row, form, record, done_url: str, *, adjudicating: bool, last):
    """The paper-reading form of one serial, for a first or second entry or an adjudication:
    on a POST, record what was typed with `record` and go to `done_url`, or show it again
    with each refusal beside its field."""
    district = row.district
    error, reasons, status = None, [], 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            refuse_control_characters_in(request.form, ("reason",))
            read, reasons = read_paper_form(district)
            if read is not None:
                result = record(g.cycle, row.serial, read, current_user)
                session[LAST_RESULT] = {"serial": result.serial, "status": result.status}
                return redirect(done_url)
            status = 422
        except DomainError as refusal:
            error, reasons, status = refusal.message, refusal.reasons, refusal.status
    return render_template("paper/enter.html", cycle=g.cycle, form=form, row=row,
                           district=district, design=district.ballot_design(), error=error,
                           reasons=reasons,
                           chosen=choices_as_typed(district) if request.method == "POST" else {},
                           data=request.form, adjudicating=adjudicating, last=last), status
