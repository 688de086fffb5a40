"""Mail through the job queue: with SMTP, `mail.send` only enqueues, so a slow or failing
mail server cannot fail the page that sends; the outbox stays synchronous for development."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from pbvote import create_app
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Job, OutboxMessage
from pbvote.services import jobs, mail
from tests.job_helpers import run_jobs

pytestmark = pytest.mark.db


class FlakySMTP:
    sent: list = []
    failures_left = 0

    def __init__(self, host, port, timeout=None, **kwargs):
        if FlakySMTP.failures_left:
            FlakySMTP.failures_left -= 1
            raise TimeoutError("timed out connecting to the mail server")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        pass

    def send_message(self, message):
        FlakySMTP.sent.append(message)


@pytest.fixture
def smtp_app(engine_name, migrated_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setattr(mail.smtplib, "SMTP", FlakySMTP)
    FlakySMTP.sent, FlakySMTP.failures_left = [], 0
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name),
                     MAIL_BACKEND="smtp", MAIL_SMTP_HOST="mail.example.org")
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(Job.__table__.delete())
        db.engine.dispose()


def _send(app, body="Your code is 123456"):
    with app.app_context(), write_intent():
        mail.send("ada@example.org", "Your sign-in code", body)
        db.session.commit()
        return db.session.scalar(select(Job.id).where(Job.kind == "mail.send"))


def test_smtp_mail_is_sent_by_a_job_and_its_body_is_not_kept(smtp_app):
    job_id = _send(smtp_app)
    assert FlakySMTP.sent == []  # nothing went out inside the sending transaction
    run_jobs(smtp_app)
    [message] = FlakySMTP.sent
    assert message["To"] == "ada@example.org" and "123456" in message.get_content()
    with smtp_app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.payload) == ("done", "{}")


def test_a_failing_mail_server_is_retried_without_failing_the_sender(smtp_app):
    FlakySMTP.failures_left = 1
    job_id = _send(smtp_app)
    run_jobs(smtp_app)
    with smtp_app.app_context():
        waiting = jobs.progress(job_id)
        assert waiting.status == "queued" and "timed out" in waiting.message
        with write_intent():
            db.session.execute(update(Job).values(run_after=utcnow() - dt.timedelta(seconds=1)))
            db.session.commit()
    run_jobs(smtp_app)
    assert len(FlakySMTP.sent) == 1
    with smtp_app.app_context():
        assert jobs.progress(job_id).status == "done"


def test_a_rolled_back_sender_sends_nothing(smtp_app):
    with smtp_app.app_context(), write_intent():
        mail.send("ada@example.org", "Subject", "Body")
        db.session.rollback()
    run_jobs(smtp_app)
    assert FlakySMTP.sent == []


def test_the_outbox_stays_synchronous(app):
    with app.app_context(), write_intent():
        mail.send("bo@example.org", "Hello", "Body")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        db.session.commit()
