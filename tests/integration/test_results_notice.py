""""Email me when the results are out": double opt-in, expiry, unsubscribe, one email per
confirmed address in its language when the results are published, and never a second one
(a re-run, a second job, a retry after a crash mid-way)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import func, select, update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, Job, OutboxMessage, ResultsSubscription
from pbvote.services import mail, publication, results_notice, retention
from pbvote.services.errors import DomainError
from tests.job_helpers import run_jobs
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account

pytestmark = pytest.mark.db


@pytest.fixture
def closed(app_context):
    """A closed cycle whose count an admin asked to publish; a second admin confirms later."""
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = db.session.get(Cycle, made.cycle_id)
        staff, admin, admin2 = (db.session.get(Account, make_account(role)[0])
                                for role in ("staff", "admin", "admin"))
        run = publication.run_tally(cycle, staff)
        publication.request_publication(cycle, run, admin)
        db.session.commit()
    return {"cycle": cycle, "run": run, "admin2": admin2}


def _publish(closed) -> None:
    with write_intent():
        publication.confirm_publication(closed["cycle"], closed["run"], closed["admin2"])
        db.session.commit()


def _run(app) -> None:
    """Run the due jobs, then read what they committed (a fresh transaction)."""
    db.session.rollback()
    run_jobs(app)
    db.session.rollback()


def _mails(recipient: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)))


def _token(message: OutboxMessage, path: str) -> str:
    link = next(word for word in message.body.split() if path in word and "token=" in word)
    return link.split("token=", 1)[1]


def _subscribe(cycle, email: str, locale: str, **kwargs) -> str:
    """Ask, and return the confirmation token from the email."""
    with write_intent():
        results_notice.request_notice(cycle, email, locale, **kwargs)
        db.session.commit()
    return _token(_mails(email.lower())[-1], "/results/notice/confirm")


def _confirm(cycle, token: str) -> results_notice.Confirmed:
    with write_intent():
        confirmed = results_notice.confirm_notice(cycle, token)
        db.session.commit()
    return confirmed


def _subscription(email: str) -> ResultsSubscription | None:
    return db.session.scalar(select(ResultsSubscription).where(
        ResultsSubscription.email == email))


def test_double_opt_in_then_one_email_each_in_their_language(app_context, closed):
    cycle = closed["cycle"]
    ana = _subscribe(cycle, "Ana@Example.org", "es")
    confirmation = _mails("ana@example.org")[-1]
    assert confirmation.subject.startswith("Confirme:") and "resultados" in confirmation.body
    row = _subscription("ana@example.org")
    assert (row.status, row.locale) == ("pending", "es")
    assert row.confirm_hash == hashlib.sha256(ana.encode()).hexdigest()
    assert ana not in {str(v) for v in db.session.execute(
        select(ResultsSubscription.__table__)).one()}  # only the hash is stored
    assert row.confirm_expires_at.minute == 0  # the hour only, not when they asked
    _confirm(cycle, ana)
    _confirm(cycle, _subscribe(cycle, "bo@example.org", "en"))
    _confirm(cycle, _subscribe(cycle, "chen@example.org", "zh_Hans"))
    _subscribe(cycle, "never@example.org", "en")  # never confirmed
    gone = _confirm(cycle, _subscribe(cycle, "gone@example.org", "es"))
    with write_intent():
        results_notice.unsubscribe(cycle, gone.unsubscribe_token)
        db.session.commit()
    assert _subscription("gone@example.org") is None  # the address is deleted
    assert results_notice.notice_status(cycle).confirmed == 3

    _publish(closed)
    assert _mails("ana@example.org")[-1] == confirmation  # sent by the job, not the request
    _run(app_context)

    [to_ana] = _mails("ana@example.org")[1:]
    [to_bo] = _mails("bo@example.org")[1:]
    [to_chen] = _mails("chen@example.org")[1:]
    assert _mails("never@example.org")[1:] == [] and _mails("gone@example.org")[1:] == []
    assert "resultados" in to_ana.subject and "/results/notice/unsubscribe?token=" in to_ana.body
    assert "results" in to_bo.subject and "Read the full results" in to_bo.body
    assert "结果" in to_chen.subject
    results = json.loads(publication.published_results(cycle).results_json)
    for district in results["districts"]:
        titles = {p["id"]: p["title"] for p in district["projects"]}
        for code in district["outcome"]["selected"]:
            assert titles[code] in to_bo.body
    assert f"/cycles/{cycle.slug}/results" in to_bo.body
    rows = list(db.session.scalars(select(ResultsSubscription).where(
        ResultsSubscription.status == "sent")))
    assert len(rows) == 3 and all(r.email is None for r in rows)
    status = results_notice.notice_status(cycle)
    assert (status.sent, status.confirmed, status.job.status, status.job.done,
            status.job.total) == (3, 0, "done", 3, 3)

    # a second job (or a re-run) finds nobody left to tell
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    with write_intent():
        results_notice.schedule(cycle, closed["admin2"])
        db.session.commit()
    _run(app_context)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == count

    # the link in the results email still works, once
    stop = _token(to_ana, "/results/notice/unsubscribe")
    results_notice.check_unsubscribe_token(cycle, stop)
    with write_intent():
        results_notice.unsubscribe(cycle, stop)
        db.session.commit()
    with pytest.raises(DomainError) as used:
        results_notice.check_unsubscribe_token(cycle, stop)
    assert used.value.status == 404
    assert results_notice.notice_status(cycle).sent == 3


def test_expired_unknown_and_repeated_requests(app_context, closed):
    cycle = closed["cycle"]
    late = _subscribe(cycle, "late@example.org", "en",
                      now=utcnow() - dt.timedelta(hours=results_notice.CONFIRM_HOURS + 1))
    with pytest.raises(DomainError) as expired:
        results_notice.confirm_notice(cycle, late)
    assert expired.value.status == 410
    db.session.rollback()
    for bad in ("", "nope", "x" * 500):
        with pytest.raises(DomainError) as unknown:
            results_notice.confirm_notice(cycle, bad)
        assert unknown.value.status == 404
        with pytest.raises(DomainError):
            results_notice.unsubscribe(cycle, bad)
        db.session.rollback()
    with pytest.raises(DomainError) as bad_email:
        results_notice.request_notice(cycle, "not-an-address", "en")
    assert bad_email.value.status == 422 and bad_email.value.reasons[0][0] == "email"

    # asking again while pending: a new link (the old one stops working)
    first = _subscribe(cycle, "twice@example.org", "en")
    second = _subscribe(cycle, "twice@example.org", "es")
    assert first != second
    with pytest.raises(DomainError):
        results_notice.confirm_notice(cycle, first)
    db.session.rollback()
    _confirm(cycle, second)
    # asking again once confirmed: the same answer, no email, one row
    mails = len(_mails("twice@example.org"))
    with write_intent():
        results_notice.request_notice(cycle, "TWICE@example.org", "en")
        db.session.commit()
    assert len(_mails("twice@example.org")) == mails
    assert db.session.scalar(select(func.count()).select_from(ResultsSubscription).where(
        ResultsSubscription.email == "twice@example.org")) == 1
    assert _subscription("twice@example.org").locale == "es"

    # retention deletes the expired, never confirmed address
    with write_intent():
        report = retention.enforce(with_files=False)
        db.session.commit()
    assert report.results_subscriptions == 1 and _subscription("late@example.org") is None


def test_after_publication_nothing_is_kept(app_context, closed):
    cycle = closed["cycle"]
    token = _subscribe(cycle, "slow@example.org", "en")
    _publish(closed)
    confirmed = _confirm(cycle, token)
    assert confirmed.results_out and _subscription("slow@example.org") is None
    with pytest.raises(DomainError) as refused:
        results_notice.request_notice(cycle, "new@example.org", "en")
    assert refused.value.status == 409
    db.session.rollback()
    _run(app_context)
    assert len(_mails("slow@example.org")) == 1  # the confirmation only


def test_a_retry_after_a_crash_mid_way_tells_nobody_twice(app_context, closed, monkeypatch):
    cycle = closed["cycle"]
    emails = [f"r{n}@example.org" for n in range(5)]
    for email in emails:
        _confirm(cycle, _subscribe(cycle, email, "en"))
    monkeypatch.setattr(results_notice, "BATCH_SIZE", 2)
    real_send, calls = mail.send, []

    def crashing_send(recipient, subject, body):
        calls.append(recipient)
        if len(calls) == 4:  # the second address of the second batch
            raise ConnectionError("the worker died")
        real_send(recipient, subject, body)

    monkeypatch.setattr(mail, "send", crashing_send)
    _publish(closed)
    _run(app_context)
    db.session.expire_all()
    job = db.session.scalar(select(Job).where(Job.kind == results_notice.JOB_KIND))
    assert (job.status, job.done) == ("queued", 2)  # the first batch was committed
    told = [e for e in emails if len(_mails(e)) == 2]
    assert len(told) == 2  # the crashed batch left nothing behind
    with write_intent():
        db.session.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow()))
        db.session.commit()
    _run(app_context)
    assert all(len(_mails(e)) == 2 for e in emails)  # each: confirmation + one results mail
    assert results_notice.notice_status(cycle).job.status == "done"
