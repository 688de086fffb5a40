""""Email me when the results are out" over HTTP: the form on the cycle page, the results
page before publication and the receipt; the Spanish double opt-in; refusals; the staff
count and job progress; and the confirmation page once the results are out."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import OutboxMessage, ResultsSubscription
from tests.conftest import csrf_token
from tests.job_helpers import run_jobs
from tests.results_helpers import cycle_with_ballots
from tests.web.test_resident_path import BALLOT_FORMS, _cast, _submit_ballot, _verify_by_roll
from tests.web.test_staff_results import BASE, _post, _signed_in

CYCLE = "/cycles/test-cycle"
NOTICE = f"{CYCLE}/results/notice"


@pytest.fixture
def closed(app):
    with app.app_context(), write_intent():
        cycle_with_ballots("closed")
        db.session.commit()


def _last_mail(app, recipient: str) -> OutboxMessage:
    with app.app_context():
        return db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == recipient).order_by(OutboxMessage.id.desc())).first()


def _mail_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def _status(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(ResultsSubscription.status).order_by(
            ResultsSubscription.id)).all()


def _publish(app) -> None:
    staff, admin, admin2 = (_signed_in(app, role) for role in ("staff", "admin", "admin"))
    run_path = _post(staff, BASE, f"{BASE}/tally").headers["Location"]
    assert _post(admin, run_path, f"{run_path}/request").status_code == 302
    assert _post(admin2, run_path, f"{run_path}/confirm").status_code == 302


def test_a_spanish_resident_subscribes_confirms_and_is_told_once(app, closed):
    client = app.test_client()
    client.get("/language?lang=es&next=/")
    home = client.get(CYCLE)
    assert home.status_code == 200 and "Avísenme por correo cuando salgan los resultados" in \
        home.text and 'name="lang" value="es"' in home.text
    waiting = client.get(f"{CYCLE}/results")
    assert waiting.status_code == 404 and f'action="{NOTICE}"' in waiting.text
    token = csrf_token(home.text)

    bad = client.post(NOTICE, data={"csrf_token": token, "lang": "es", "email": "nadie"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert 'href="#results-notice-email"' in bad.text and _status(app) == []
    sent = client.post(NOTICE, data={"csrf_token": token, "lang": "es",
                                     "email": "Vecina@Example.org"})
    assert sent.status_code == 200 and "Revise su correo" in sent.text
    confirmation = _last_mail(app, "vecina@example.org")
    assert confirmation.subject.startswith("Confirme:")
    confirm = re.search(r"/results/notice/confirm\?token=(\S+)", confirmation.body).group(1)

    # asking again gives the same answer and mails a new link only while unconfirmed
    again = client.post(NOTICE, data={"csrf_token": token, "lang": "es",
                                      "email": "vecina@example.org"})
    assert again.status_code == 200 and again.text.count("Revise su correo") == 1
    confirm = re.search(r"token=(\S+)", _last_mail(app, "vecina@example.org").body).group(1)

    page = client.get(f"{NOTICE}/confirm?token={confirm}")
    assert page.status_code == 200 and _status(app) == ["pending"]  # a GET writes nothing
    done = client.post(f"{NOTICE}/confirm", data={"csrf_token": token, "token": confirm})
    assert done.status_code == 200 and "Le enviaremos los resultados" in done.text
    assert _status(app) == ["confirmed"]
    assert client.post(f"{NOTICE}/confirm", data={"csrf_token": token, "token": confirm}
                       ).status_code == 404
    mails = _mail_count(app)
    same = client.post(NOTICE, data={"csrf_token": token, "lang": "es",
                                     "email": "vecina@example.org"})
    assert same.status_code == 200 and "Revise su correo" in same.text
    assert _mail_count(app) == mails  # confirmed already: nothing new, nothing said

    staff = _signed_in(app, "staff")
    assert "1 confirmed address will be told once" in staff.get(BASE).text
    _publish(app)
    run_jobs(app)
    overview = staff.get(BASE).text
    assert "1 resident was told the results are out." in overview and "1 of 1" in overview
    told = _last_mail(app, "vecina@example.org")
    assert told.subject.startswith("Ya salieron los resultados")
    assert "http://localhost/cycles/test-cycle/results" in told.body
    run_jobs(app)
    assert _mail_count(app) == mails + 1

    stop = re.search(r"/results/notice/unsubscribe\?token=(\S+)", told.body).group(1)
    assert client.get(f"{NOTICE}/unsubscribe?token={stop}").status_code == 200
    assert client.post(f"{NOTICE}/unsubscribe", data={"csrf_token": token, "token": stop}
                       ).status_code == 200
    assert client.get(f"{NOTICE}/unsubscribe?token={stop}").status_code == 404
    assert client.get(f"{NOTICE}/unsubscribe?token=nope").status_code == 404

    # once published: the form is gone and a late request is refused
    assert "Avísenme por correo" not in client.get(CYCLE).text
    late = client.post(NOTICE, data={"csrf_token": token, "lang": "es",
                                     "email": "tarde@example.org"})
    assert late.status_code == 409 and "Ya salieron los resultados" in late.text


def test_a_confirmation_after_publication_links_the_results(app, closed):
    client = app.test_client()
    token = csrf_token(client.get(CYCLE).text)
    assert client.post(NOTICE, data={"csrf_token": token, "email": "slow@example.org"}
                       ).status_code == 200
    confirm = re.search(r"token=(\S+)", _last_mail(app, "slow@example.org").body).group(1)
    _publish(app)
    page = client.get(f"{NOTICE}/confirm?token={confirm}")
    assert page.status_code == 200 and "The results are out" in page.text
    assert "Yes, email me the results" not in page.text  # nothing left to confirm
    done = client.post(f"{NOTICE}/confirm", data={"csrf_token": token, "token": confirm})
    assert done.status_code == 200 and "we kept nothing" in done.text
    assert f'href="{CYCLE}/results"' in done.text and _status(app) == []


def test_the_receipt_offers_the_form(app, client, made):
    assert _verify_by_roll(client, made, "approval").status_code == 302
    assert _submit_ballot(client, made, BALLOT_FORMS["approval"]).status_code == 302
    receipt = client.get(_cast(client, made).location).text
    assert "Email me when the results are out" in receipt
    assert f'action="/cycles/{made.slug}/results/notice"' in receipt
    assert receipt.count('id="results-notice-email"') == 1 and receipt.count('id="email"') == 1
