"""Issue #21 item 9, every form: a control character (NUL, U+202E and the like) in a typed
text is an error of its own field, shown beside it on the form (422), and nothing is stored.
Before, most staff and resident forms gave a generic 422 page naming the field and lost
what else was typed."""
from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

import pbvote.web
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import PaperSerial
from pbvote.web.forms.base import BaseForm
from pbvote.web.limits import FIELD_CHECKED_ENDPOINTS
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.proposal_helpers import sign_in_by_email
from tests.security.helpers import changed_tables, fingerprint
from tests.staff_helpers import login, make_account
from tests.web.test_delivery_pages import setup as delivery_setup  # noqa: F401 (a fixture)

BASE = "/staff/cycles/test-cycle"
BAD = ["\x00", "\u202e"]


def _form_classes() -> set[type]:
    for module in pkgutil.walk_packages(pbvote.web.__path__, "pbvote.web."):
        importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("pbvote.web") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_form_class_in_pbvote_web_derives_from_the_base_form(app):
    classes = _form_classes()
    assert len(classes) > 20  # the walk found the forms (BaseForm itself among them)
    with app.test_request_context("/", method="POST"):
        for form_class in classes:
            form = form_class(meta={"csrf": False})
            assert isinstance(form, BaseForm), form_class.__qualname__


#: POST endpoints that store no typed text (buttons, ticks, choices from a list, numbers,
#: PINs, files, tokens): the app-wide refusal (a 422 page naming the field) is all they need
NO_TYPED_TEXT = {
    "admin.change_role", "admin.deactivate", "admin.reactivate", "admin.reset_totp",
    "admin.unlock", "audit.verify_now", "auth.logout", "board.check",
    "declarations.reinstate", "delivery.confirm_follow_post", "delivery.unsubscribe_post",
    "delivery_staff.close_round",
    "delivery_staff.confirm_values", "delivery_staff.moderate", "delivery_staff.open_tracking",
    "delivery_staff.project_progress", "delivery_staff.revoke_editor",
    "delivery_staff.upload_values", "desk.cancel_pass", "desk.check_in",
    "discussion.report", "discussion.report_on_project",
    "kiosk.ballot", "kiosk.cast", "kiosk.exit_kiosk",
    "kiosk.finish", "kiosk.leave", "kiosk.unlock", "my_ideas.support", "resident_auth.code",
    "results_notice.confirm_post", "results_notice.unsubscribe_post",
    "resident_auth.sign_out", "staff_results.confirm_publication",
    "staff_results.request_publication", "staff_results.run_tally",
    "staff_setup.archive_cycle", "staff_setup.close_voting", "staff_setup.delete_cycle",
    "staff_setup.delete_district", "staff_setup.delete_project", "staff_setup.map_outlines",
    "staff_setup.open_voting", "staff_setup.restore_cycle", "staff_setup.roll_codes",
    "staff_setup.roll_preview", "staff_setup.roll_upload", "staff_setup.schedule_voting",
    "vote.ballot", "vote.cast", "vote.declare_confirm", "vote.leave",
}


def test_every_post_taking_typed_text_shows_a_control_character_beside_its_field(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert not NO_TYPED_TEXT - posts, "listed endpoints that no longer exist"
    unchecked = sorted(posts - NO_TYPED_TEXT - set(FIELD_CHECKED_ENDPOINTS))
    assert unchecked == []


def _field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>',
                      html, re.S)
    assert found, f"no error beside {field_id}"
    return found.group(1)


def _code(bad: str) -> str:
    return f"U+{ord(bad):04X}"


@pytest.fixture
def made(app):
    with app.app_context(), write_intent():
        result = make_cycle(voting="not_yet")
        db.session.commit()
    return result


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def _refused_beside(app, response, field_id, bad, before):
    assert response.status_code == 422, response.status_code
    assert _code(bad) in _field_error(response.text, field_id)
    assert "<li>" + field_id + ": " not in response.text  # not the generic page
    assert not changed_tables(before, fingerprint(app))


