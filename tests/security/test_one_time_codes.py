"""ASVS 4.0.3 V2.7.2 (out-of-band codes expire), V2.7.3/V2.5.x (one-time codes work once),
V3.3.1 (a verified voter session ends), V2.8.x (one-time authenticators).

Already proven elsewhere (see tests/security/README.md): resident email codes work once, expire
and are used up by five guesses (tests/web/test_resident_sign_in.py); staff invitations work
once and expire (tests/web/test_staff_admin.py); recovery codes work once
(tests/web/test_staff_sign_in.py); an access code votes once and the one-time CSV export
downloads once (tests/web/test_resident_path.py, tests/web/test_setup_pages.py). Here: voided
access codes, access codes after the voting phase, the verified voter session's lifetime and
kiosk passes.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, RollEntry
from pbvote.services import codes, in_person
from pbvote.services.errors import DomainError
from tests.conftest import csrf_token
from tests.security.helpers import committed_cycle


def _verify_code(client, code, slug="test-cycle"):
    page = client.get(f"/cycles/{slug}/vote/approval/verify")
    return client.post(f"/cycles/{slug}/vote/approval/verify", data={
        "method": "code", "code-csrf_token": csrf_token(page.text), "code-code": code})


def test_a_voided_access_code_is_refused(app):
    made = committed_cycle(app)
    code = made.codes["approval"][0]
    with app.app_context(), write_intent():
        codes.void_code(db.session.get(Cycle, made.cycle_id), code, "staff@example.org")
        db.session.commit()
    response = _verify_code(app.test_client(), code)
    assert 400 <= response.status_code < 500
    assert _verify_code(app.test_client(), made.codes["approval"][1]).status_code == 302


def test_access_codes_stop_working_when_the_voting_phase_ends(app):
    made = committed_cycle(app, voting="closed")
    client = app.test_client()
    page = client.get("/sign-in")  # the closed cycle's page has no form: any token will do
    response = client.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "code", "code-csrf_token": csrf_token(page.text), "csrf_token":
        csrf_token(page.text), "code-code": made.codes["approval"][0]})
    assert response.status_code in (403, 404, 409), response.status_code


def test_a_verified_voter_session_expires(app):
    made = committed_cycle(app)
    client = app.test_client()
    assert _verify_code(client, made.codes["approval"][0]).status_code == 302
    assert client.get("/cycles/test-cycle/vote/ballot").status_code == 200
    with client.session_transaction() as session:
        voter = session["voter"]
        voter["expires"] = time.time() - 1
        session["voter"] = voter
    assert client.get("/cycles/test-cycle/vote/ballot").status_code == 302


def test_a_kiosk_pass_casts_one_ballot(app):
    made = committed_cycle(app)
    with app.app_context(), write_intent():
        actor = Account(email="desk@example.org", display_name="Desk", role="staff",
                        is_active=True, failed_attempts=0, totp_last_timecode=0)
        db.session.add(actor)
        cycle = db.session.get(Cycle, made.cycle_id)
        entry = db.session.scalar(select(RollEntry.id).where(
            RollEntry.cycle_id == cycle.id).order_by(RollEntry.id))
        pass_id = in_person.check_in(cycle, entry, site="Library", id_checked=True,
                                     handout="kiosk", actor=actor).kiosk_pass_id
        in_person.cast_kiosk_ballot(cycle, pass_id, ["AP-A"])
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        with pytest.raises(DomainError):
            in_person.cast_kiosk_ballot(cycle, pass_id, ["AP-B"])
        db.session.rollback()


def test_an_unused_kiosk_pass_dies_with_the_voting_phase(app):
    made = committed_cycle(app)
    with app.app_context(), write_intent():
        actor = Account(email="desk@example.org", display_name="Desk", role="staff",
                        is_active=True, failed_attempts=0, totp_last_timecode=0)
        db.session.add(actor)
        cycle = db.session.get(Cycle, made.cycle_id)
        entry = db.session.scalar(select(RollEntry.id).where(
            RollEntry.cycle_id == cycle.id).order_by(RollEntry.id))
        pass_id = in_person.check_in(cycle, entry, site="Library", id_checked=True,
                                     handout="kiosk", actor=actor).kiosk_pass_id
        db.session.commit()
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        later = cycle.phase_window("voting").ends_at + dt.timedelta(minutes=1)
        with pytest.raises(DomainError):
            in_person.cast_kiosk_ballot(cycle, pass_id, ["AP-A"], now=later)
        db.session.rollback()
