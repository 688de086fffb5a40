"""Translations of what staff and residents write: project and proposal titles and texts."""
from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from pbvote.infra.extensions import db

#: object types that carry translations, and the fields that may be translated
TRANSLATABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "project": ("title", "summary", "description", "location"),
    "proposal": ("title", "description"),
    #: the cycle's introduction on its public page
    "cycle": ("description",),
}


class ContentTranslation(db.Model):
    """One field of one project or proposal in one language; the original stays on the object.

    Not part of the frozen manifest: a translation changes what residents read, never what is
    counted, so it may be added or corrected after voting opens.
    """

    __tablename__ = "content_translation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "project" or "proposal"
    object_type: Mapped[str] = mapped_column(String(20))
    #: id of the project or proposal (no foreign key: two tables; deleted with the object)
    object_id: Mapped[int] = mapped_column(Integer)
    #: locale code as the app selects it, e.g. "es" or "zh_Hans"
    locale: Mapped[str] = mapped_column(String(20))
    #: "title", "summary" or "description"
    field: Mapped[str] = mapped_column(String(20))
    #: the translated text
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("object_type", "object_id", "locale", "field"),)


def _forget_translations(object_type: str):
    def listener(_mapper, connection, target) -> None:
        # No foreign key can point at two tables, so a deleted object takes its translations
        # with it here; otherwise a reused id (SQLite reuses the highest) would inherit them.
        table = ContentTranslation.__table__
        connection.execute(table.delete().where(table.c.object_type == object_type,
                                                table.c.object_id == target.id))
    return listener


def _register_cleanup() -> None:
    from pbvote.models.cycle import Cycle, Project
    from pbvote.models.proposal import Proposal

    event.listen(Project, "after_delete", _forget_translations("project"))
    event.listen(Proposal, "after_delete", _forget_translations("proposal"))
    event.listen(Cycle, "after_delete", _forget_translations("cycle"))


_register_cleanup()