@pytest.mark.parametrize("bad", BAD)
def test_staff_sign_in(app, bad):
    client = app.test_client()
    page = client.get("/staff/login")
    before = fingerprint(app)
    response = client.post("/staff/login", data={"csrf_token": csrf_token(page.text),
                                                  "email": f"a{bad}@example.org",
                                                  "password": "x"})
    _refused_beside(app, response, "email", bad, before)
    assert 'value="a' in response.text  # the form again, with what was typed


@pytest.mark.parametrize("bad", BAD)
def test_project_edit_and_phases(app, made, staff, bad):
    page = staff.get(f"{BASE}/projects/AP-A")
    before = fingerprint(app)
    response = staff.post(f"{BASE}/projects/AP-A", data={
        "csrf_token": csrf_token(page.text), "code": "AP-A", "title": f"Lamps{bad}",
        "cost": "100", "summary": "Kept"})
    _refused_beside(app, response, "title", bad, before)
    assert 'value="Kept"' in response.text
    page = staff.get(f"{BASE}/phases")
    response = staff.post(f"{BASE}/phases", data={"csrf_token": csrf_token(page.text),
                                                  "voting_starts_at": f"2030-01-01T09:00{bad}"})
    _refused_beside(app, response, "voting_starts_at", bad, before)


@pytest.mark.parametrize("bad", BAD)
def test_desk_look_up(app, made, staff, bad):
    page = staff.get(f"{BASE}/desk/")
    before = fingerprint(app)
    response = staff.post(f"{BASE}/desk/lookup", data={"csrf_token": csrf_token(page.text),
                                                       "last_name": f"Tes{bad}ter",
                                                       "postcode_or_roll": "AB1"})
    _refused_beside(app, response, "last_name", bad, before)
    assert 'value="AB1"' in response.text


@pytest.mark.parametrize("bad", BAD)
def test_paper_ballot_entry(app, staff, bad):
    with app.app_context(), write_intent():
        make_cycle()
        db.session.commit()
    page = staff.get(f"{BASE}/paper/")
    printed = staff.post(f"{BASE}/paper/print", data={
        "csrf_token": csrf_token(page.text), "district": "approval", "site": "Library",
        "count": "1"})
    assert printed.status_code == 302
    with app.app_context():
        serial = db.session.scalar(select(PaperSerial.serial))
    page = staff.get(f"{BASE}/paper/enter", query_string={"serial": serial})
    before = fingerprint(app)
    response = staff.post(f"{BASE}/paper/enter", data={
        "csrf_token": csrf_token(page.text), "serial": serial, "outcome": "spoiled",
        "reason": f"Torn{bad}"})
    _refused_beside(app, response, "reason", bad, before)


@pytest.mark.parametrize("bad", BAD)
def test_comment_on_a_project(app, client, made, bad):
    sign_in_by_email(client, "neighbour@example.org")
    page = client.get("/cycles/test-cycle/projects/AP-A")
    before = fingerprint(app)
    response = client.post("/cycles/test-cycle/projects/AP-A/comments", data={
        "csrf_token": csrf_token(page.text), "body": f"Good idea{bad}"})
    _refused_beside(app, response, "comment-body", bad, before)
    assert "Good idea" in response.text


@pytest.mark.parametrize("bad", BAD)
def test_translation(app, made, staff, bad):
    path = f"{BASE}/projects/AP-A/translations"
    page = staff.get(path)
    before = fingerprint(app)
    response = staff.post(path, data={"csrf_token": csrf_token(page.text),
                                      "es_title": f"Alumbrado{bad}", "zh_Hans_title": "照明"})
    _refused_beside(app, response, "es_title", bad, before)
    assert "照明" in response.text


@pytest.mark.parametrize("bad", BAD)
def test_delivery_update(app, delivery_setup, bad):  # noqa: F811
    editor = app.test_client()
    login(editor, *delivery_setup["editor"][1:])
    base = f"/staff/cycles/{delivery_setup['slug']}/delivery/projects/{delivery_setup['code']}"
    page = editor.get(base)
    before = fingerprint(app)
    response = editor.post(f"{base}/update", data={"csrf_token": csrf_token(page.text),
                                                   "text": f"Lamps{bad} arrived"},
                           content_type="multipart/form-data")
    _refused_beside(app, response, "text", bad, before)
