"""Kiosk mode: a locked-down ballot on a staff device at an in-person site.

A staff member signed in on the device starts kiosk mode with the site and a short PIN.
From then on this session only reaches the kiosk pages (every other page redirects to the
neutral start screen), and each voter needs a staff unlock: the PIN and a kiosk pass that
the desk created at check-in. After each ballot the kiosk returns to the start screen,
locked. Five wrong PINs end the session altogether, so a voter cannot guess their way to
the staff pages. The PIN is kept only as an HMAC (keyed by the server) in the session.
"""
from __future__ import annotations

import hmac
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District
from pbvote.rules import ballots
from pbvote.services import accounts, in_person
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import BallotRejected, DomainError
from pbvote.services.keys import keyed_hash
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
set_policy(bp.name, require_roles("staff", "admin"))

#: session key holding the kiosk state: cycle, site, PIN hash, the unlocked pass, failures
KIOSK_KEY = "kiosk"
MAX_PIN_FAILURES = 5
PIN_LENGTHS = range(4, 9)
#: endpoints outside the kiosk a kiosk session still reaches: files, the icon, and the
#: language switcher (which only sets a cookie and sends the voter back to a local page)
KIOSK_ALSO_REACHES = frozenset({None, "static", "public.favicon", "i18n.switch"})


@bp.before_app_request
def _stay_in_kiosk():
    """While kiosk mode is on, this session reaches only the kiosk pages."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None  # no session: reading it would only add "Vary: Cookie" to the response
    if session.get(KIOSK_KEY) and request.blueprint != bp.name \
            and request.endpoint not in KIOSK_ALSO_REACHES:
        return redirect(url_for("kiosk.home"))
    return None



def _require_csrf() -> None:
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)


def _pin_hash(salt: str, pin: str) -> str:
    return keyed_hash("kiosk-pin", f"{salt}|{pin}")


def _state() -> dict | None:
    return session.get(KIOSK_KEY)


def _save(state: dict) -> None:
    session[KIOSK_KEY] = dict(state)


def _reissue_session() -> None:
    """Rotate the staff session's key on the server and sign this device in again with it:
    a copy of an earlier cookie (with fewer wrong PINs in it) is refused from now on."""
    account = current_user._get_current_object()
    accounts.rotate_session_key(account)
    login_user(account, fresh=True)


def _end_session() -> None:
    """Sign the account out on the server, so no copy of this session's cookie works."""
    account = current_user._get_current_object()
    accounts.sign_out(account)
    logout_user()
    session.clear()


def _check_pin(state: dict, pin: str) -> bool:
    """True when the PIN is right; after MAX_PIN_FAILURES wrong ones the session ends.

    The count is in the session cookie, but every wrong PIN rotates the session's key on
    the server: replaying an older cookie (fewer failures) gets no session at all."""
    if hmac.compare_digest(_pin_hash(state["salt"], (pin or "").strip()), state["pin_hash"]):
        state["failures"] = 0
        _save(state)
        return True
    state["failures"] = state.get("failures", 0) + 1
    if state["failures"] >= MAX_PIN_FAILURES:
        _end_session()
        abort(redirect(url_for("auth.login")))
    _save(state)
    _reissue_session()
    return False


def _cycle(state: dict) -> Cycle:
    return get_cycle(state["cycle_slug"])


@bp.route("/", methods=["GET", "POST"])
def setup():
    if _state():
        return redirect(url_for("kiosk.home"))
    cycles = [c for c in db.session.scalars(select(Cycle).order_by(Cycle.name))
              if c.voting_open(utcnow())]
    form = CsrfOnlyForm()
    error, error_field, status = None, None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        pin, again = request.form.get("pin", "").strip(), request.form.get("pin_again", "").strip()
        try:  # error_field follows the checks: a refusal's summary links to its field
            error_field = "cycle"
            cycle = get_cycle(request.form.get("cycle", ""))
            error_field = "site"
            refuse_control_characters_in(request.form, ("site",))
            site = in_person.clean_site(request.form.get("site", ""))
            error_field = "pin"
            if not (pin.isdigit() and len(pin) in PIN_LENGTHS):
                raise in_person.InPersonRefused(gettext("The PIN must be 4 to 8 digits."), 422)
            error_field = "pin_again"
            if pin != again:
                raise in_person.InPersonRefused(gettext("The two PINs differ."), 422)
        except DomainError as refusal:
            error, status = refusal.message, 422
        else:
            salt = secrets.token_hex(8)
            _save({"cycle_slug": cycle.slug, "site": site, "salt": salt,
                   "pin_hash": _pin_hash(salt, pin), "failures": 0, "pass_id": None,
                   "receipt": None})
            # a copy of the staff session's cookie from before kiosk mode would reach the
            # staff pages: it stops working now
            _reissue_session()
            return redirect(url_for("kiosk.home"))
    return render_template("kiosk/setup.html", cycles=cycles, form=form, error=error,
                           error_field=error_field, data=request.form), status


@bp.get("/ready")
def home():
    state = _state()
    if not state:
        return redirect(url_for("kiosk.setup"))
    if state.get("pass_id"):
        return redirect(url_for("kiosk.ballot"))
    cycle = _cycle(state)
    return render_template("kiosk/home.html", cycle=cycle, site=state["site"], form=CsrfOnlyForm(),
                           passes=in_person.waiting_passes(cycle, state["site"]),
                           error=request.args.get("error"))


