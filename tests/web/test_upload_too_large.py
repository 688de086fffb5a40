"""An image over the size limit comes back to its form with what was typed kept and an error
on the image field, not a bare 413 page (issue #15, staff sign-in and uploads)."""
from __future__ import annotations

import io

from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Project
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account


def test_a_photo_over_the_request_limit_returns_to_the_form_with_the_typing_kept(app):
    with app.app_context(), write_intent():
        make_cycle("uploads", voting="not_yet")
        db.session.commit()
    with app.app_context():
        account = make_account("staff")
    staff = app.test_client()
    login(staff, *account[1:])
    path = "/staff/cycles/uploads/districts/approval/projects/new"
    page = staff.get(path)
    huge = app.config["MAX_CONTENT_LENGTH"] + 2 * 1024 * 1024  # over the whole-request limit
    response = staff.post(path, data={
        "csrf_token": csrf_token(page.text), "code": "AP-Z", "title": "Lights on Mill Road",
        "cost": "50", "summary": "Twelve new lamps",
        "image": (io.BytesIO(b"\x89PNG" + b"0" * huge), "phone-photo.png")},
        content_type="multipart/form-data")
    assert response.status_code in (413, 422)
    assert 'value="Lights on Mill Road"' in response.text
    assert 'value="Twelve new lamps"' in response.text
    assert 'id="image-error"' in response.text and "larger than 5 MB" in response.text
    assert 'href="#image"' in response.text  # the summary links to the field
    with app.app_context():
        assert db.session.scalar(select(Project.id).where(Project.code == "AP-Z")) is None


def test_anonymous_bodies_keep_the_general_limit(app):
    client = app.test_client()
    big = app.config["MAX_CONTENT_LENGTH"] + 10
    response = client.post("/cycles/x/ideas/new", data={"photo": (io.BytesIO(b"0" * big), "p")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
