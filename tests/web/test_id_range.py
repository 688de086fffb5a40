"""Ids beyond what the database holds give 404, never a 500 (issue #21 item 8).

Every route with an ``<int:…>`` argument is asked, as an anonymous visitor and as an
administrator, with ids just past PostgreSQL's INTEGER (2^31), past SQLite's (2^63) and
with a number far too long for any column; on both engines.
"""
from __future__ import annotations

import pytest
from flask import url_for

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account
from tests.web.test_access import VALUES

HUGE_IDS = [2**31, 2**63, 10**30]


def _int_arguments(rule) -> list[str]:
    return [name for name, converter in rule._converters.items()
            if type(converter).__name__ == "DatabaseIdConverter"]


def _urls(app):
    for rule in app.url_map.iter_rules():
        names = _int_arguments(rule)
        if not names:
            continue
        for huge in HUGE_IDS:
            values = {arg: VALUES[arg] for arg in rule.arguments if arg not in names}
            with app.test_request_context():
                url = url_for(rule.endpoint, **values, **{n: 1 for n in names})
            # put the huge id where url_for wrote 1 (the converter would refuse to build it)
            segments = url.split("/")
            positions = [i for i, part in enumerate(segments) if part == "1"]
            for i in positions[-len(names):]:
                segments[i] = str(huge)
            yield rule, "/".join(segments)


def test_there_are_routes_with_ids(app):
    assert len({rule.endpoint for rule, _ in _urls(app)}) >= 10


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_ids_beyond_the_database_range_give_404(app, role):
    with app.app_context(), write_intent():
        make_cycle()
        db.session.commit()
        account = make_account(role) if role != "anonymous" else None
    client = app.test_client()
    if account is not None:
        login(client, account[1], account[2], account[3])
    problems = []
    for rule, url in _urls(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method)
            if response.status_code >= 500 or response.status_code == 200:
                problems.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
            elif method == "GET" and response.status_code != 404 and role == "admin":
                problems.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert not problems, "\n".join(problems)
