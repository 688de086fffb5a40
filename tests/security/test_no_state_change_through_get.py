"""ASVS 4.0.3 V4.2.2 / V13.1.x: no state change through GET, and a POST without a CSRF token
(V4.2.2, V3.5.x) is refused with 400 and changes nothing.

Every route in app.url_map is walked as each kind of visitor; a fingerprint of every table
(row counts and a hash of every row, so chain heads too) is taken before and after.

No exception: voting opens by the clock only for a cycle whose manifest was stored when
staff scheduled it (a POST), so no page has anything to store on a GET
(test_an_unscheduled_cycle_past_its_start_stays_closed_and_its_overview_writes_nothing).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pbvote.infra.db import utcnow, write_intent
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


@pytest.mark.parametrize("role", ROLES_WALKED)
def test_no_get_changes_the_database(app, role):
    made = committed_cycle(app)
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


def test_an_unscheduled_cycle_past_its_start_stays_closed_and_its_overview_writes_nothing(app):
    made = committed_cycle(app, voting="open")
    with app.app_context(), write_intent():  # as if nobody had scheduled it
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.manifest_hash = cycle.manifest_json = None
        db.session.commit()
    staff = visitor_client(app, "staff", made)
    before = fingerprint(app)
    page = staff.get("/staff/cycles/test-cycle/")
    assert page.status_code == 200
    assert "was never scheduled" in page.get_data(as_text=True)
    assert staff.get("/cycles/test-cycle/manifest.json").status_code == 404
    assert not changed_tables(before, fingerprint(app))
    with app.app_context():
        cycle = db.session.get(Cycle, made.cycle_id)
        assert cycle.manifest_hash is None and not cycle.voting_open(utcnow())
        kinds = db.session.scalars(select(LogEntry.kind).join(Chain).where(
            Chain.id == cycle.chain_id)).all()
        assert "voting.opened" not in kinds
