"""The roll import's pages refuse what would destroy data, with the reason on the page
(issue #15, defect 4)."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import RollEntry
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account

BASE = "/staff/cycles"
HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def made(app, voting):
    with app.app_context(), write_intent():
        result = make_cycle(f"roll-{voting}", voting=voting)
        db.session.commit()
    return result


def entries(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RollEntry))


def upload(client, slug, text):
    page = client.get(f"{BASE}/{slug}/roll")
    return client.post(f"{BASE}/{slug}/roll", data={
        "csrf_token": csrf_token(page.text), "file": (io.BytesIO(text.encode()), "roll.csv")},
        content_type="multipart/form-data")


def test_after_voting_closed_the_roll_page_refuses_with_the_reason(app, staff):
    cycle = made(app, "closed")
    page = staff.get(f"{BASE}/{cycle.slug}/roll")
    assert page.status_code == 200 and "Voting has closed" in page.text
    assert 'name="file"' not in page.text
    refused = upload(staff, cycle.slug, HEADER)
    assert refused.status_code == 409 and "Voting has closed" in refused.text
    assert entries(app) == 5


def test_a_large_removal_is_named_and_needs_the_number_typed(app, staff):
    cycle = made(app, "open")
    text = HEADER + "Lee,1980-01-01,AB1,Approval,R1,Sam Lee\n"
    preview_url = upload(staff, cycle.slug, text).headers["Location"]
    preview = staff.get(preview_url)
    assert preview.status_code == 200
    assert "This import removes 5 of the 5 entries on the roll (100 %)" in preview.text
    assert "Sam Lee" in preview.text and "R1" in preview.text
    assert "1980-01-04" in preview.text  # a removed entry, by its date of birth
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                            preview.text).group(1)
    form = {"csrf_token": csrf_token(preview.text), "fingerprint": fingerprint}
    refused = staff.post(preview_url, data=form)
    assert refused.status_code == 409
    assert "Type 5, the number of entries this import removes" in refused.text
    assert 'href="#confirm_removed"' in refused.text
    assert entries(app) == 5
    wrong = staff.post(preview_url, data={**form, "confirm_removed": "4"})
    assert wrong.status_code == 409 and entries(app) == 5
    done = staff.post(preview_url, data={**form, "confirm_removed": "5"})
    assert done.status_code == 200 and "Voter roll imported" in done.text
    assert entries(app) == 1


def _confirm(staff, preview_url, **extra):
    preview = staff.get(preview_url)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                            preview.text).group(1)
    expected = re.search(r'name="expected_removed" type="hidden" value="(\d*)"', preview.text)
    return staff.post(preview_url, data={
        "csrf_token": csrf_token(preview.text), "fingerprint": fingerprint,
        "expected_removed": expected.group(1) if expected else "", **extra})


def test_a_large_web_import_runs_as_a_job_with_progress(app, staff):
    from tests.job_helpers import run_jobs

    app.config["ROLL_IMPORT_JOB_FROM_BYTES"] = 0  # every file counts as large here
    cycle = made(app, "open")
    rows = "".join(f"P{i},1970-01-01,Z{i},approval,N{i},\n" for i in range(30))
    preview_url = upload(staff, cycle.slug, HEADER + rows).headers["Location"]
    wrong = _confirm(staff, preview_url, confirm_removed="4")  # it removes 5 of 5
    assert wrong.status_code == 409 and entries(app) == 5
    queued = _confirm(staff, preview_url, confirm_removed="5")
    assert queued.status_code == 303 and "/staff/jobs/" in queued.headers["Location"]
    assert entries(app) == 5  # nothing applied in the request
    waiting = staff.get(queued.headers["Location"])
    assert waiting.status_code == 200 and "Waiting to start" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    run_jobs(app)
    done = staff.get(queued.headers["Location"])
    assert "Done" in done.text and "Added 30, changed 0, removed 5" in done.text
    assert entries(app) == 30
    status = staff.get(queued.headers["Location"] + ".json").get_json()
    assert status["percent"] == 100 and status["status"] == "done"


def test_a_web_import_job_that_fails_changes_nothing(app, staff):
    import datetime as dt

    from pbvote.models import Cycle
    from pbvote.services.roll import RollPerson, add_roll_entry
    from tests.job_helpers import run_jobs

    app.config["ROLL_IMPORT_JOB_FROM_BYTES"] = 0
    cycle = made(app, "open")
    text = HEADER + "".join(f"P{i},1970-01-01,Z{i},approval,N{i},\n" for i in range(3))
    preview_url = upload(staff, cycle.slug, text).headers["Location"]
    queued = _confirm(staff, preview_url, confirm_removed="5")
    assert queued.status_code == 303
    with app.app_context(), write_intent():  # the roll changes before the job runs
        stored = db.session.get(Cycle, cycle.cycle_id)
        add_roll_entry(stored, stored.districts[0], RollPerson("New", dt.date(1970, 1, 1), "1"))
        db.session.commit()
    run_jobs(app)
    failed = staff.get(queued.headers["Location"])
    assert "Failed" in failed.text and "changed since the preview" in failed.text
    assert entries(app) == 6  # make_cycle's five and the one added; nothing imported
