"""Form size and field-count limits before parsing (issue #21 item 10), and control
characters refused with a field error everywhere (item 9), on both engines."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from pbvote.cli.setup import import_roll
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import RollEntry
from pbvote.rules import sign_in
from pbvote.rules.roll_csv import read_roll_text
from pbvote.web.limits import DEFAULT_FORM
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account
from tests.web.test_access import _voter_session


@pytest.fixture
def open_cycle(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    return made


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


# ----- item 10: limits before parsing ------------------------------------------------------
def test_an_anonymous_8_mb_form_is_refused_unparsed(app, client):
    body = b"email=" + b"a" * (8 * 1024 * 1024 - 10)
    response = client.post("/sign-in", data=body,
                           content_type="application/x-www-form-urlencoded")
    # before: parsed whole (about a second of CPU), then refused for its CSRF token (400)
    assert response.status_code == 413
    assert "too large for this page" in response.text


def test_a_ballot_with_thousands_of_fields_is_refused_unparsed(app, open_cycle):
    client = app.test_client()
    _voter_session(client, open_cycle)
    page = client.get("/cycles/test-cycle/vote/ballot")
    assert page.status_code == 200
    token = csrf_token(page.text)
    fields = "&".join(f"r{i}=" for i in range(DEFAULT_FORM.fields + 1))
    response = client.post("/cycles/test-cycle/vote/ballot",
                           data=f"csrf_token={token}&{fields}",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "too many fields for this page" in response.text
    # 200,000 rank fields (6.9 s of a worker before) are refused for their size
    many = "&".join(f"rank-AP-A{i}=1" for i in range(200_000))
    assert client.post("/cycles/test-cycle/vote/ballot", data=many,
                       content_type="application/x-www-form-urlencoded").status_code == 413
    # an ordinary ballot still goes through
    fine = client.post("/cycles/test-cycle/vote/ballot",
                       data={"csrf_token": token, "approve": ["AP-A"]})
    assert fine.status_code in (200, 302, 422)


def test_a_multipart_form_with_too_many_parts_is_refused(app, client):
    data = {f"f{i}": "x" for i in range(DEFAULT_FORM.fields + 10)}
    response = client.post("/sign-in", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


def test_an_upload_route_keeps_its_larger_limit(app, staff, open_cycle):
    page = staff.get("/staff/cycles/test-cycle/districts/approval/projects/new")
    assert page.status_code == 200
    image = io.BytesIO(b"\x89PNG" + b"0" * (1024 * 1024))  # 1 MB: not a valid image
    response = staff.post("/staff/cycles/test-cycle/districts/approval/projects/new",
                          data={"csrf_token": csrf_token(page.text), "image": (image, "a.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 422  # read and judged, not refused for its size


# ----- item 9: control characters --------------------------------------------------------
@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\x1b", "\x7f"])
def test_resident_email_with_a_control_character_is_refused(app, client, bad):
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf_token(page.text),
                                             "email": f"ann{bad}@example.org"})
    assert response.status_code == 422
    assert "control character" in _field_error(response.text, "email")
    assert sign_in.email_problem(f"ann{bad}@example.org")


def _field_error(html: str, field_id: str) -> str:
    """The text of the error shown beside a field (macros.html: <p id="<field>-error">)."""
    found = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>',
                      html, re.S)
    assert found, f"no error beside {field_id}"
    return found.group(1)


def test_control_characters_are_field_errors_beside_the_field(app, staff, open_cycle):
    """Forms built on BaseForm show the refusal beside the field, on the form itself (before:
    a generic error page, and whatever else was typed was lost)."""
    page = staff.get("/staff/cycles/new")
    response = staff.post("/staff/cycles/new", data={"csrf_token": csrf_token(page.text),
                                                     "name": "Safer\x00Streets",
                                                     "city_name": "Riverton"})
    assert response.status_code == 422
    assert "U+0000" in _field_error(response.text, "name")
    assert 'value="Riverton"' in response.text  # the rest of the form is kept
    page = staff.get("/staff/cycles/test-cycle/settings")
    response = staff.post("/staff/cycles/test-cycle/settings", data={
        "csrf_token": csrf_token(page.text), "name": "Test", "description": "a\u202eb"})
    assert response.status_code == 422
    assert "U+202E" in _field_error(response.text, "description")
    page = staff.get("/staff/cycles/test-cycle/districts/new")
    response = staff.post("/staff/cycles/test-cycle/districts/new", data={
        "csrf_token": csrf_token(page.text), "name": "North\x1fside", "budget": "1000",
        "ballot_kind": "approval"})
    assert response.status_code == 422
    assert "U+001F" in _field_error(response.text, "name")

    voter = app.test_client()
    page = voter.get("/cycles/test-cycle/vote/approval/verify")
    response = voter.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": "Tester\u202e1", "roll-birth_date": "1990-01-01",
        "roll-postcode_or_roll": "AB1"})
    assert response.status_code == 422
    assert "U+202E" in _field_error(response.text, "roll-last_name")
    assert 'value="AB1"' in response.text
    page = voter.get("/cycles/test-cycle/vote/approval/verify")
    response = voter.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "code", "code-csrf_token": csrf_token(page.text), "code-code": "7K3M\x1bQ9XD"})
    assert response.status_code == 422
    assert "U+001B" in _field_error(response.text, "code-code")


def test_other_forms_still_refuse_control_characters_naming_the_field(app, open_cycle):
    """The backstop for forms that store no typed text (the board's receipt check): a 422
    page naming the field."""
    anonymous = app.test_client()
    page = anonymous.get("/cycles/test-cycle/board/check")
    response = anonymous.post("/cycles/test-cycle/board/check", data={
        "csrf_token": csrf_token(page.text), "receipt": "AB\x00CD"})
    assert response.status_code == 422
    assert "<li>receipt: " in response.text and "U+0000" in response.text
    # on a page whose form checks its own fields, a field it does not read is still refused
    page = anonymous.get("/sign-in")
    response = anonymous.post("/sign-in", data={"csrf_token": csrf_token(page.text),
                                                "email": "ann@example.org",
                                                "next": "/cycles\u202e"})
    assert response.status_code == 422
    assert "<li>next: " in response.text and "U+202E" in response.text


def test_roll_csv_with_nul_is_refused_line_by_line(app, staff, open_cycle):
    text = ("last_name,birth_date,postcode,district\n"
            "Lee,1980-01-01,AB1,approval\n"
            "Ki\x00m,1981-02-02,AB2,approval\n")
    rows, errors = read_roll_text(text, ["approval"])
    assert len(rows) == 1 and [e.line for e in errors] == [3]
    assert "U+0000" in errors[0].message and "last name" in errors[0].message.lower()
    page = staff.get("/staff/cycles/test-cycle/roll")
    uploaded = staff.post("/staff/cycles/test-cycle/roll", data={
        "csrf_token": csrf_token(page.text),
        "file": (io.BytesIO(text.encode()), "roll.csv")}, content_type="multipart/form-data")
    assert uploaded.status_code == 302
    preview = staff.get(uploaded.headers["Location"])
    assert preview.status_code == 422
    assert re.search(r"line 3: .*U\+0000", preview.text)
    assert "Import: apply" not in preview.text


def test_roll_csv_with_nul_fails_in_the_cli_without_a_traceback(app, open_cycle, tmp_path):
    path = tmp_path / "roll.csv"
    path.write_text("last_name,birth_date,postcode,district\nKi\x00m,1981-02-02,AB2,approval\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(import_roll, ["test-cycle", str(path), "--yes"])
    assert result.exit_code == 1, result.output
    assert "U+0000" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RollEntry)
                                 .where(RollEntry.roll_key_hash.is_not(None))) == 0
