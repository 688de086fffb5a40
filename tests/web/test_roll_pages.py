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
