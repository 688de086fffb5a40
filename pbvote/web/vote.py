"""The resident's path: choose district → prove eligibility → ballot → review → cast → receipt."""
from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from pbvote.infra.db import reads_only, utcnow
from pbvote.infra.extensions import db, limiter
from pbvote.rules import ballots, eligibility
from pbvote.rules import self_declaration as declaration_rules
from pbvote.services import pending, self_declaration, took_part, voting
from pbvote.services.errors import AlreadyVoted, BallotRejected, DomainError, NotEligible
from pbvote.services.keys import keyed_hash
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import (
    AccessCodeForm,
    CsrfOnlyForm,
    DeclarationCodeForm,
    RollCheckForm,
    SelfDeclarationForm,
)
from pbvote.web.guards import scope_to_cycle, set_policy

bp = Blueprint("vote", __name__, url_prefix="/cycles/<slug>/vote")

VERIFIED_SESSION_SECONDS = 45 * 60
#: endpoints anyone may open; every other endpoint here needs a verified voter. Leaving only
#: ends the session, so the receipt page's "Done" (after which no voter is verified) works.
OPEN_ENDPOINTS = frozenset({"vote.start", "vote.verify", "vote.receipt", "vote.leave",
                            "vote.email_receipt", "vote.declare", "vote.declare_confirm"})

scope_to_cycle(bp, voting.voting_cycle)


def _require_verified_voter():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    voter = _session_voter()
    if voter is None:
        return redirect(url_for("vote.start"))
    g.district = g.cycle.district_by_id(voter.district_id)
    if g.district is None:
        return redirect(url_for("vote.start"))
    g.voter = voter
    return None


set_policy(bp.name, _require_verified_voter)
# Checking eligibility and keeping a draft ballot in the session only read the database:
# on SQLite these POSTs need not take the write lock that casting queues on.
reads_only("vote.verify", "vote.ballot", "vote.leave")


def _session_voter() -> voting.VerifiedVoter | None:
    data = session.get("voter")
    if not data or data.get("cycle_slug") != g.cycle.slug or data["expires"] < time.time():
        return None
    return voting.VerifiedVoter.from_session(data["identity"])


def _require_open():
    if not g.cycle.voting_open(utcnow()):
        from pbvote.web.public import public_status

        # Say where the cycle stands and where to go: the results once published.
        status = public_status(g.cycle)
        abort(make_response(render_template("vote/closed.html", cycle=g.cycle,
                                             status=status), 403))


@bp.get("/")
def start():
    _require_open()
    return render_template("vote/start.html", cycle=g.cycle)


def _failures_per_person() -> str:
    return current_app.config.get("VOTER_CHECK_FAILURES_PER_PERSON", "10/hour")


def _failures_per_address() -> str:
    return current_app.config.get("VOTER_CHECK_FAILURES_PER_ADDRESS", "60/10 minutes")


def _failures_per_person_any_address() -> str:
    return current_app.config.get("VOTER_CHECK_FAILURES_PER_PERSON_ANY_ADDRESS", "100/day")


def _typed_person() -> str:
    form = request.form
    return "|".join((g.cycle.slug, eligibility.normalise_name(form.get("roll-last_name", "")),
                     eligibility.normalise_postcode(form.get("roll-postcode_or_roll", ""))))


def _typed_person_key() -> str:
    """The person a roll check names (cycle, last name, postcode or roll number) and the
    address asking, keyed so the rate-limit store holds no personal data: a neighbour
    guessing birth dates from their address slows only their own guesses, and never locks
    the real person out."""
    return "voter-check:" + keyed_hash("rate-limit", f"{_typed_person()}|{request.remote_addr}")


def _typed_person_any_address_key() -> str:
    """The same person from any address: the backstop against guessing from many
    addresses. The roll-number path (another key) and access codes stay open."""
    return "voter-check-any:" + keyed_hash("rate-limit", _typed_person())


def _not_a_roll_check() -> bool:
    # access codes carry 60 random bits: only the per-address limit applies to them
    return request.form.get("method") != "roll"


