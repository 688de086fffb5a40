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

from pbvote.infra.db import WRITE_INTENT, write_intent
from pbvote.infra.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_cycle

pytestmark = pytest.mark.db


def test_only_posts_that_write_take_the_write_lock(app, client):
    """Verifying and keeping a draft read only; casting writes and begins IMMEDIATE.

    The GET of the ballot page just before the cast leaves the thread's flag False, so the
    cast's first BEGIN shows whether the flag is set before the blueprint's first query.
    """
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    begins: list[tuple[str, bool]] = []

    def record(connection):
        begins.append((request.endpoint, WRITE_INTENT.get()))

    with app.app_context():
        engine = db.engine
    base = f"/cycles/{made.slug}/vote"
    person = made.people["approval"]
    event.listen(engine, "begin", record)
    try:
        page = client.get(f"{base}/approval/verify")
        assert client.post(f"{base}/approval/verify", data={
            "method": "roll", "roll-csrf_token": csrf_token(page.text),
            "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
            "roll-postcode_or_roll": person.postcode}).status_code == 302
        token = csrf_token(client.get(f"{base}/ballot").text)
        assert client.post(f"{base}/ballot", data={"csrf_token": token,
                                                   "project": ["AP-A"]}).status_code == 302
        assert client.post(f"{base}/cast", data={"csrf_token": token}).status_code == 302
    finally:
        event.remove(engine, "begin", record)
    intent = dict(begins)
    assert begins[-1] == ("vote.cast", True), begins
    assert intent["vote.verify"] is False
    # keeping a draft needs nothing from the session (the cycle's revision is read in
    # autocommit outside it), so it may begin no transaction at all; never an IMMEDIATE one
    assert intent.get("vote.ballot", False) is False
    assert intent["vote.cast"] is True
