"""The online ballot shows project titles and summaries in the resident's language."""
from __future__ import annotations

from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Project
from pbvote.services.translations import save_translations
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.factories import make_cycle


def test_the_ballot_and_review_show_the_spanish_title_and_summary(app, client):
    with app.app_context(), write_intent():
        made = make_cycle()
        project = db.session.scalars(select(Project).where(Project.code == "AP-A")).one()
        project.summary = "Brighter lamps on the square"
        save_translations(project, {("es", "title"): "Alumbrado en la plaza",
                                    ("es", "summary"): "Farolas más brillantes en la plaza"},
                          "staff:test")
        db.session.commit()
    client.set_cookie(LANGUAGE_COOKIE, "es")
    _verify_approval_voter(client, made)
    ballot = client.get(f"/cycles/{made.slug}/vote/ballot").text
    assert "Alumbrado en la plaza" in ballot and "Farolas más brillantes" in ballot
    assert "Brighter lamps" not in ballot
    assert "Project B" in ballot  # no translation: the original
    review = client.post(f"/cycles/{made.slug}/vote/ballot", data={
        "csrf_token": csrf_token(ballot), "project": ["AP-A"]}, follow_redirects=True).text
    assert "Alumbrado en la plaza" in review


def test_a_translated_ballot_costs_one_query_however_many_projects(app, client):
    """Translations come for the whole cycle in one query, not one query per project."""
    from sqlalchemy import event

    with app.app_context(), write_intent():
        made = make_cycle()
        district = next(d for d in db.session.get(Cycle, made.cycle_id).districts
                        if d.slug == "approval")
        for project in district.projects:
            save_translations(project, {("es", "title"): f"Proyecto {project.code}",
                                        ("es", "summary"): f"Resumen {project.code}"},
                              "staff:test")
        project_codes = [project.code for project in district.projects]
        db.session.commit()
        engine = db.engine
    assert len(project_codes) >= 3
    _verify_approval_voter(client, made)

    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        # queries only: a page that first touches its session there also sends BEGIN
        if statement.strip().upper() != "BEGIN":
            statements.append(statement)

    def ballot_page_statements(locale: str) -> tuple[int, str]:
        client.set_cookie(LANGUAGE_COOKIE, locale)
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = client.get(f"/cycles/{made.slug}/vote/ballot").text
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), page

    in_english, _page = ballot_page_statements("en")
    in_spanish, page = ballot_page_statements("es")
    assert all(f"Proyecto {code}" in page for code in project_codes)
    assert in_spanish == in_english + 1


def _verify_approval_voter(client, made) -> None:
    person = made.people["approval"]
    verify = f"/cycles/{made.slug}/vote/approval/verify"
    page = client.get(verify).text
    assert client.post(verify, data={
        "method": "roll", "roll-csrf_token": csrf_token(page),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code == 302
