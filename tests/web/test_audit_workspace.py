"""The auditors' workspace: chain status, log browser, reconciliation, trace, verify now and
the chain export, signed in as an auditor with password and TOTP."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, text

from pbvote.audit import verify
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Cycle
from pbvote.services import publication
from tests.conftest import csrf_token
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account


def _publish(made) -> None:
    staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
    with write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        run = publication.run_tally(cycle, db.session.get(Account, staff))
        publication.request_publication(cycle, run, db.session.get(Account, admin))
        publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
        db.session.commit()


@pytest.fixture
def auditor(app):
    with app.app_context():
        _, email, password, secret = make_account("auditor")
    client = app.test_client()
    login(client, email, password, secret)
    return client


@pytest.fixture
def published_slug(app):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("closed")
            db.session.commit()
        _publish(made)
    return made.slug


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_workspace_shows_chain_status_and_reconciliation(app, auditor, published_slug):
    page = auditor.get(f"/audit/cycles/{published_slug}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Verified: all" in text
    assert "Every row balances." in text
    assert "Approval online 6 6 6 yes" in text
    assert auditor.get("/audit/").status_code == 200
    assert f"/audit/cycles/{published_slug}" in auditor.get("/audit/").text


def test_workspace_shows_a_broken_chain_and_unbalanced_rows(app, auditor, published_slug):
    with app.app_context(), write_intent():
        victim = db.session.scalar(select(Ballot.id).order_by(Ballot.id).limit(1))
        db.session.execute(text("DELETE FROM ballot WHERE id = :id"), {"id": victim})
        db.session.execute(text("UPDATE log_entry SET entry_json = entry_json || ' ' "
                                "WHERE position = 3"))
        db.session.commit()
    text_ = _text(auditor.get(f"/audit/cycles/{published_slug}").text)
    assert "Broken: verified up to entry 2 of" in text_
    assert "entry 3: " in text_
    assert "1 rows do not balance." in text_


def test_verify_now_passes_and_then_fails_after_tampering(app, auditor, published_slug):
    page = auditor.get(f"/audit/cycles/{published_slug}")
    token = csrf_token(page.text)
    report = auditor.post(f"/audit/cycles/{published_slug}/verify", data={"csrf_token": token})
    assert report.status_code == 200
    assert "Every check passed" in report.text
    assert "ALL CHECKS PASSED for the bundle and chain export." in report.text
    assert auditor.post(f"/audit/cycles/{published_slug}/verify").status_code == 400  # no CSRF
    with app.app_context(), write_intent():
        db.session.execute(text("UPDATE participation SET channel = 'kiosk' WHERE id = "
                                "(SELECT MIN(id) FROM participation)"))
        db.session.commit()
    report = auditor.post(f"/audit/cycles/{published_slug}/verify", data={"csrf_token": token})
    assert report.status_code == 200
    assert "Verification failed at check “counts”" in report.text


def test_log_browser_filters(app, auditor, published_slug):
    everything = auditor.get(f"/audit/cycles/{published_slug}/log")
    assert everything.status_code == 200
    assert "Voting is not closed" not in everything.text
    ballots = auditor.get(f"/audit/cycles/{published_slug}/log", query_string={"kind": "ballot"})
    assert "19 matching entries." in _text(ballots.text)
    assert "AP-A" in ballots.text  # voting has closed: auditors see the selections
    ranged = auditor.get(f"/audit/cycles/{published_slug}/log",
                         query_string={"first": 2, "last": 4})
    assert "3 matching entries." in _text(ranged.text)
    published = auditor.get(f"/audit/cycles/{published_slug}/log",
                            query_string={"q": "results.published"})
    assert "1 matching entries." in _text(published.text)
    none = auditor.get(f"/audit/cycles/{published_slug}/log", query_string={"q": "%_nothing"})
    assert "No entries match." in none.text


def test_chain_export_download_verifies_with_the_bundle(app, auditor, client, published_slug):
    response = auditor.get(f"/audit/cycles/{published_slug}/chain.jsonl")
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [e["position"] for e in lines] == list(range(1, len(lines) + 1))
    ballots = [e for e in lines if e["kind"] == "ballot"]
    assert len(ballots) == 19 and all("selections" in json.loads(e["entry_json"])["data"]
                                      for e in ballots)
    assert {e["kind"] for e in lines} >= {"tally.run", "publication.requested",
                                          "results.published"}
    import io
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(client.get(
        f"/cycles/{published_slug}/results/bundle.zip").data))
    files = {n.split("/", 1)[1]: archive.read(n) for n in archive.namelist()}
    report = verify.verify_files(files, lines)
    assert report.ok, report.text()


def test_trace_page(app, auditor, published_slug):
    page = auditor.get(f"/audit/cycles/{published_slug}/trace")
    assert page.status_code == 200
    assert "Tally trace" in page.text and "Approval" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_before_close_the_export_waits_and_selections_are_withheld(app, auditor):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("open")
        db.session.commit()
    assert auditor.get(f"/audit/cycles/{made.slug}/chain.jsonl").status_code == 409
    log = auditor.get(f"/audit/cycles/{made.slug}/log", query_string={"kind": "ballot"})
    assert "withheld until voting closes" in log.text and "AP-A" not in log.text
    assert auditor.get(f"/audit/cycles/{made.slug}/trace").status_code == 404
    page = auditor.get(f"/audit/cycles/{made.slug}")
    assert "Verify now" not in page.text


def test_staff_cannot_enter(app, published_slug):
    with app.app_context():
        _, email, password, secret = make_account("staff")
    client = app.test_client()
    login(client, email, password, secret)
    assert client.get(f"/audit/cycles/{published_slug}").status_code == 403
    assert client.get(f"/audit/cycles/{published_slug}/chain.jsonl").status_code == 403
    anonymous = app.test_client().get(f"/audit/cycles/{published_slug}/chain.jsonl")
    assert anonymous.status_code == 302


def test_verify_now_never_takes_the_write_lock(app, auditor, published_slug):
    """It only reads, so on SQLite it must not begin IMMEDIATE and hold up casting."""
    from flask import request as current_request
    from sqlalchemy import event

    from pbvote.infra.db import WRITE_INTENT

    token = csrf_token(auditor.get(f"/audit/cycles/{published_slug}").text)
    begins: list[tuple[str, bool]] = []

    def record(connection):
        begins.append((current_request.endpoint, WRITE_INTENT.get()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "begin", record)
    try:
        response = auditor.post(f"/audit/cycles/{published_slug}/verify",
                                data={"csrf_token": token})
    finally:
        event.remove(engine, "begin", record)
    assert response.status_code == 200 and "Every check passed" in response.text
    assert begins and all(endpoint == "audit.verify_now" and not intent
                          for endpoint, intent in begins), begins