def _refused(response) -> bool:
    """Only guesses count towards the limits: checks whose details matched nobody (or a
    code that does not exist). Not "already voted", a form with a missing field, or a
    refusal by the limit itself, or one resident behind a busy address could use up
    everyone's allowance."""
    return bool(g.get("voter_check_guess"))


@bp.route("/<district_slug>/verify", methods=["GET", "POST"])
@limiter.limit(_failures_per_person, key_func=_typed_person_key, methods=["POST"],
               deduct_when=_refused, exempt_when=_not_a_roll_check)
@limiter.limit(_failures_per_person_any_address, key_func=_typed_person_any_address_key,
               methods=["POST"], deduct_when=_refused, exempt_when=_not_a_roll_check)
@limiter.limit(_failures_per_address, methods=["POST"], deduct_when=_refused)
def verify(district_slug: str):
    _require_open()
    district = g.cycle.district_by_slug(district_slug)
    if district is None:
        abort(404)
    allowed = set(g.cycle.method_list)
    error, reasons, status = None, [], 200
    roll_form = code_form = None
    if request.method == "POST":
        method = request.form.get("method")
        if method not in allowed or method not in ("roll", "code"):
            abort(400)
        # only the form that was posted: a check that lets the resident through renders none
        if method == "roll":
            form = roll_form = RollCheckForm(prefix="roll")
        else:
            form = code_form = AccessCodeForm(prefix="code")
        if form.validate_on_submit():
            try:
                if method == "roll":
                    voter = voting.verify_by_roll(
                        g.cycle, district, roll_form.last_name.data, roll_form.birth_date.data,
                        roll_form.postcode_or_roll.data)
                else:
                    voter = voting.verify_by_code(g.cycle, district, code_form.code.data)
            except (NotEligible, AlreadyVoted) as refusal:
                error, reasons, status = refusal.message, refusal.reasons, refusal.status
                g.voter_check_guess = isinstance(refusal, NotEligible)
            else:
                session.clear()
                session["voter"] = {"cycle_slug": g.cycle.slug, "identity": voter.to_session(),
                                    "expires": time.time() + VERIFIED_SESSION_SECONDS}
                return redirect(url_for("vote.ballot"))
        else:
            error, status = _("Please correct the fields marked below."), 422
    return render_template("vote/verify.html", cycle=g.cycle, district=district,
                           roll_form=roll_form or RollCheckForm(prefix="roll"),
                           code_form=code_form or AccessCodeForm(prefix="code"), allowed=allowed,
                           error=error, reasons=reasons), status


# ---------------------------------------------------------------------------
# Online self-declaration (residents on no roll), where the cycle switches it on

#: session key: the declaration waiting for its code, and until when
DECLARATION = "declaration"


def _declaration_limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)


def _typed_contact() -> str:
    typed = request.form.get("contact", "")
    contact, _problem = declaration_rules.parse_contact(typed)
    return contact.value if contact else typed.strip().lower()


def _declaration_contact_key() -> str:
    """The email address or phone a code goes to, keyed: codes sent to one contact."""
    return "declare-contact:" + keyed_hash("rate-limit", f"{g.cycle.slug}|{_typed_contact()}")


def _declaration_address_key() -> str:
    """The declared home address, keyed: declarations made for one address."""
    address = declaration_rules.address_key(request.form.get("street", ""),
                                            request.form.get("postcode", ""))
    return "declare-address:" + keyed_hash("rate-limit", f"{g.cycle.slug}|{address}")


def _require_declaration_offered() -> None:
    if not self_declaration.offered(g.cycle):
        abort(404)
    _require_open()


@bp.route("/declare/", methods=["GET", "POST"])
@limiter.limit(_declaration_limit("SELF_DECLARATION_PER_CONTACT", "5/hour"),
               key_func=_declaration_contact_key, methods=["POST"])
@limiter.limit(_declaration_limit("SELF_DECLARATION_PER_ADDRESS", "10/day"),
               key_func=_declaration_address_key, methods=["POST"])
