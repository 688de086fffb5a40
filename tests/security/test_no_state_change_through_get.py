"""ASVS 4.0.3 V4.2.2 / V13.1.x: no state change through GET, and a POST without a CSRF token
(V4.2.2, V3.5.x) is refused with 400 and changes nothing.

Every route in app.url_map is walked as each kind of visitor; a fingerprint of every table
(row counts and a hash of every row, so chain heads too) is taken before and after.

One documented exception: the first staff visit to the set-up overview of a cycle whose
voting opened *by date* stores that cycle's manifest and logs "voting.opened" (see
pbvote/web/setup.py overview). Accepted: the configuration is frozen from the opening date
(every change is refused with 409 from then on), so storing it later records the same
configuration; it happens once, only for staff, and
test_the_overview_freeze_is_the_only_get_write_and_happens_once pins it down.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Chain, Cycle, LogEntry
from tests.security.helpers import (
    _url,
    changed_tables,
    committed_cycle,
    fingerprint,
    visitor_client,
)

ROLES_WALKED = ("anonymous", "voter", "resident", "staff", "auditor", "admin")


def _freeze_by_date(app, made) -> None:
    """The lazy freeze, done up front, so the walk below starts from a frozen cycle."""
    from pbvote.infra.db import write_intent
    from pbvote.services import setup

    with app.app_context(), write_intent():
        setup.freeze_if_due(db.session.get(Cycle, made.cycle_id))
        db.session.commit()


@pytest.mark.parametrize("role", ROLES_WALKED)
def test_no_get_changes_the_database(app, role):
    made = committed_cycle(app)
    _freeze_by_date(app, made)
    client = visitor_client(app, role, made)
    before = fingerprint(app)
    visited = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = _url(app, rule)
        client.get(url)
        visited.append(url)
    after = fingerprint(app)
    assert len(visited) > 60
    assert not changed_tables(before, after), \
        f"GET requests as {role} changed {changed_tables(before, after)}"


@pytest.mark.parametrize("role", ("anonymous", "voter", "staff", "admin"))
def test_every_tokenless_post_is_400_and_changes_nothing(app, role):
    made = committed_cycle(app)
    _freeze_by_date(app, made)
    client = visitor_client(app, role, made)
    before = fingerprint(app)
    wrong = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = _url(app, rule)
        # a plausible form without its token, and a forged token
        for data in ({"confirm": "y", "site": "x"}, {"csrf_token": "forged", "confirm": "y"}):
            status = client.post(url, data=data).status_code
            if status != 400:
                wrong.append(f"POST {rule.endpoint} {url} {sorted(data)}: {status}")
    assert not wrong, "\n".join(wrong)
    assert not changed_tables(before, fingerprint(app))


def test_the_overview_freeze_is_the_only_get_write_and_happens_once(app):
    made = committed_cycle(app)
    staff = visitor_client(app, "staff", made)
    before = fingerprint(app)
    assert staff.get("/staff/cycles/test-cycle/").status_code == 200
    after = fingerprint(app)
    assert changed_tables(before, after) == ["chain", "cycle", "log_entry"]
    with app.app_context():
        cycle = db.session.get(Cycle, made.cycle_id)
        assert cycle.manifest_hash and cycle.manifest_json
        entries = db.session.scalars(select(LogEntry).join(Chain).where(
            Chain.id == cycle.chain_id).order_by(LogEntry.position.desc())).all()
        assert entries[0].kind == "voting.opened", entries[0].kind
    assert after["log_entry"][0] == before["log_entry"][0] + 1
    assert staff.get("/staff/cycles/test-cycle/").status_code == 200
    assert not changed_tables(after, fingerprint(app))
