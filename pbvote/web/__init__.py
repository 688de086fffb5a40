"""Blueprints, the access guard, error pages and response headers."""
from __future__ import annotations

from flask import render_template, session
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from pbvote.i18n_hook import N_
from pbvote.services.errors import DomainError


def register_blueprints(app) -> None:
    from pbvote.web import form_widgets, i18n, uploads

    i18n.install(app)
    form_widgets.install()
    uploads.install(app)
    from pbvote.web import (
        admin,
        audit,
        auth,
        exports,
        filters,
        guards,
        public,
        results,
        staff,
        staff_results,
        turnout,
        vote,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(vote.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(staff_results.bp)
    app.register_blueprint(turnout.staff_bp)
    app.register_blueprint(turnout.public_bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    from pbvote.web import api, board

    app.register_blueprint(board.bp)
    app.register_blueprint(api.bp)
    from pbvote.web import media
    from pbvote.web import setup as setup_pages

    app.register_blueprint(setup_pages.bp)
    app.register_blueprint(media.bp)
    from pbvote.web import dev, ideas, my_ideas, resident_auth, review

    for module in (resident_auth, ideas, my_ideas, review, dev):
        app.register_blueprint(module.bp)
    from pbvote.web import declarations, desk, in_person_audit, kiosk, paper

    for module in (desk, kiosk, paper, in_person_audit, declarations):
        app.register_blueprint(module.bp)
    from pbvote.web import content_translations

    app.register_blueprint(i18n.bp)
    from pbvote.web import about, discussion

    app.register_blueprint(about.bp)
    app.register_blueprint(discussion.bp)
    app.register_blueprint(discussion.staff_bp)
    i18n.register_globals(app)
    app.register_blueprint(content_translations.bp)
    content_translations.register_globals(app)
    from pbvote.web import health, jobs, metrics

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    metrics.install(app)
    app.register_blueprint(jobs.bp)
    jobs.install(app)
    from pbvote.web import delivery, delivery_staff, delivery_survey

    for blueprint in (delivery.bp, delivery.api, delivery_staff.bp, delivery_survey.bp):
        app.register_blueprint(blueprint)
    from pbvote.web import maps

    app.register_blueprint(maps.bp)
    from pbvote.web import results_notice

    app.register_blueprint(results_notice.bp)
    app.before_request(guards.enforce_access)
    from pbvote.web import limits

    limits.install(app)
    filters.register(app)
    _register_error_pages(app)
    app.after_request(_security_headers)


def _register_error_pages(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return render_template("errors/message.html", title=error.message,
                               reasons=error.reasons, status=error.status), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = gettext("This form has expired or was changed outside this site. "
                          "Go back, reload the page and try again.")
        return render_template("errors/message.html", title=message, reasons=[], status=400), 400

    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import InterfaceError, OperationalError

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(RedisConnectionError)
    def service_unavailable(error):
        # the database or Redis cannot be reached: a clear page, not a 500; the pools
        # reconnect by themselves (pool_pre_ping) once it is back
        app.logger.warning("service unavailable: %s", type(error).__name__)
        message = gettext("The service is briefly unavailable. Please try again in a minute; "
                          "nothing you sent was stored.")
        response = app.make_response((render_template(
            "errors/message.html", title=message, reasons=[], status=503), 503))
        response.headers["Retry-After"] = "30"
        return response

    for status, message in [(400, N_("The request could not be understood.")),
                            (403, N_("You do not have access to this page.")),
                            (404, N_("This page does not exist.")),
                            (405, N_("This action is not allowed here.")),
                            (413, N_("The upload is too large.")),
                            (429, N_("Too many attempts. Please wait a while and try again."))]:
        app.register_error_handler(status, _simple_error_page(status, message))


def _simple_error_page(status: int, message: str):
    def handler(error):
        return render_template("errors/message.html", title=gettext(message), reasons=[],
                               status=status), status
    return handler


# English: an HTTP header, not text for people
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


#: sent on every response unless a view set its own
SECURITY_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                    ("X-Frame-Options", "DENY"),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "same-origin"))
# English: an HTTP header, not text for people
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _security_headers(response):
    from flask import current_app

    headers = response.headers
    # one pass over the headers: each setdefault scanned them all again
    present = set(headers.keys(lower=True))
    wanted = SECURITY_HEADERS + ((HSTS,) if current_app.config.get("SESSION_COOKIE_SECURE")
                                 else ())
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    if session.accessed:
        # Whatever depends on who is asking (ballots, receipts, staff pages, CSRF tokens,
        # a signed-in header) stays out of every cache, in one place for all blueprints.
        headers["Cache-Control"] = "no-store"
    return response