@limiter.limit(_declaration_limit("SELF_DECLARATION_PER_NETWORK", "20/hour"), methods=["POST"])
def declare():
    """A resident on no roll declares where they live; a code goes to their contact."""
    _require_declaration_offered()
    form = SelfDeclarationForm()
    form.district.choices = [("", _("Choose your district"))] + [
        (d.slug, d.name) for d in g.cycle.districts]
    if request.method == "GET" and request.args.get("district"):
        form.district.data = request.args["district"]
    error, status = None, 200
    if request.method == "POST":
        district = g.cycle.district_by_slug(form.district.data or "")
        if form.validate_on_submit() and district is not None:
            typed = declaration_rules.Declaration(
                given_names=form.given_names.data or "", last_name=form.last_name.data or "",
                street=form.street.data or "", postcode=form.postcode.data or "",
                birth_date=form.birth_date.data, contact=form.contact.data or "")
            try:
                declaration_id = self_declaration.declare(g.cycle, district, typed)
            except DomainError as refused:
                error, status = refused.message, refused.status
                for reason in refused.reasons:
                    getattr(form, reason.field).errors = [
                        *getattr(form, reason.field).errors, reason.message]
            else:
                contact, _problem = declaration_rules.parse_contact(typed.contact)
                session.clear()
                session[DECLARATION] = {
                    "cycle_slug": g.cycle.slug, "id": declaration_id,
                    "kind": contact.kind,
                    "expires": time.time()
                    + declaration_rules.CODE_LIFETIME.total_seconds()}
                return redirect(url_for("vote.declare_confirm"))
        else:
            if district is None and not form.district.errors:
                form.district.errors = [_("Choose the district you live in.")]
            error, status = _("Please correct the fields marked below."), 422
    return render_template("vote/declare.html", cycle=g.cycle, form=form, error=error), status


def _pending_declaration() -> dict | None:
    data = session.get(DECLARATION)
    if not data or data.get("cycle_slug") != g.cycle.slug or data["expires"] < time.time():
        return None
    return data


@bp.route("/declare/confirm", methods=["GET", "POST"])
@limiter.limit(_declaration_limit("SELF_DECLARATION_CODES_PER_NETWORK", "30/10 minutes"),
               methods=["POST"])
def declare_confirm():
    _require_declaration_offered()
    pending_declaration = _pending_declaration()
    if pending_declaration is None:
        return redirect(url_for("vote.declare"))
    form = DeclarationCodeForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            voter = self_declaration.confirm(g.cycle, pending_declaration["id"], form.code.data)
        except DomainError as refused:
            if refused.status == 401:
                db.session.commit()  # the wrong guess counts towards the 5 tries
            error, status = refused.message, refused.status
        else:
            session.clear()
            session["voter"] = {"cycle_slug": g.cycle.slug, "identity": voter.to_session(),
                                "expires": time.time() + VERIFIED_SESSION_SECONDS}
            return redirect(url_for("vote.ballot"))
    return render_template("vote/declare_confirm.html", cycle=g.cycle, form=form, error=error,
                           kind=pending_declaration["kind"]), status


@bp.route("/ballot", methods=["GET", "POST"])
def ballot():
    _require_open()
    design = g.district.ballot_design()
    form = CsrfOnlyForm()
    reasons: list[ballots.Reason] = []
    selections = _pending_selections(design)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        selections, reasons = ballots.parse_form(design, request.form)
        if not reasons:
            reasons = ballots.validate_ballot(design, g.district.project_costs(), selections,
                                              currency=g.cycle.currency)
        if not reasons:
            # the choices stay on the server: the session (which names the voter) holds
            # only a random token for them
            session["pending"] = pending.keep(
                g.district.id, ballots.selections_to_json(design, selections),
                session.get("pending"))
            return redirect(url_for("vote.review"))
    if request.method == "POST" and selections is None:
        # The form could not be read as a ballot (say, a rank given twice): show back what
        # was typed, so a resident fixes one field instead of filling in everything again.
        chosen = ballots.choices_as_typed(
            design, [project.code for project in g.district.projects], request.form)
    else:
        chosen = ballots.choice_map(design, selections)
    return render_template(
        "vote/ballot.html", cycle=g.cycle, district=g.district, design=design, form=form,
        reasons=reasons, chosen=chosen), (422 if reasons else 200)


