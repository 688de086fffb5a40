"""ASVS 4.0.3 V7.1.1 (no credentials or session tokens in logs), V7.1.2 (no other sensitive
data: one-time codes, census identifiers, ballot contents).

The whole run is scanned by tests/security/log_capture.py (registered in tests/conftest.py),
which fails the session listing the offending records. Here: the scanner itself can fail, and
the paths that handle the most secrets, run with every pbvote logger at DEBUG, leave nothing.
"""
from __future__ import annotations

import logging

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.proposal_helpers import make_intake_cycle, sign_in_by_email
from tests.security import log_capture
from tests.staff_helpers import DEFAULT_PASSWORD, login, make_account


@pytest.mark.parametrize("message, what", [
    (f"login failed for x@example.org with {DEFAULT_PASSWORD}", "a test password"),
    ("verify_by_code 7K3M-QX9P-2D4H", "an access code"),
    ("enrolled secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "a TOTP secret"),
    ("sign-in code 493021 sent", "a one-time code (six digits)"),
    ("recovery AB2CD-EF3GH used", "a recovery code"),
    ("invite http://x/staff/invitation/abcdefghijklmnopqrstuvwxyz012345", "an invitation link"),
    ("roll match Tester3 1980-01-03", "a roll surname from tests/factories.py"),
    ("roll match Tester3 1980-01-03", "a roll birth date from tests/factories.py"),
    ('ballot ["AP-A", "AP-B"]', "ballot selections"),
])
def test_the_scanner_finds_each_kind_of_secret(message, what):
    found = log_capture.scan([("pbvote", "INFO", message)])
    assert what in {finding.what for finding in found}


def test_the_scanner_passes_ordinary_records():
    ordinary = [("pbvote.services.mail", "INFO",
                 "mail to a@example.org: Your sign-in code (kept in the development outbox)"),
                ("pbvote", "ERROR", "Exception on /staff/cycles/test-cycle/ [GET]"),
                ("sqlalchemy", "WARNING", "pool size 10 at 2026-11-21 14:33:01.123456"),
                ("werkzeug", "INFO", '"GET /cycles/c/delivery/photos/'
                                     'c4e61625adcaf4b1ec575416fb5e610e.png HTTP/1.1" 200 -')]
    assert log_capture.scan(ordinary) == []


def test_the_plugin_keeps_records_of_the_whole_run():
    before = len(log_capture.kept_records())
    logging.getLogger("pbvote.security-test").debug("a debug record is kept")
    assert len(log_capture.kept_records()) == before + 1


def test_secret_heavy_paths_leave_no_secret_in_the_logs(app):
    """Staff sign-in with a wrong then right password, resident email code, voting by roll and by
    access code: the records these requests leave carry none of the secrets they handled."""
    before = len(log_capture.kept_records())
    with app.app_context():
        with write_intent():
            made = make_cycle("other-cycle")
            db.session.commit()
        _, email, password, secret = make_account("staff")
        make_intake_cycle()
    client = app.test_client()
    page = client.get("/staff/login")
    client.post("/staff/login", data={"csrf_token": csrf_token(page.text), "email": email,
                                      "password": "a wrong password entirely"})
    login(client, email, password, secret)
    sign_in_by_email(app.test_client(), "resident@example.org")
    voter = app.test_client()
    person = made.people["approval"]
    page = voter.get("/cycles/other-cycle/vote/approval/verify")
    voter.post("/cycles/other-cycle/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    page = voter.get("/cycles/other-cycle/vote/ballot")
    voter.post("/cycles/other-cycle/vote/ballot", data={"csrf_token": csrf_token(page.text),
                                                        "project": ["AP-A", "AP-B"]})
    page = voter.get("/cycles/other-cycle/vote/review")
    assert voter.post("/cycles/other-cycle/vote/cast",
                      data={"csrf_token": csrf_token(page.text)}).status_code == 302
    coder = app.test_client()
    page = coder.get("/cycles/other-cycle/vote/knapsack/verify")
    coder.post("/cycles/other-cycle/vote/knapsack/verify", data={
        "method": "code", "code-csrf_token": csrf_token(page.text),
        "code-code": made.codes["knapsack"][0]})
    records = log_capture.kept_records()[before:]
    secrets = [password, secret, made.codes["knapsack"][0], person.last_name]
    leaked = [record for record in records for value in secrets if value in record[2]]
    assert not leaked, leaked
    assert log_capture.scan(records) == []
