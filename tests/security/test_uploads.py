"""ASVS 4.0.3 V12.1.1 (no large files that fill storage or deny service), V12.2.1 (files are
checked against their expected type), V12.4.1/V12.5.2 (stored outside the web root and served
as inert content), V13.1.x (request size).

Project images are covered in tests/web/test_setup_pages.py (test_project_crud_with_image_upload:
5 MB → 413, GIF/SVG/truncated PNG → 415, EXIF stripped) and the staff-only roll limit in
test_a_roll_larger_than_the_general_upload_limit_is_accepted_from_staff. Here: the general body
limit on every kind of form, idea photos, the roll file's own limit and content checks.
"""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from pbvote.infra.extensions import db
from pbvote.models import Proposal, RollEntry
from tests.proposal_helpers import make_intake_cycle, png_bytes, sign_in_by_email, token
from tests.security.helpers import committed_cycle
from tests.staff_helpers import login, make_account

IDEA = {"title": "Light the underpass", "description": "It is dark.", "category": "Street lighting",
        "district": "approval", "location": "Mill Road", "cost_estimate": "15000"}


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_body_over_the_general_limit_is_refused_with_413(app):
    committed_cycle(app)
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit <= 16 * 1024 * 1024
    client = app.test_client()
    page_token = token(client, "/sign-in")
    for path in ("/sign-in", "/staff/login", "/cycles/test-cycle/vote/approval/verify"):
        response = client.post(path, data={"csrf_token": page_token,
                                           "email": "x" * (limit + 10)})
        assert response.status_code == 413, (path, response.status_code)
        assert "too large" in response.text


def _send_idea(client, photo):
    return client.post("/cycles/test-cycle/ideas/new", data={
        **IDEA, "csrf_token": token(client, "/cycles/test-cycle/ideas/new"), "photo": photo},
        content_type="multipart/form-data")


def test_idea_photos_are_size_and_content_checked(app):
    with app.app_context():
        make_intake_cycle()
    resident = app.test_client()
    sign_in_by_email(resident, "ada@example.org")
    too_big = _send_idea(resident, (io.BytesIO(b"\x89PNG" + b"0" * (5 * 1024 * 1024 + 10)),
                                    "big.png"))
    assert too_big.status_code in (413, 422) and "5 MB" in too_big.text
    for data, name in ((b"GIF89a" + b"\0" * 64, "a.gif"),
                       (b"<svg onload=alert(1)></svg>", "x.png"),
                       (b"<html><script>alert(1)</script>", "x.jpg"),
                       (png_bytes()[:30], "cut.png")):
        refused = _send_idea(resident, (io.BytesIO(data), name))
        assert 400 <= refused.status_code < 500 and "JPEG" in refused.text, name
    assert _count(app, Proposal) == 0
    over_limit = _send_idea(resident, (io.BytesIO(b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1)),
                                       "huge.png"))
    assert over_limit.status_code == 413
    assert _count(app, Proposal) == 0
    accepted = _send_idea(resident, (io.BytesIO(png_bytes()), "ok.png"))
    assert accepted.status_code == 302
    proposal_id = int(re.search(r"/my/ideas/(\d+)", accepted.headers["Location"]).group(1))
    photo = resident.get(f"/ideas/{proposal_id}/photo")
    assert photo.mimetype == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in photo.headers["Content-Security-Policy"]


def _staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def test_the_roll_upload_has_its_own_limit_even_for_staff(app, monkeypatch):
    from pbvote.web import setup as setup_pages

    committed_cycle(app)
    staff = _staff(app)
    monkeypatch.setattr(setup_pages, "ROLL_UPLOAD_MAX_BYTES", 64 * 1024)
    page_token = token(staff, "/staff/cycles/test-cycle/roll")
    response = staff.post("/staff/cycles/test-cycle/roll", data={
        "csrf_token": page_token, "file": (io.BytesIO(b"a,b\n" + b"x" * 70_000), "roll.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_roll_file_that_is_not_csv_text_is_refused_and_imports_nothing(app):
    committed_cycle(app)
    staff = _staff(app)
    before = _count(app, RollEntry)
    for data in (png_bytes(), b"\xff\xfe\x00l\x00a\x00s\x00t", b"PK\x03\x04" + bytes(range(256))):
        page_token = token(staff, "/staff/cycles/test-cycle/roll")
        upload = staff.post("/staff/cycles/test-cycle/roll", data={
            "csrf_token": page_token, "file": (io.BytesIO(data), "roll.csv")},
            content_type="multipart/form-data")
        if upload.status_code == 302:  # stashed: the preview must refuse it clearly
            preview = staff.get(upload.headers["Location"])
            assert 400 <= preview.status_code < 500, preview.status_code
            assert "Import: apply" not in preview.text
        else:
            assert 400 <= upload.status_code < 500
    assert _count(app, RollEntry) == before
