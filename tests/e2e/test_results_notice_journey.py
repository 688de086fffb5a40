""""Email me when the results are out", in the browser: a resident subscribes in Spanish and
confirms from the development outbox; two administrators publish; the job runs; the outbox
holds one Spanish email whose unsubscribe link works."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, OutboxMessage, ResultsSubscription
from pbvote.services import publication
from tests.e2e.test_staff_and_auditor import sign_in_staff
from tests.job_helpers import run_jobs
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account

ADDRESS = "vecina@example.org"


def _mails(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == ADDRESS).order_by(OutboxMessage.id)))


def test_a_resident_is_told_the_results_in_spanish_once(app, people):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("closed")
        cycle = db.session.get(Cycle, made.cycle_id)
        staff = db.session.get(Account, make_account("staff")[0])
        run = publication.run_tally(cycle, staff)
        db.session.commit()
        slug, run_id = cycle.slug, run.id

    resident = people()
    page = resident.page
    # The form and its refusal, scanned with axe in every language at 1280 and 375 px.
    page.goto(f"/cycles/{slug}")
    resident.check("cycle page with the results form")
    page.locator("#results-notice-email").fill("not an address")
    page.get_by_role("button", name="Email me the results").click()
    expect(page.locator("#error-summary")).to_be_focused()
    resident.check("results notice refused")

    # The resident reads the site in Spanish and subscribes.
    page.goto(f"/language?lang=es&next=/cycles/{slug}")
    expect(page.get_by_role("heading", name="Avísenme por correo cuando salgan los resultados")
           ).to_be_visible()
    resident.screenshots("results notice form (es)")
    page.locator("#results-notice-email").fill(ADDRESS)
    page.get_by_role("button", name="Enviarme los resultados").click()
    expect(page.get_by_role("status")).to_contain_text("No se envía nada hasta que confirme")

    # The confirmation, from the development outbox, in Spanish.
    page.goto("/dev/outbox")
    text = page.locator("main").inner_text()
    link = re.search(r"http\S+/results/notice/confirm\?token=\S+", text).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sí, envíenme los resultados").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Le enviaremos los resultados por correo")
    with app.app_context():
        assert db.session.scalar(select(ResultsSubscription.locale)) == "es"

    # One administrator asks to publish, a second confirms; then the job runs.
    run_url = f"/staff/cycles/{slug}/results/runs/{run_id}"
    admin = sign_in_staff(app, people, "admin")
    admin.page.goto(run_url)
    admin.page.get_by_role("button", name="Ask to publish this count").click()
    admin2 = sign_in_staff(app, people, "admin")
    admin2.page.goto(run_url)
    admin2.page.get_by_role("button", name="Confirm and publish").click()
    expect(admin2.page).to_have_url(re.compile(f"/cycles/{slug}/results$"))
    assert len(_mails(app)) == 1  # only the confirmation: the job has not run
    run_jobs(app)
    admin2.page.goto(f"/staff/cycles/{slug}/results")
    expect(admin2.page.get_by_text("1 resident was told the results are out.")).to_be_visible()

    [_confirmation, told] = _mails(app)
    assert told.subject.startswith("Ya salieron los resultados")
    assert "Los residentes eligieron estos proyectos" in told.body
    run_jobs(app)
    assert len(_mails(app)) == 2  # never twice

    stop = re.search(r"http\S+/results/notice/unsubscribe\?token=\S+", told.body).group(0)
    resident.context.clear_cookies()  # the scan asks for each language by Accept-Language
    page.goto(stop)
    resident.check("results notice unsubscribe")
    page.goto(f"/language?lang=es&next=/cycles/{slug}")
    page.goto(stop)
    page.get_by_role("button", name="Dejar de recibir los correos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No recibirá más correos")
    with app.app_context():
        assert db.session.scalar(select(ResultsSubscription.email)) is None
