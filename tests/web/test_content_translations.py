"""Project and idea texts in other languages: staff enter them (logged, outside the frozen
manifest) through one form and service for both, residents read them in their language, and
the original shows where none exists."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, ContentTranslation, Cycle, LogEntry, Project
from pbvote.services import proposals, setup
from pbvote.services.cycles import get_cycle, manifest_hash
from pbvote.services.demo import SPANISH_TITLES, seed_demo
from pbvote.services.translations import translated_text
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.proposal_helpers import XSS, make_intake_cycle
from tests.staff_helpers import login, make_account, sign_in_resident


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


def _post_form(staff, path: str, **fields):
    page = staff.get(path)
    assert page.status_code == 200
    return staff.post(path, data={"csrf_token": csrf_token(page.text), **fields})


def _save(staff, made, **fields):
    return _post_form(staff, _page(made), **fields)


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
    assert re.search(r'id="es_title"[^>]*aria-invalid="true"', response.text)
    assert not re.search(r'id="es_summary"[^>]*aria-invalid', response.text)
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
        setup.delete_project(cycle, project, "test", confirmed=True)
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


# Ideas: moderators translate them from the review page; the board and the idea page show
# the translation with the author's text as fallback.

TITLE, DESCRIPTION = "Light the underpass", "It is dark.\nPeople avoid it."


@pytest.fixture
def idea(app) -> int:
    with app.app_context():
        cycle_id = make_intake_cycle()
        author_id = make_account("resident")[0]
        with write_intent():
            proposal = proposals.submit(
                db.session.get(Cycle, cycle_id), db.session.get(Account, author_id),
                {"title": TITLE, "description": DESCRIPTION, "category": "Street lighting",
                 "district": "approval", "location": "Mill Road", "cost_estimate": ""})
            db.session.commit()
            return proposal.id


def _idea_page(idea: int) -> str:
    return f"/staff/cycles/test-cycle/ideas/{idea}/translations"


def _save_idea(staff, idea: int, **fields):
    return _post_form(staff, _idea_page(idea), **fields)


def _reader(app, language: str | None = None):
    client = app.test_client()
    if language:
        client.set_cookie(LANGUAGE_COOKIE, language)
    return client


def _translation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ContentTranslation))


def test_staff_translate_an_idea_from_its_review_page_and_residents_read_it(app, idea, staff):
    review = staff.get(f"/staff/ideas/{idea}")
    assert f'href="{_idea_page(idea)}"' in review.text
    response = _save_idea(staff, idea, es_title="Iluminar el paso inferior",
                          es_description="Está oscuro.\nLa gente lo evita.", zh_Hans_title="")
    assert response.status_code == 303
    assert "Iluminar el paso inferior" in staff.get(response.headers["Location"]).text

    board, detail = "/cycles/test-cycle/ideas", f"/cycles/test-cycle/ideas/{idea}"
    spanish = _reader(app, "es")
    assert f"#{idea} Iluminar el paso inferior" in spanish.get(board).text
    page = spanish.get(detail).text
    assert "Iluminar el paso inferior" in page and "Está oscuro." in page
    assert TITLE not in page and "It is dark." not in page
    chinese = _reader(app, "zh_Hans")  # no Chinese translation: the author's text
    assert f"#{idea} {TITLE}" in chinese.get(board).text
    page = chinese.get(detail).text
    assert TITLE in page and "It is dark." in page
    english = _reader(app).get(detail).text
    assert TITLE in english and "Iluminar" not in english

    with app.app_context():
        entry = db.session.scalars(select(LogEntry).order_by(LogEntry.id.desc())).first()
        assert entry.kind == "proposal.translated"
        assert '"es.title"' in entry.entry_json and '"es.description"' in entry.entry_json


def test_an_emptied_field_removes_that_translation_only(app, idea, staff):
    assert _save_idea(staff, idea, es_title="Iluminar", es_description="Oscuro",
                      zh_Hans_title="照亮地下通道").status_code == 303
    assert _save_idea(staff, idea, es_title="Iluminar", es_description="",
                      zh_Hans_title="  ").status_code == 303
    with app.app_context():
        left = db.session.execute(select(ContentTranslation.locale, ContentTranslation.field,
                                         ContentTranslation.object_type)).all()
    assert left == [("es", "title", "proposal")]
    page = _reader(app, "es").get(f"/cycles/test-cycle/ideas/{idea}").text
    assert "Iluminar" in page and "It is dark." in page  # description falls back


@pytest.mark.parametrize("fields, problem", [
    ({"es_title": "x" * 201, "es_description": "Bien"}, "at most 200 characters"),
    ({"es_title": "Bien", "es_description": "x" * 20001}, "at most 20,000 characters"),
    ({"es_title": "Bien", "fr_title": "Éclairer le passage"}, "title in fr cannot be translated"),
    ({"es_title": "Bien", "es_summary": "Resumen"}, "summary in es cannot be translated"),
])
def test_bad_translations_are_refused_with_a_message_and_nothing_is_saved(
        app, idea, staff, fields, problem):
    response = _save_idea(staff, idea, **fields)
    assert response.status_code == 422
    assert problem in response.text and "nothing was saved" in response.text
    assert 'value="Bien"' in response.text or ">Bien</textarea>" in response.text  # kept
    assert _translation_count(app) == 0


def test_the_project_page_refuses_an_unsupported_language_the_same_way(app, staff):
    with app.app_context():
        make_intake_cycle()
    path = "/staff/cycles/test-cycle/projects/AP-A/translations"
    page = staff.get(path)
    response = staff.post(path, data={"csrf_token": csrf_token(page.text),
                                      "de_title": "Beleuchtung"})
    assert response.status_code == 422 and "title in de cannot be translated" in response.text
    assert _translation_count(app) == 0


def test_translations_with_markup_stay_text_everywhere(app, idea, staff):
    script, img = XSS
    assert _save_idea(staff, idea, es_title=script, es_description=img).status_code == 303
    pages = [staff.get(_idea_page(idea)).text]
    spanish = _reader(app, "es")
    pages += [spanish.get("/cycles/test-cycle/ideas").text,
              spanish.get(f"/cycles/test-cycle/ideas/{idea}").text]
    for text in pages:
        assert script not in text and "<img src=x" not in text
        assert "&lt;script&gt;" in text or "&#34;&gt;&lt;img" in text


def test_only_staff_may_translate_and_only_with_a_csrf_token(app, idea, staff):
    assert _reader(app).get(_idea_page(idea)).status_code == 302
    for role in ("auditor", "resident"):
        with app.app_context():
            account = make_account(role)
        client = app.test_client()
        if role == "resident":
            sign_in_resident(client, account[0])
        else:
            login(client, *account[1:])
        assert client.get(_idea_page(idea)).status_code == 403
    assert staff.post(_idea_page(idea), data={"es_title": "Sin token"}).status_code == 400
    assert staff.get(f"/staff/cycles/test-cycle/ideas/{idea + 1}/translations") \
        .status_code == 404
    with app.app_context(), write_intent():
        make_cycle("other-cycle")
        db.session.commit()
    assert staff.get(f"/staff/cycles/other-cycle/ideas/{idea}/translations").status_code == 404
    assert _translation_count(app) == 0


def test_hidden_ideas_can_be_translated_but_stay_hidden(app, idea, staff):
    with app.app_context(), write_intent():
        staff_account = db.session.scalars(select(Account).where(Account.role == "staff")).one()
        proposals.hide(proposals.get_proposal(idea), staff_account, "Spam")
        db.session.commit()
    assert _save_idea(staff, idea, es_title="Iluminar").status_code == 303
    spanish = _reader(app, "es")
    assert spanish.get(f"/cycles/test-cycle/ideas/{idea}").status_code == 404
    assert "Iluminar" not in spanish.get("/cycles/test-cycle/ideas").text


def test_the_staff_page_speaks_spanish(app, idea, staff):
    staff.set_cookie(LANGUAGE_COOKIE, "es")
    page = staff.get(_idea_page(idea)).text
    assert f"Traducciones de la idea n.º {idea}" in page
    assert "Guardar las traducciones" in page
    assert "Translations of" not in page and "To remove a translation" not in page