@bp.post("/unlock")
def unlock():
    _require_csrf()
    state = _state()
    if not state:
        return redirect(url_for("kiosk.setup"))
    if not _check_pin(state, request.form.get("pin", "")):
        return redirect(url_for("kiosk.home", error="pin"))
    cycle = _cycle(state)
    kiosk_pass = in_person.get_waiting_pass(cycle, request.form.get("pass_id", ""))
    if kiosk_pass.site != state["site"]:
        raise in_person.InPersonRefused(gettext("This pass is for another site."))
    state.update(pass_id=kiosk_pass.id, receipt=None)
    _save(state)
    return redirect(url_for("kiosk.ballot"))


def _voter_state():
    """The unlocked kiosk's cycle and district, or a redirect to the start screen."""
    state = _state()
    if not state or not state.get("pass_id"):
        return state, None, None
    cycle = _cycle(state)
    kiosk_pass = db.session.get(in_person.KioskPass, state["pass_id"])
    if kiosk_pass is None or kiosk_pass.status != "waiting":
        state["pass_id"] = None
        _save(state)
        return state, None, None
    return state, cycle, db.session.get(District, kiosk_pass.district_id)


@bp.route("/ballot", methods=["GET", "POST"])
def ballot():
    state, cycle, district = _voter_state()
    if district is None:
        return redirect(url_for("kiosk.home"))
    design = district.ballot_design()
    form = CsrfOnlyForm()
    reasons: list = []
    selections = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        selections, reasons = ballots.parse_form(design, request.form)
        if not reasons:
            reasons = ballots.validate_ballot(design, district.project_costs(), selections,
                                              currency=cycle.currency)
        if not reasons:
            state["pending"] = ballots.selections_to_json(design, selections)
            _save(state)
            return redirect(url_for("kiosk.review"))
    elif state.get("pending") is not None:
        selections = ballots.selections_from_json(design, state["pending"])
    if selections is None and request.method == "POST":
        # Unreadable (a rank twice, points not a number): show back what the voter typed.
        chosen = ballots.choices_as_typed(
            design, [project.code for project in district.projects], request.form)
    else:
        chosen = ballots.choice_map(design, selections)
    return render_template("kiosk/ballot.html", cycle=cycle, district=district, design=design,
                           form=form, reasons=reasons, chosen=chosen), (422 if reasons else 200)


@bp.get("/review")
def review():
    state, cycle, district = _voter_state()
    if district is None or state.get("pending") is None:
        return redirect(url_for("kiosk.home"))
    design = district.ballot_design()
    selections = ballots.selections_from_json(design, state["pending"])
    chosen = ballots.choice_map(design, selections)
    rows = [(p, chosen[p.code]) for p in district.projects if p.code in chosen]
    if design.kind == "ranked":
        rows.sort(key=lambda row: row[1])
    return render_template("kiosk/review.html", cycle=cycle, district=district, design=design,
                           rows=rows, form=CsrfOnlyForm())


@bp.post("/cast")
def cast():
    _require_csrf()
    state, cycle, district = _voter_state()
    if district is None or state.get("pending") is None:
        return redirect(url_for("kiosk.home"))
    design = district.ballot_design()
    selections = ballots.selections_from_json(design, state["pending"])
    try:
        result = in_person.cast_kiosk_ballot(cycle, state["pass_id"], selections)
    except BallotRejected as rejected:
        return render_template("kiosk/ballot.html", cycle=cycle, district=district,
                               design=design, form=CsrfOnlyForm(), reasons=rejected.reasons,
                               chosen=ballots.choice_map(design, selections)), 422
    state.update(pass_id=None, pending=None, receipt=result.receipt)
    _save(state)
    return redirect(url_for("kiosk.done"))


@bp.get("/done")
def done():
    """The receipt, until the voter says they are done: nothing sends them away while they
    copy it (a timed refresh would take the only copy from a slow reader)."""
    state = _state()
    if not state or not state.get("receipt"):
        return redirect(url_for("kiosk.home"))
    return render_template("kiosk/done.html", cycle=_cycle(state), receipt=state["receipt"],
                           form=CsrfOnlyForm())


@bp.post("/done")
def finish():
    """The voter is done: forget the receipt and lock the kiosk for the next voter."""
    _require_csrf()
    state = _state()
    if state:
        state["receipt"] = None
        _save(state)
    return redirect(url_for("kiosk.home"))


@bp.post("/leave")
def leave():
    """The voter stops without voting: back to the start screen; the pass stays waiting."""
    _require_csrf()
    state = _state()
    if state:
        state.update(pass_id=None, pending=None)
        _save(state)
    return redirect(url_for("kiosk.home"))


@bp.post("/exit")
def exit_kiosk():
    """Staff end kiosk mode on this device with the PIN."""
    _require_csrf()
    state = _state()
    if not state:
        return redirect(url_for("kiosk.setup"))
    if not _check_pin(state, request.form.get("pin", "")):
        return redirect(url_for("kiosk.home", error="exit-pin"))
    session.pop(KIOSK_KEY, None)
    # copies of the kiosk's cookie (the kiosk state in them) stop working
    _reissue_session()
    return redirect(url_for("staff.dashboard"))
