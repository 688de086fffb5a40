""""Email me when the results are out": the form (on the cycle's page, the results page
before publication and the ballot receipt, and on a page of its own), the confirmation and
the unsubscribe pages. Open to anyone; GETs only show a button, the POSTs write."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale

from pbvote.infra.extensions import limiter
from pbvote.services import publication, results_notice
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.web.delivery_view import reasons_list
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("results_notice", __name__, url_prefix="/cycles/<slug>/results/notice")
set_policy(bp.name, allow_anyone)


def _per_network() -> str:
    return current_app.config.get("RESULTS_NOTICE_RATE_LIMIT", "10/hour")


def _per_address() -> str:
    return current_app.config.get("RESULTS_NOTICE_PER_ADDRESS_RATE_LIMIT", "3/hour")


def _address_key() -> str:
    return "results-notice:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.app_template_global()
def results_notice_locale() -> str:
    """The page's language, sent with the form: the emails are written in it."""
    return results_notice.normal_locale(str(get_locale() or "en"))


def _results_url(cycle) -> str | None:
    if publication.published_results(cycle) is None:
        return None
    return url_for("results.page", slug=cycle.slug)


def _form_page(cycle, status: int = 200, reasons=(), email: str = "", sent: bool = False,
               message: str | None = None):
    return render_template("results_notice/subscribe.html", cycle=cycle,
                           results_url=_results_url(cycle), reasons=reasons_list(reasons),
                           email=email, sent=sent, message=message), status


@bp.get("")
def form(slug: str):
    return _form_page(get_cycle(slug))


@bp.post("")
@limiter.limit(_per_network, methods=["POST"])
@limiter.limit(_per_address, key_func=_address_key, methods=["POST"])
def subscribe(slug: str):
    cycle = get_cycle(slug)
    email = request.form.get("email", "")
    try:
        refuse_control_characters_in(request.form, ("email",))
        results_notice.request_notice(cycle, email, request.form.get("lang") or
                                      results_notice_locale())
    except DomainError as error:
        return _form_page(cycle, error.status, error.reasons, email=email,
                          message=None if error.reasons else error.message)
    return _form_page(cycle, sent=True)


def _token_page(template: str, cycle, token: str = "", status: int = 200, **values):
    return render_template(template, cycle=cycle, token=token,
                           results_url=_results_url(cycle), **values), status


@bp.get("/confirm")
def confirm(slug: str):
    return _token_page("results_notice/confirm.html", get_cycle(slug),
                       request.args.get("token", ""))


@bp.post("/confirm")
def confirm_post(slug: str):
    cycle = get_cycle(slug)
    confirmed = results_notice.confirm_notice(cycle, request.form.get("token", ""))
    return _token_page("results_notice/confirm.html", cycle, done=True, confirmed=confirmed)


@bp.get("/unsubscribe")
def unsubscribe(slug: str):
    cycle = get_cycle(slug)
    token = request.args.get("token", "")
    results_notice.check_unsubscribe_token(cycle, token)
    return _token_page("results_notice/unsubscribe.html", cycle, token)


@bp.post("/unsubscribe")
def unsubscribe_post(slug: str):
    cycle = get_cycle(slug)
    results_notice.unsubscribe(cycle, request.form.get("token", "") or
                               request.args.get("token", ""))
    return _token_page("results_notice/unsubscribe.html", cycle, done=True)
