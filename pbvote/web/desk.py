"""The in-person check-in desk: look a resident up, confirm their ID, check them in and hand
out a paper ballot or a kiosk pass; add self-declared residents where the cycle allows it."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from pbvote.infra.db import reads_only, utcnow
from pbvote.rules.ballots import Reason
from pbvote.services import in_person
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.forms.base import NotConfirmed, refuse_control_characters_in, require_tick
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, scope_to_cycle, set_policy

bp = Blueprint("desk", __name__, url_prefix="/staff/cycles/<slug>/desk")
set_policy(bp.name, require_roles("staff", "admin"))
# Remembering the desk's site only touches the session; a look-up only reads. (Look-ups are
# posted so that names, dates of birth and postcodes never appear in an address, and so in
# no access log or browser history.)
reads_only("desk.set_site", "desk.lookup")

#: session key: the site this device's desk is at
SITE_KEY = "desk_site"

scope_to_cycle(bp, get_cycle)



def _require_csrf() -> None:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)


def parse_date(text: str, label: str, field: str = "birth_date") -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = gettext("%(label)s must be a date like 1984-03-27.", label=label)
        raise in_person.InPersonRefused(message, 422, [Reason(field, "not_a_date", message)]) \
            from None


LOOKUP_FIELDS = ("name", "birth_date", "last_name", "postcode_or_roll")
SELF_DECLARED_FIELDS = ("district", "last_name", "birth_date", "postcode", "display_name",
                        "proof_seen")


def _desk_page(matches=None, error=None, reasons=(), status=200, data=None):
    return render_template(
        "desk/index.html", cycle=g.cycle, form=CsrfOnlyForm(), site=session.get(SITE_KEY, ""),
        matches=matches, error=error, reasons=list(reasons), args=data or {},
        voting_open=g.cycle.voting_open(utcnow()), passes=in_person.waiting_passes(g.cycle)), status


@bp.get("/")
def index():
    """The desk. Searches are posted (desk.lookup); the only thing read from the address is
    the id of an entry the desk has just added, which says nothing about the person."""
    entry = request.args.get("entry", "")
    if entry.isdigit() and len(entry) < 10:
        return _desk_page(in_person.lookup_roll(g.cycle, entry_id=int(entry)))
    return _desk_page()


@bp.post("/lookup")
def lookup():
    _require_csrf()
    data = {key: request.form.get(key, "") for key in LOOKUP_FIELDS}
    if not any(value.strip() for value in data.values()):
        data["name"] = ""
    page = request.form.get("page", "1")
    try:
        refuse_control_characters_in(request.form, LOOKUP_FIELDS)
        matches = in_person.lookup_roll(
            g.cycle, name=data["name"],
            birth_date=parse_date(data["birth_date"], gettext("Date of birth")),
            last_name=data["last_name"], postcode_or_roll=data["postcode_or_roll"],
            page=int(page) if page.isdigit() and len(page) < 7 else 1)
    except DomainError as refusal:
        return _desk_page(None, refusal.message, refusal.reasons, refusal.status, data)
    return _desk_page(matches, data=data)


@bp.post("/site")
def set_site():
    _require_csrf()
    try:
        refuse_control_characters_in(request.form, ("site",))
    except DomainError as refusal:
        return _desk_page(None, refusal.message, refusal.reasons, refusal.status)
    session[SITE_KEY] = in_person.clean_site(request.form.get("site", ""))
    return redirect(url_for("desk.index"))


@bp.post("/check-in")
def check_in():
    _require_csrf()
    try:
        entry_id = int(request.form.get("roll_entry_id", ""))
    except ValueError:
        raise in_person.InPersonRefused(gettext("Choose a resident from the roll first."),
                                        422) from None
    result = in_person.check_in(
        g.cycle, entry_id, site=session.get(SITE_KEY, ""),
        id_checked=request.form.get("id_checked") == "yes",
        handout=request.form.get("handout", ""), actor=current_user)
    return render_template("desk/checked_in.html", cycle=g.cycle, result=result)


@bp.route("/self-declared", methods=["GET", "POST"])
def self_declared():
    if not g.cycle.self_declared_allowed:
        raise in_person.InPersonRefused(gettext("This cycle does not accept self-declared "
                                                "residents: only people on the roll may vote."),
                                        403)
    form = CsrfOnlyForm()
    error, reasons, status = None, [], 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        data = request.form
        try:
            refuse_control_characters_in(data, SELF_DECLARED_FIELDS)
            entry = in_person.add_self_declared(
                g.cycle, data.get("district", ""), last_name=data.get("last_name", ""),
                birth_date=parse_date(data.get("birth_date", ""), gettext("Date of birth")),
                postcode=data.get("postcode", ""), display_name=data.get("display_name", ""),
                site=session.get(SITE_KEY, ""), proof_seen=data.get("proof_seen", ""),
                actor=current_user)
        except DomainError as refusal:
            error, reasons, status = refusal.message, refusal.reasons, refusal.status
        else:
            return redirect(url_for("desk.index", entry=entry.id))
    return render_template("desk/self_declared.html", cycle=g.cycle, form=form, error=error,
                           reasons=reasons, data=request.form,
                           site=session.get(SITE_KEY, "")), status


@bp.post("/passes/cancel")
def cancel_pass():
    _require_csrf()
    pass_id = request.form.get("pass_id", "")
    in_person.get_waiting_pass(g.cycle, pass_id)  # another cycle's or a used pass: 404/409
    try:
        require_tick(f"confirm-cancel-{pass_id}",
                     gettext("Tick “Yes, I am sure” to cancel this pass; nothing was changed."))
    except NotConfirmed as refused:
        return _desk_page(None, None, refused.reasons, refused.status)
    in_person.cancel_pass(g.cycle, pass_id, current_user)
    return redirect(url_for("desk.index"))


@bp.get("/reconciliation")
def reconciliation():
    return render_template("in_person/reconciliation.html", cycle=g.cycle,
                           report=in_person.reconciliation(g.cycle), back="desk")
