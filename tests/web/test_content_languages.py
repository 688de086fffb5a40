"""Issue #17, item 3: pages that show content use its translation (results too), and the
demo's content is complete in English, Spanish and Chinese."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import ContentTranslation, Project
from pbvote.services.delivery.demo import DESCRIPTION
from pbvote.services.delivery.demo import DISTRICTS as LAST_YEAR
from pbvote.services.demo import DISTRICTS
from tests.web.test_results_page import published  # noqa: F401 (a fixture)


def test_results_show_translated_titles(app, client, published):  # noqa: F811
    with app.app_context(), write_intent():
        projects = db.session.scalars(select(Project).where(
            Project.cycle_id == published["cycle_id"], Project.code.like("%-A"))).all()
        assert len(projects) > 1  # "Project A" in every district
        for project in projects:
            db.session.add_all([
                ContentTranslation(object_type="project", object_id=project.id, locale="es",
                                   field="title", text="Proyecto A en español"),
                ContentTranslation(object_type="project", object_id=project.id,
                                   locale="zh_Hans", field="title", text="项目甲")])
        db.session.commit()
    for locale, title in (("es", "Proyecto A en español"), ("zh_Hans", "项目甲")):
        client.set_cookie("pbvote_lang", locale)
        page = html.unescape(client.get(f"/cycles/{published['slug']}/results").text)
        assert title in page, locale
        assert "Project A" not in page, (locale, re.findall(r".{80}Project A.{40}", page))


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo", "--voters", "6"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("locale", ["es", "zh_Hans"])
def test_the_demo_reads_complete_in_each_language(client, demo, locale):
    client.set_cookie("pbvote_lang", locale)
    page = html.unescape(client.get("/cycles/safer-streets-2027").text)
    english = [text for *_head, projects in DISTRICTS for project in projects
               for text in (project[1], project[4], project[5])]
    english.append("Riverton sets aside")
    left = [text for text in english if text in page]
    assert left == [], f"English left on the {locale} cycle page: {left}"
    # last year's round, published: its results name every project
    results = html.unescape(client.get("/cycles/safer-streets-2026/results").text)
    left = [title for *_head, projects in LAST_YEAR for _code, title, *_rest in projects
            if title in results] + [DESCRIPTION[:40]] * (DESCRIPTION[:40] in html.unescape(
                client.get("/cycles/safer-streets-2026").text))
    assert left == [], f"English left on the {locale} pages of 2026: {left}"
    ideas = html.unescape(client.get("/cycles/safer-streets-2028").text)
    assert "send your ideas" not in ideas
    board = html.unescape(client.get("/cycles/safer-streets-2028/ideas").text)
    categories = re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', board)
    assert "Street lighting" not in categories and "Youth spaces" not in categories


def test_an_untranslated_project_says_it_shows_the_original(client, made):
    client.set_cookie("pbvote_lang", "es")
    page = html.unescape(client.get(f"/cycles/{made.slug}/projects/AP-A").text)
    assert "No hay traducción de este proyecto a su idioma" in page
    client.set_cookie("pbvote_lang", "en")
    assert "No translation" not in client.get(f"/cycles/{made.slug}/projects/AP-A").text
