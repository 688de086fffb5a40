"""Project and proposal texts in other languages: staff enter them (logged, outside the frozen
manifest), residents read them in their language, and the original shows where none exists."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pbvote.db import write_intent
from pbvote.extensions import db
from pbvote.models import ContentTranslation, LogEntry, Project
from pbvote.services import setup
from pbvote.services.cycles import get_cycle, manifest_hash
from pbvote.services.demo import SPANISH_TITLES, seed_demo
from pbvote.services.translations import translated_text
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account


@pytest.fixture
def made(app):
    with app.app_context(), write_intent():
        result = make_cycle()
        db.session.commit()
    return result


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def _page(made) -> str:
    return f"/staff/cycles/{made.slug}/projects/AP-A/translations"


def _original_title(app, made) -> str:
    with app.app_context():
        return db.session.scalar(select(Project.title).where(Project.code == "AP-A"))


def _save(staff, made, **fields):
    page = staff.get(_page(made))
    assert page.status_code == 200
    return staff.post(_page(made), data={"csrf_token": csrf_token(page.text), **fields})


def test_staff_enter_a_spanish_title_residents_read_it_and_others_get_the_original(
        app, made, staff):
    original = _original_title(app, made)
    with app.app_context():
        manifest_before = manifest_hash(get_cycle(made.slug))
    response = _save(staff, made, es_title="Alumbrado en la plaza", es_summary="",
                     zh_Hans_title="")
    assert response.status_code == 303
    assert "Alumbrado en la plaza" in staff.get(response.headers["Location"]).text

    resident = app.test_client()
    english = resident.get(f"/cycles/{made.slug}").text  # every district has a "Project A"
    resident.set_cookie(LANGUAGE_COOKIE, "es")
    page = resident.get(f"/cycles/{made.slug}")
    assert "Alumbrado en la plaza" in page.text
    assert page.text.count(original) == english.count(original) - 1
    resident.set_cookie(LANGUAGE_COOKIE, "zh_Hans")  # no Chinese title: the original
    chinese = resident.get(f"/cycles/{made.slug}").text
    assert chinese.count(original) == english.count(original)
    assert "Alumbrado en la plaza" not in english + chinese

    with app.app_context():
        entry = db.session.scalars(select(LogEntry).order_by(LogEntry.id.desc())).first()
        assert "project.translated" in entry.entry_json
        assert "Alumbrado en la plaza" in entry.entry_json and '"es.title"' in entry.entry_json
        # a translation is not configuration: the frozen manifest is unchanged
        assert manifest_hash(get_cycle(made.slug)) == manifest_before


def test_emptying_a_translation_removes_it(app, made, staff):
    _save(staff, made, es_title="Alumbrado")
    assert _save(staff, made, es_title="  ").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0


def test_a_too_long_translation_is_refused_and_nothing_is_saved(app, made, staff):
    response = _save(staff, made, es_title="x" * 201, es_summary="Resumen")
    assert response.status_code == 422 and "200" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0


def test_only_staff_reach_the_translation_page(app, made):
    assert app.test_client().get(_page(made)).status_code == 302
    with app.app_context():
        account = make_account("auditor")
    auditor = app.test_client()
    login(auditor, *account[1:])
    assert auditor.get(_page(made)).status_code == 403


def test_fallback_outside_a_request_and_for_plain_objects(app, made):
    with app.app_context(), write_intent():
        project = db.session.scalar(select(Project).where(Project.code == "AP-A"))
        db.session.add(ContentTranslation(object_type="project", object_id=project.id,
                                          locale="es", field="summary", text="Resumen"))
        db.session.flush()
        assert translated_text(project, "summary", "es") == "Resumen"
        assert translated_text(project, "title", "es") == project.title  # none: original
        assert translated_text(project, "summary", "en") == project.summary
        assert translated_text({"title": "Plain"}, "title", "es") == "Plain"
        db.session.rollback()


def test_deleting_a_project_deletes_its_translations(app, staff):
    with app.app_context(), write_intent():
        made = make_cycle(voting="not_yet")
        db.session.commit()
    _save(staff, made, es_title="Alumbrado")
    with app.app_context(), write_intent():
        cycle = get_cycle(made.slug)
        project = next(p for d in cycle.districts for p in d.projects if p.code == "AP-A")
        setup.delete_project(cycle, project, "test")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ContentTranslation)) == 0


def test_demo_projects_carry_spanish_titles(app):
    with app.app_context(), write_intent():
        seed_demo(voters=4)
        db.session.commit()
    client = app.test_client()
    client.set_cookie(LANGUAGE_COOKIE, "es")
    page = client.get("/cycles/safer-streets-2027")
    assert page.status_code == 200
    assert SPANISH_TITLES["NB-1"] in page.text and "LED street lighting on Harbor Avenue" \
        not in page.text