@bp.get("/review")
def review():
    _require_open()
    design = g.district.ballot_design()
    selections = _pending_selections(design)
    if selections is None:
        return redirect(url_for("vote.ballot"))
    return render_template("vote/review.html", cycle=g.cycle, district=g.district, design=design,
                           form=CsrfOnlyForm(), rows=_review_rows(design, selections),
                           total=_ballot_cost(design, selections))


@bp.post("/cast")
def cast():
    form = CsrfOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    design = g.district.ballot_design()
    selections = _pending_selections(design)
    if selections is None:
        return redirect(url_for("vote.ballot"))
    try:
        result = voting.cast_ballot(g.voter, selections, cycle=g.cycle)
    except BallotRejected as rejected:
        return render_template(
            "vote/ballot.html", cycle=g.cycle, district=g.district, design=design, form=form,
            reasons=rejected.reasons, chosen=ballots.choice_map(design, selections)), 422
    except DomainError:
        session.pop("voter", None)
        session.pop("pending", None)
        raise
    pending.discard(session.get("pending"))
    session.clear()
    session["receipt"] = {"cycle_slug": g.cycle.slug, "code": result.receipt,
                          "district": g.district.name}
    return redirect(url_for("vote.receipt"))


@bp.get("/receipt")
def receipt():
    data = session.get("receipt")
    if not data or data.get("cycle_slug") != g.cycle.slug:
        return redirect(url_for("public.cycle", slug=g.cycle.slug))
    return render_template("vote/receipt.html", cycle=g.cycle, receipt=data["code"],
                           district_name=data["district"], emailed=data.get("emailed"),
                           form=CsrfOnlyForm())


@bp.post("/receipt/email")
@limiter.limit("10/hour", methods=["POST"])
def email_receipt():
    """"You took part": the receipt code by email, once per receipt, never the choices."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    data = session.get("receipt")
    if not data or data.get("cycle_slug") != g.cycle.slug:
        return redirect(url_for("public.cycle", slug=g.cycle.slug))
    if data.get("emailed"):
        error, status = _("The confirmation was already sent to %(email)s.",
                          email=data["emailed"]), 409
    else:
        try:
            refuse_control_characters_in(request.form, ("email",))
            data["emailed"] = took_part.send_confirmation(
                g.cycle, data["district"], data["code"], request.form.get("email", ""))
        except DomainError as refused:
            error, status = refused.message, refused.status
        else:
            session["receipt"] = data
            return redirect(url_for("vote.receipt"))
    return render_template("vote/receipt.html", cycle=g.cycle, receipt=data["code"],
                           district_name=data["district"], emailed=data.get("emailed"),
                           form=CsrfOnlyForm(), email_error=error,
                           email_typed=request.form.get("email", "")), status


@bp.post("/leave")
def leave():
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    pending.discard(session.get("pending"))
    session.clear()
    return redirect(url_for("public.cycle", slug=g.cycle.slug))


def _pending_selections(design):
    token = session.get("pending")
    data = pending.read(token if isinstance(token, str) else None, g.district.id)
    if data is None:
        return None
    try:
        return ballots.selections_from_json(design, data)
    except ValueError:
        return None


def _review_rows(design, selections) -> list[tuple]:
    """(project, rank or points or None) in ballot order for ranked, display order otherwise."""
    by_code = {p.code: p for p in g.district.projects}
    chosen = ballots.choice_map(design, selections)
    if design.kind == "ranked":
        return [(by_code[code], rank) for code, rank in chosen.items()]
    return [(p, chosen[p.code]) for p in g.district.projects if p.code in chosen]


def _ballot_cost(design, selections) -> int | None:
    if design.kind in ("approval", "knapsack"):
        return ballots.ballot_cost(g.district.project_costs(), selections)
    return None
