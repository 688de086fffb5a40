"""Staff enter translations of project and idea titles and texts; residents read them in their
language, falling back to the original where none was entered."""
from __future__ import annotations

import re

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from pbvote.infra.db import for_update
from pbvote.infra.extensions import db
from pbvote.models import Project, Proposal
from pbvote.models.translation import TRANSLATABLE_FIELDS
from pbvote.services import proposals
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.services.translations import (
    MAX_LENGTH,
    TRANSLATION_LOCALES,
    object_type_of,
    save_translations,
    translated_text,
    translations_of,
)
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_roles, set_policy
from pbvote.web.i18n import LANGUAGES

bp = Blueprint("content_translations", __name__, url_prefix="/staff/cycles")
set_policy(bp.name, require_roles("staff", "admin"))

#: a form field naming a translation: "<locale>_<field>", e.g. "zh_Hans_title"
_FIELD_NAMES = "|".join(MAX_LENGTH)
_TRANSLATION_FIELD = re.compile(rf"^(?P<locale>.+)_(?P<field>{_FIELD_NAMES})$")


def translated(obj: object, field: str) -> str:
    """Template global: `field` of a project or proposal in the reader's language."""
    cache = g.setdefault("content_translations", {})
    return translated_text(obj, field, str(get_locale() or "en"), cache)


def untranslated(obj: object, field: str) -> bool:
    """Template global: True when the reader's language is not the original's and `field`
    has no translation, so the page can say it shows the original."""
    locale = str(get_locale() or "en")
    if locale not in TRANSLATION_LOCALES or not getattr(obj, field, ""):
        return False
    original = getattr(obj, field)
    return translated(obj, field) == original


def submitted_texts(form: MultiDict) -> dict[tuple[str, str], str]:
    """(locale, field) → text for every translation field posted, supported or not, so the
    service refuses a locale or field it does not translate instead of it being dropped."""
    texts = {}
    for name, text in form.items():
        match = _TRANSLATION_FIELD.match(name)
        if match:
            texts[(match["locale"], match["field"])] = text
    return texts


def _edit(obj: Project | Proposal, cycle, this_page: dict):
    """The one translation page for projects and ideas: GET shows it, POST saves (or 422)."""
    object_type = object_type_of(obj)
    form = CsrfOnlyForm()
    values = translations_of(object_type, obj.id)
    problems, message, status = [], None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        texts = submitted_texts(request.form)
        # one editor at a time per object, so two saves cannot insert the same translation
        db.session.execute(for_update(select(type(obj).id).where(type(obj).id == obj.id)))
        try:
            # every field of this form is a translation (the token aside), and all are checked
            refuse_control_characters_in(request.form, [name for name in request.form
                                                        if name != "csrf_token"])
            save_translations(obj, texts, current_user.label)
        except DomainError as error:
            db.session.rollback()
            problems, message, status = error.reasons, error.message, error.status
            values = texts
        else:
            db.session.commit()
            return redirect(url_for(request.endpoint, **this_page, saved=1), code=303)
    return render_template(
        "content_translations/edit.html", object_type=object_type, original=obj, cycle=cycle,
        fields=[(field, MAX_LENGTH[field]) for field in TRANSLATABLE_FIELDS[object_type]],
        locales=[(code, LANGUAGES[code]) for code in TRANSLATION_LOCALES], values=values,
        form=form, problems=problems, message=message,
        saved=request.args.get("saved") == "1"), status


@bp.route("/<slug>/projects/<code>/translations", methods=["GET", "POST"])
def project(slug: str, code: str):
    cycle = get_cycle(slug)
    found = next((p for d in cycle.districts for p in d.projects if p.code == code), None)
    if found is None:
        abort(404)
    return _edit(found, cycle, {"slug": slug, "code": code})


@bp.route("/<slug>/ideas/<int:proposal_id>/translations", methods=["GET", "POST"])
def proposal(slug: str, proposal_id: int):
    cycle = get_cycle(slug)
    idea = proposals.get_proposal(proposal_id)
    if idea.cycle_id != cycle.id:
        abort(404)
    return _edit(idea, cycle, {"slug": slug, "proposal_id": proposal_id})


def register_globals(app) -> None:
    app.jinja_env.globals["translated"] = translated
    app.jinja_env.globals["untranslated"] = untranslated
