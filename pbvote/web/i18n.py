"""Language choice: a switcher link sets a cookie that wins over Accept-Language."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, redirect, request, url_for
from flask.globals import _cv_app
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("i18n", __name__)
set_policy(bp.name, allow_anyone)

LANGUAGE_COOKIE = "pbvote_lang"
ONE_YEAR = 365 * 24 * 3600
#: Locale code → the language's own name, in switcher order.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "zh_Hans": "简体中文"}
#: Accept-Language tags (lower case) that pick each locale; browsers send zh-CN or zh-Hans.
_ACCEPT_TAGS: dict[str, str] = {
    "en": "en", "es": "es",
    "zh": "zh_Hans", "zh-cn": "zh_Hans", "zh-hans": "zh_Hans", "zh-sg": "zh_Hans",
    "zh-hans-cn": "zh_Hans",
}


#: how each language writes "1st", "2nd" …; None keeps English suffixes
ORDINAL_FORMATS: dict[str, str] = {"es": "{n}.º", "zh_Hans": "第{n}"}


def install(app) -> None:
    """Bind Babel with this locale selector, and let the pure modules translate through
    pbvote.i18n_hook (the raw catalogue: the hook fills in the placeholders itself);
    outside a request the hook answers in English."""
    from pathlib import Path

    from babel.numbers import get_decimal_symbol
    from flask import has_request_context
    from flask_babel import format_decimal, get_locale

    from pbvote import i18n_hook
    from pbvote.infra.extensions import babel
    from pbvote.web.filters import money

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          str(Path(__file__).resolve().parent.parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    i18n_hook.install(
        lambda text: request_translations().gettext(text) if has_request_context() else None,
        lambda one, many, n: (request_translations().ngettext(one, many, n)
                              if has_request_context() else None),
        lambda value: format_decimal(value) if has_request_context() else None,
        lambda n: ordinal_for_locale(n) if has_request_context() else None,
        lambda: get_decimal_symbol(get_locale()) if has_request_context() else None,
        lambda amount, currency: money(amount, currency) if has_request_context() else None)


def ordinal_for_locale(n: int) -> str | None:
    from flask_babel import get_locale

    pattern = ORDINAL_FORMATS.get(str(get_locale()))
    return pattern.format(n=n) if pattern else None


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for tag, _quality in request.accept_languages:
        tag = tag.lower().replace("_", "-")
        if tag in _ACCEPT_TAGS:
            return _ACCEPT_TAGS[tag]
        primary = tag.split("-")[0]
        if primary in _ACCEPT_TAGS and primary != "zh":
            return _ACCEPT_TAGS[primary]
        if primary == "zh" and "hant" not in tag and tag not in ("zh-tw", "zh-hk", "zh-mo"):
            return "zh_Hans"
    return "en"


def html_lang(locale: object) -> str:
    """BCP 47 tag for <html lang>: zh_Hans → zh-Hans."""
    return str(locale).replace("_", "-")


def _local_path(target: str | None) -> str:
    # Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks.
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return url_for("public.index")
    return target


@bp.get("/language")
def switch():
    lang = request.args.get("lang", "")
    response = redirect(_local_path(request.args.get("next")), code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=ONE_YEAR, samesite="Lax",
                            secure=request.is_secure, httponly=True, path="/")
    return response


def number(value: int) -> str:
    """Whole numbers grouped the locale's way: 12,345 / 12.345 / 12,345."""
    from flask_babel import format_decimal

    return format_decimal(value)


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale: str):
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _SharedWTFormsTranslations:
    """WTForms' own messages ("This field is required.") in the request's language.

    Flask-WTF reads its catalogue from disk and parses it on every request that builds a
    form; it takes whatever is in `request.wtforms_translations`, so each request is handed
    this, which uses the process's one parsed copy per language.
    """

    def ugettext(self, text: str) -> str:
        from flask_babel import get_locale

        return _wtforms_catalogue(str(get_locale())).ugettext(text)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        from flask_babel import get_locale

        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


_SHARED_WTFORMS_TRANSLATIONS = _SharedWTFormsTranslations()


def request_translations():
    """Flask-Babel's get_translations(), remembered for the rest of the request.

    A page calls gettext some seventy times; Flask-Babel finds the catalogue anew each time
    through half a dozen context-local lookups, which were a tenth of a page's CPU time. The
    catalogue is remembered on Flask-Babel's own per-request namespace, beside the locale it
    belongs to, so a changed locale (force_locale, refresh) is still honoured.
    """
    from flask_babel import get_translations

    app_context = _cv_app.get(None)
    babel_state = app_context.g.__dict__.get("_flask_babel") if app_context else None
    if babel_state is not None:
        remembered = babel_state.__dict__.get("pbvote_translations")
        if remembered is not None and remembered[0] is babel_state.__dict__.get("babel_locale"):
            return remembered[1]
    translations = get_translations()
    babel_state = app_context.g.__dict__.get("_flask_babel") if app_context else None
    if babel_state is not None:
        babel_state.pbvote_translations = (babel_state.__dict__.get("babel_locale"),
                                           translations)
    return translations


def lazy_gettext(text: str, **variables) -> LazyString:
    """Flask-Babel's lazy_gettext, resolved through request_translations.

    Form labels and hints are lazy strings, and a template reads each several times (its
    length for an `if`, its text, its HTML): through Flask-Babel every read found the
    catalogue anew, an eighth of the eligibility page's time.
    """
    return LazyString(_request_gettext, text, **variables)


def _request_gettext(text: str, **variables) -> str:
    translated = request_translations().ugettext(text)
    return translated % variables if variables else translated


@pass_eval_context
def _template_gettext(eval_context, text: str, **variables) -> str:
    """What Jinja's newstyle gettext does: the translation is trusted markup, the variables
    are escaped, and the text is always %-formatted so "%%" reads the same everywhere."""
    translated = request_translations().ugettext(text)
    if eval_context.autoescape:
        # our own catalogue's text, trusted as Jinja's gettext trusts it; variables are escaped
        translated = Markup(translated)  # nosec B704
    return translated % variables


@pass_eval_context
def _template_ngettext(eval_context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    translated = request_translations().ungettext(singular, plural, num)
    if eval_context.autoescape:
        # trusted catalogue text, as in _template_gettext
        translated = Markup(translated)  # nosec B704
    return translated % variables


def register_globals(app) -> None:
    from flask_babel import get_locale

    app.jinja_env.globals.update(languages=LANGUAGES, html_lang=html_lang, get_locale=get_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda text: request_translations().ugettext(text),
        ngettext=lambda one, many, n: request_translations().ungettext(one, many, n),
        pgettext=lambda context, text: request_translations().upgettext(context, text),
        npgettext=lambda context, one, many, n: request_translations().unpgettext(
            context, one, many, n),
        newstyle=True)
    # `_` and `ngettext` called directly: Jinja's own pass through two more context calls
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext,
                                 ngettext=_template_ngettext)
    app.add_template_filter(number, "number")

    @app.before_request
    def _share_wtforms_translations():
        request.wtforms_translations = _SHARED_WTFORMS_TRANSLATIONS
