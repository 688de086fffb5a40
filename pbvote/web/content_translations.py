"""Staff enter translations of project titles and texts; residents read them in their language,
falling back to the original where none was entered."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from pbvote.extensions import db
from pbvote.forms.vote import CsrfOnlyForm
from pbvote.models.translation import TRANSLATABLE_FIELDS
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.services.translations import (
    TRANSLATION_LOCALES,
    save_translations,
    translated_text,
    translations_of,
)
from pbvote.web.guards import require_roles, set_policy
from pbvote.web.i18n import LANGUAGES

bp = Blueprint("content_translations", __name__, url_prefix="/staff/cycles")
set_policy(bp.name, require_roles("staff", "admin"))


def translated(obj: object, field: str) -> str:
    """Template global: `field` of a project or proposal in the reader's language."""
    cache = g.setdefault("content_translations", {})
    return translated_text(obj, field, str(get_locale() or "en"), cache)


@bp.route("/<slug>/projects/<code>/translations", methods=["GET", "POST"])
def project(slug: str, code: str):
    cycle = get_cycle(slug)
    found = next((p for d in cycle.districts for p in d.projects if p.code == code), None)
    if found is None:
        abort(404)
    fields = TRANSLATABLE_FIELDS["project"]
    form = CsrfOnlyForm()
    values = translations_of("project", found.id)
    problems, message, status = [], None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        texts = {(locale, field): request.form.get(f"{locale}_{field}", "")
                 for locale in TRANSLATION_LOCALES for field in fields}
        try:
            save_translations(found, texts, current_user.label)
        except DomainError as error:
            problems, message, status = error.reasons, error.message, error.status
            values = texts
        else:
            db.session.commit()
            return redirect(url_for("content_translations.project", slug=slug, code=code,
                                    saved=1), code=303)
    return render_template("content_translations/project.html", cycle=cycle, project=found,
                           fields=fields, locales=[(c, LANGUAGES[c]) for c in TRANSLATION_LOCALES],
                           values=values, form=form, problems=problems, message=message,
                           saved=request.args.get("saved") == "1"), status


def register_globals(app) -> None:
    app.jinja_env.globals["translated"] = translated
