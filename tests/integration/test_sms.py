"""Text messages: the development outbox, a provider class named by SMS_BACKEND and run by
the "sms.send" job, and no phone numbers taken in production without a provider."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from pbvote import create_app
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Job, OutboxMessage, SelfDeclaration
from pbvote.rules.self_declaration import Declaration
from pbvote.services import self_declaration, sms
from pbvote.services.self_declaration import DeclarationRefused
from tests.factories import make_cycle
from tests.job_helpers import run_jobs

PERSON = Declaration(given_names="Mei", last_name="Chen", street="3 Harbour Road",
                     postcode="10003", birth_date=dt.date(2000, 2, 1), contact="+44 7700 900123")


class RecordingProvider:
    """A provider as a city would write one (pbvote.services.sms.SmsBackend)."""

    sent: list = []

    def __init__(self, config):
        self.sender = config.get("SMS_SENDER_NAME", "pbvote")

    def send(self, number: str, text: str) -> None:
        RecordingProvider.sent.append((self.sender, number, text))


@pytest.fixture
def provider_app(engine_name, migrated_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    RecordingProvider.sent = []
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     SMS_BACKEND="tests.integration.test_sms:RecordingProvider",
                     SMS_SENDER_NAME="Riverton")
    yield app
    from tests.conftest import _empty_all_tables

    with app.app_context():
        db.session.remove()
        _empty_all_tables(db)
        db.engine.dispose()


def _declare(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.online_self_declaration = True
        self_declaration.declare(cycle, cycle.district_by_slug("approval"), PERSON)
        db.session.commit()


def test_a_provider_sends_the_code_from_a_job_that_forgets_it(provider_app):
    _declare(provider_app)
    assert RecordingProvider.sent == []  # nothing went out inside the request
    run_jobs(provider_app)
    [(sender, number, text)] = RecordingProvider.sent
    assert (sender, number) == ("Riverton", "+447700900123")
    with provider_app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "sms.send"))
        assert (job.status, job.payload) == ("done", "{}")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        digits = text.split()[0]
        assert len(digits) == 6 and digits.isdigit()


def test_the_outbox_keeps_texts_in_development(app_context):
    assert sms.backend_name({}) == "outbox"
    with write_intent():
        sms.send("+15550102030", "123456 is your code")
        assert db.session.scalar(select(OutboxMessage.recipient)) == "sms:+15550102030"


def test_production_without_a_provider_takes_no_phone_numbers(app_context):
    assert not sms.available({"REQUIRE_SECRET_FROM_ENVIRONMENT": True})
    assert sms.available({"REQUIRE_SECRET_FROM_ENVIRONMENT": True, "SMS_BACKEND": "x:Y"})
    with pytest.raises(RuntimeError, match="SMS_BACKEND"):
        sms.backend_name({"REQUIRE_SECRET_FROM_ENVIRONMENT": True})
    app_context.config["REQUIRE_SECRET_FROM_ENVIRONMENT"] = True
    try:
        with write_intent(), pytest.raises(DeclarationRefused) as refused:
            _declare(app_context)
    finally:
        app_context.config["REQUIRE_SECRET_FROM_ENVIRONMENT"] = False
    assert refused.value.status == 422 and refused.value.reasons[0].code == "no_sms"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(SelfDeclaration)) == 0
