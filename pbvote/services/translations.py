"""Translations of project and proposal texts: save them (logged) and read them with
fallback to the original. They are not configuration: the frozen manifest never includes them."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from pbvote.i18n_hook import _, format_number
from pbvote.infra.extensions import db
from pbvote.models import ContentTranslation, Cycle, Project, Proposal
from pbvote.models.translation import TRANSLATABLE_FIELDS
from pbvote.rules.ballots import Reason
from pbvote.services import log
from pbvote.services.errors import DomainError

#: locales a translation may be entered for (the original text is English)
TRANSLATION_LOCALES: tuple[str, ...] = ("es", "zh_Hans")
#: longest text per field, as on the objects themselves
MAX_LENGTH = {"title": 200, "summary": 500, "description": 20000, "location": 300}


class TranslationRefused(DomainError):
    def __init__(self, reasons: list[Reason]):
        super().__init__(_("Please correct the translations marked below; nothing was saved."),
                         422, reasons)


def object_type_of(obj: object) -> str | None:
    if isinstance(obj, Project):
        return "project"
    if isinstance(obj, Proposal):
        return "proposal"
    if isinstance(obj, Cycle):
        return "cycle"
    return None


def translations_of(object_type: str, object_id: int) -> dict[tuple[str, str], str]:
    """(locale, field) → text for one object."""
    rows = db.session.execute(
        select(ContentTranslation.locale, ContentTranslation.field, ContentTranslation.text)
        .where(ContentTranslation.object_type == object_type,
               ContentTranslation.object_id == object_id))
    return {(locale, field): text for locale, field, text in rows}


def translated_text(obj: object, field: str, locale: str,
                    cache: dict | None = None) -> str:
    """The field in `locale` when a translation exists, else the original.

    With a `cache` (one per request), the first object asked for brings the translations of
    every object of its type in its cycle, in one query: a ballot or idea board lists many,
    and one query per object was an N+1 for every reader not reading English.
    """
    object_type = object_type_of(obj)
    if object_type is None:  # not a translatable object: whatever the template would show
        return obj.get(field, "") if isinstance(obj, Mapping) else getattr(obj, field, "")
    original = getattr(obj, field)
    if locale not in TRANSLATION_LOCALES:
        return original
    if cache is None or object_type == "cycle":  # one cycle per page: one query
        return translations_of(object_type, obj.id).get((locale, field)) or original
    fetched = (object_type, "cycle", obj.cycle_id)
    if fetched not in cache:
        cache.update(_translations_in_cycle(object_type, obj.cycle_id))
        cache[fetched] = True
    return cache.get((object_type, obj.id), {}).get((locale, field)) or original


def project_titles(cycle_id: int, locale: str) -> dict[str, str]:
    """Project code → title in `locale`, for the cycle's translated projects (the results
    document stores the titles as counted, in the original language)."""
    if locale not in TRANSLATION_LOCALES:
        return {}
    rows = db.session.execute(
        select(Project.code, ContentTranslation.text)
        .join(Project, Project.id == ContentTranslation.object_id)
        .where(ContentTranslation.object_type == "project", ContentTranslation.field == "title",
               ContentTranslation.locale == locale, Project.cycle_id == cycle_id))
    return {code: text for code, text in rows if text}


def _translations_in_cycle(object_type: str, cycle_id: int) -> dict:
    """(object type, id) → {(locale, field): text} for every translated object of a cycle."""
    model = Project if object_type == "project" else Proposal
    rows = db.session.execute(
        select(ContentTranslation.object_id, ContentTranslation.locale,
               ContentTranslation.field, ContentTranslation.text)
        .join(model, model.id == ContentTranslation.object_id)
        .where(ContentTranslation.object_type == object_type, model.cycle_id == cycle_id))
    found: dict = {}
    for object_id, locale, field, text in rows:
        found.setdefault((object_type, object_id), {})[(locale, field)] = text
    return found


def save_translations(obj: Project | Proposal, texts: Mapping[tuple[str, str], str],
                      actor: str) -> int:
    """Set (locale, field) → text for one object; an empty text removes that translation.

    Logs one action into the object's cycle chain with before/after; returns how many
    translations changed.
    """
    object_type = object_type_of(obj)
    if object_type is None:
        raise ValueError("only projects and proposals carry translations")
    reasons = []
    for (locale, field), text in texts.items():
        if locale not in TRANSLATION_LOCALES or field not in TRANSLATABLE_FIELDS[object_type]:
            reasons.append(Reason(f"{locale}_{field}", "not_translatable",
                                  _("%(field)s in %(locale)s cannot be translated here.",
                                    field=field, locale=locale)))
        elif len(text.strip()) > MAX_LENGTH[field]:
            reasons.append(Reason(f"{locale}_{field}", "too_long",
                                  _("%(locale)s %(field)s: at most %(n)s characters.",
                                    locale=locale, field=field,
                                    n=format_number(MAX_LENGTH[field]))))
    if reasons:
        raise TranslationRefused(reasons)
    stored = {(row.locale, row.field): row for row in db.session.scalars(
        select(ContentTranslation).where(ContentTranslation.object_type == object_type,
                                         ContentTranslation.object_id == obj.id))}
    before, after = {}, {}
    for (locale, field), text in sorted(texts.items()):
        text = text.strip()
        row = stored.get((locale, field))
        old = row.text if row else ""
        if old == text:
            continue
        name = f"{locale}.{field}"
        before[name], after[name] = old, text
        if row is not None and not text:
            db.session.delete(row)
        elif row is not None:
            row.text = text
        else:
            db.session.add(ContentTranslation(object_type=object_type, object_id=obj.id,
                                              locale=locale, field=field, text=text))
    if after:
        log.record_action(obj.cycle.chain_id, f"{object_type}.translated", actor,
                          {object_type: getattr(obj, "code", None) or obj.id,
                           "before": before, "after": after})
        db.session.flush()
    return len(after)


def delete_translations(object_type: str, object_id: int) -> None:
    for row in db.session.scalars(select(ContentTranslation).where(
            ContentTranslation.object_type == object_type,
            ContentTranslation.object_id == object_id)):
        db.session.delete(row)
