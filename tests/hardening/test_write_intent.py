"""A state-changing request's first transaction must already carry the write intent.

On SQLite that is what makes it BEGIN IMMEDIATE; a POST whose first query ran in a plain
(deferred) BEGIN fails with "database is locked" as soon as another worker writes. The vote
blueprint queries the cycle in its URL value preprocessor, before any before_request hook,
and a gthread worker's thread keeps the flag of its previous request.
"""
from __future__ import annotations

import pytest
from flask import request
from sqlalchemy import event

from pbvote.db import WRITE_INTENT, write_intent
from pbvote.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_cycle

pytestmark = pytest.mark.db


def test_post_after_get_begins_with_write_intent(app, client):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    begins: list[tuple[str, bool]] = []

    def record(connection):
        begins.append((request.method, WRITE_INTENT.get()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "begin", record)
    try:
        page = client.get(f"/cycles/{made.slug}/vote/approval/verify")  # leaves the flag False
        person = made.people["approval"]
        response = client.post(f"/cycles/{made.slug}/vote/approval/verify", data={
            "method": "roll", "roll-csrf_token": csrf_token(page.text),
            "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
            "roll-postcode_or_roll": person.postcode})
    finally:
        event.remove(engine, "begin", record)
    assert response.status_code == 302
    assert ("GET", False) in begins
    posts = [intent for method, intent in begins if method == "POST"]
    assert posts and all(posts), begins
