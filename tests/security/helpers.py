"""Shared pieces of the security suite: a fingerprint of the whole database and visitors of
each role (reusing tests/web/test_access.py's URL values and voter session)."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.factories import TestCycle, make_cycle
from tests.staff_helpers import login, make_account, sign_in_resident
from tests.web.test_access import VALUES, _url, _voter_session  # noqa: F401 - re-exported


def fingerprint(app) -> dict[str, tuple[int, str]]:
    """table → (row count, SHA-256 of every row in primary-key order): any write shows."""
    result = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = db.session.execute(select(table).order_by(*order)).all()
            digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            result[table.name] = (len(rows), digest)
        db.session.rollback()
    return result


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


def committed_cycle(app, slug: str = "test-cycle", voting: str = "open") -> TestCycle:
    with app.app_context(), write_intent():
        made = make_cycle(slug, voting=voting)
        db.session.commit()
    return made


def visitor_client(app, role: str, made: TestCycle):
    """A test client signed in as `role` (see tests/web/test_access.py ROLES)."""
    client = app.test_client()
    if role == "voter":
        _voter_session(client, made)
    elif role != "anonymous":
        with app.app_context():
            account = make_account(role)
        if role == "resident":
            sign_in_resident(client, account[0])
        else:
            login(client, account[1], account[2], account[3])
    return client
