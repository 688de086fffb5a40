"""ASVS 4.0.3 V7.1.1, V7.1.2 (no credentials or other sensitive data in logs) for production's
log format: logs are one JSON object per line (LOG_FORMAT = "json"), and the secret scan of
tests/security/log_capture.py runs over those lines: the paths that handle secrets (resident
email sign-in, a failed staff sign-in, letters with access codes, mail through the queue)
leave none in them."""
from __future__ import annotations

import io
import json
import logging

import pytest

from pbvote.infra import logs
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.services import letters
from pbvote.services.cycles import get_cycle
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.job_helpers import run_jobs
from tests.proposal_helpers import make_intake_cycle, sign_in_by_email
from tests.security import log_capture

pytestmark = pytest.mark.db


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    logger = logging.getLogger("pbvote")
    level, propagate = logger.level, logger.propagate
    # Alembic's fileConfig (a migration run earlier in the session) disables every logger
    # that existed then; production configures logging once, before any of that
    ours = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
            if name == "pbvote" or name.startswith("pbvote.")]
    disabled = [one for one in ours if one.disabled]
    for one in disabled:
        one.disabled = False
    handler = logs.configure({"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}, stream)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate
    for one in disabled:
        one.disabled = True


def _parsed(stream) -> list[dict]:
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in parsed:
        assert {"time", "level", "logger", "message"} <= set(record), record
    return parsed


def test_json_log_lines_carry_no_secret(app, client, json_lines):
    with app.app_context(), write_intent():
        make_intake_cycle()
        made = make_cycle("json-logs")
        db.session.commit()
    sign_in_by_email(client, "ada@example.org")
    page = client.get("/staff/login")
    client.post("/staff/login", data={"csrf_token": csrf_token(page.text),
                                      "email": "nobody@example.org", "password": "wrong one"})
    with app.test_request_context("/"), write_intent():
        letters.enqueue_roll_letters(get_cycle(made.slug), None, "staff:json", locale="en",
                                     vote_url="https://vote.example/")
        db.session.commit()
    run_jobs(app)
    records = _parsed(json_lines)
    assert len(records) >= 3 and {r["logger"] for r in records} >= {
        "pbvote.services.mail", "pbvote.services.jobs"}
    assert log_capture.scan([(r["logger"], r["level"], r["message"]) for r in records]) == []


def test_the_scan_finds_a_secret_in_a_json_line():
    # formatted, not logged: the run's own scan must not see this deliberate leak
    line = logs.json_formatter().format(logging.makeLogRecord({
        "name": "pbvote.test", "levelname": "WARNING", "levelno": logging.WARNING,
        "msg": "leaked code %s", "args": ("7K3M-QX9P-2D4H",)}))
    [record] = _parsed(io.StringIO(line))
    assert record["level"] == "WARNING" and record["logger"] == "pbvote.test"
    found = log_capture.scan([(record["logger"], record["level"], record["message"])])
    assert [finding.what for finding in found] == ["an access code"]
