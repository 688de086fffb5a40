"""Access codes for everyone on the roll: the staff page and `pbvote issue-roll-codes`."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select, update

from pbvote.cli.setup import issue_roll_codes
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Job, Phase, RollEntry
from pbvote.services import jobs, voting
from pbvote.services import roll_import_batches as batches
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import AlreadyVoted
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.job_helpers import run_jobs
from tests.staff_helpers import login, make_account

BASE = "/staff/cycles"
MAIL_MERGE_HEADER = ["cycle", "district", "district_name", "display_name", "birth_date",
                     "access_code"]


@pytest.fixture
def staff(app):
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


@pytest.fixture
def made(app):
    with app.app_context(), write_intent():
        result = make_cycle("roll-letters")
        # The help desk's clear name of the approval resident, for the letter's address line.
        db.session.execute(update(RollEntry).where(
            RollEntry.cycle_id == result.cycle_id,
            RollEntry.birth_date == result.people["approval"].birth_date)
            .values(display_name="=Sam Tester"))
        db.session.commit()
    return result


def issue(client, slug: str, district: str):
    page = client.get(f"{BASE}/{slug}/codes")
    assert page.status_code == 200
    return client.post(f"{BASE}/{slug}/codes/roll",
                       data={"csrf_token": csrf_token(page.text), "roll-district": district})


def letters_of(app, client, answer):
    """The roll's letters are a job: the answer is its progress page, waiting for a worker.
    Run it; return the finished page and the text of each result file by name."""
    assert answer.status_code == 303, answer.text
    job_page = answer.headers["Location"]
    assert re.fullmatch(r"/staff/jobs/[a-z]{32}", job_page)
    waiting = client.get(job_page)
    assert waiting.status_code == 200 and "Waiting to start" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    run_jobs(app)
    done = client.get(job_page)
    assert done.status_code == 200 and "Done" in done.text, done.text
    assert 'http-equiv="refresh"' not in done.text
    files = {}
    for link in re.findall(r'href="(/staff/jobs/[a-z]+/files/[^"]+)"', done.text):
        response = client.get(link)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Disposition"].startswith("attachment")
        files[link.rsplit("/", 1)[1]] = response.text
    return done, files


def _bound_codes(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.roll_entry_id.is_not(None)))


def _close_voting(app, cycle_id: int) -> None:
    with app.app_context(), write_intent():
        db.session.execute(update(Phase).where(Phase.cycle_id == cycle_id, Phase.kind == "voting")
                           .values(ends_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()


def test_staff_issue_letters_for_a_district_then_the_rest_of_the_roll(app, staff, made):
    page = staff.get(f"{BASE}/{made.slug}/codes")
    assert "A code for everyone on the roll" in page.text and 'value="*"' in page.text
    # every field's id is unique, so each label names one field (the CSRF tokens of the
    # generate and void forms are hidden inputs that share an id and no label)
    ids = [i for i in re.findall(r'\bid="([^"]+)"', page.text) if i != "csrf_token"]
    assert len(ids) == len(set(ids)) and "roll-district" in ids
    answer = issue(staff, made.slug, "approval")
    assert _bound_codes(app) == 0  # nothing is issued inside the request
    page, files = letters_of(app, staff, answer)
    assert sorted(files) == ["access-codes.csv", "letters-approval.html"]
    letters = files["letters-approval.html"]
    assert letters.startswith("<!doctype html>") and letters.endswith("</html>\n")
    found = re.findall(r'<p class="letter-code"><code>([0-9A-Z-]+)</code>', letters)
    assert len(found) == 1  # the district's other entry is ten years old
    assert '<p class="letter-to">=Sam Tester</p>' in letters
    assert "<strong>Done</strong>: 1 of 1" in page.text
    assert "Letters for Approval (print-ready HTML)</a> (1 letter)" in page.text
    rows = list(csv.reader(io.StringIO(files["access-codes.csv"])))
    assert rows == [MAIL_MERGE_HEADER,
                    [made.slug, "approval", "Approval", "'=Sam Tester", "1980-01-01", found[0]]]

    with app.app_context(), write_intent():
        cycle = get_cycle(made.slug)
        district = cycle.district_by_slug("approval")
        voting.cast_ballot(voting.verify_by_code(cycle, district, found[0]), ["AP-A"])
        db.session.commit()
        person = made.people["approval"]
        with pytest.raises(AlreadyVoted):
            voting.verify_by_roll(cycle, district, person.last_name, person.birth_date,
                                  person.postcode)

    _page, rest = letters_of(app, staff, issue(staff, made.slug, "*"))
    assert sum(text.count('class="letter"') for name, text in rest.items()
               if name.endswith(".html")) == 3
    assert len(rest["access-codes.csv"].splitlines()) == 4
    nobody = issue(staff, made.slug, "*")
    assert nobody.status_code == 409 and "already has an access code" in nobody.text
    assert _bound_codes(app) == 4


def test_a_roll_import_in_the_browser_reports_the_codes_it_voided(app, staff, made):
    letters_of(app, staff, issue(staff, made.slug, "*"))
    roll = "last_name,birth_date,postcode,district\nLee,1980-01-01,AB1,approval\n"
    page = staff.get(f"{BASE}/{made.slug}/roll")
    uploaded = staff.post(f"{BASE}/{made.slug}/roll", data={
        "csrf_token": csrf_token(page.text), "file": (io.BytesIO(roll.encode()), "roll.csv")},
        content_type="multipart/form-data")
    preview_url = uploaded.headers["Location"]
    mapping = {"map-0": "last_name", "map-1": "birth_date", "map-2": "postcode",
               "map-3": "district"}
    preview = staff.get(preview_url, query_string=mapping)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                            preview.text).group(1)
    # it replaces the whole roll: the number removed must be confirmed (issue #15)
    done = staff.post(preview_url, data={"csrf_token": csrf_token(preview.text),
                                         "fingerprint": fingerprint, "confirm_removed": "5",
                                         **mapping})
    assert done.status_code == 200, done.text
    assert "moved to another district: 4." in done.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.status == "voided", AccessCode.roll_entry_id.is_(None))) == 4


def test_staff_bad_input_is_refused_and_nothing_issued(app, staff, made):
    assert issue(staff, made.slug, "nowhere").status_code == 422
    assert issue(staff, made.slug, "").status_code == 422
    no_token = staff.post(f"{BASE}/{made.slug}/codes/roll", data={"roll-district": "approval"})
    assert no_token.status_code == 400
    _close_voting(app, made.cycle_id)
    closed = issue(staff, made.slug, "approval")
    assert closed.status_code == 409 and "Voting has closed" in closed.text
    assert _bound_codes(app) == 0


def test_cli_writes_the_mail_merge_file_once(app, made, runner, tmp_path):
    out = tmp_path / "letters.csv"
    result = runner.invoke(issue_roll_codes, [made.slug, str(out), "--district", "ranked"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["district"] for r in rows] == ["ranked"] and list(rows[0]) == MAIL_MERGE_HEADER
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    everyone = tmp_path / "everyone.csv"
    result = runner.invoke(issue_roll_codes, [made.slug, str(everyone)])
    assert result.exit_code == 0, result.output
    assert "Issued 3 access codes" in result.output
    assert sorted(r["district"] for r in csv.DictReader(everyone.open(encoding="utf-8"))) == \
        ["approval", "cumulative", "knapsack"]
    assert _bound_codes(app) == 4

    again = tmp_path / "again.csv"
    result = runner.invoke(issue_roll_codes, [made.slug, str(again)])
    assert result.exit_code == 1 and "already has an access code" in result.output
    assert not again.exists()


def test_cli_bad_input_exits_non_zero_and_issues_nothing(app, made, runner, tmp_path):
    out = tmp_path / "letters.csv"
    unknown_cycle = runner.invoke(issue_roll_codes, ["no-such-cycle", str(out)])
    assert unknown_cycle.exit_code == 2 and "no-such-cycle" in unknown_cycle.output
    unknown_district = runner.invoke(issue_roll_codes, [made.slug, str(out), "--district", "x"])
    assert unknown_district.exit_code == 2 and "approval" in unknown_district.output
    assert not out.exists()
    out.write_text("keep me", encoding="utf-8")
    existing = runner.invoke(issue_roll_codes, [made.slug, str(out)])
    assert existing.exit_code == 2 and out.read_text(encoding="utf-8") == "keep me"
    _close_voting(app, made.cycle_id)
    closed_out = tmp_path / "closed.csv"
    closed = runner.invoke(issue_roll_codes, [made.slug, str(closed_out)])
    assert closed.exit_code == 1 and "Voting has closed" in closed.output
    assert not closed_out.exists()
    assert _bound_codes(app) == 0


def _hold_the_roll(app, cycle_id: int) -> str:
    """An import job of the cycle stopped while it applies its rows (its worker died)."""
    with app.app_context(), write_intent():
        job_id = jobs.enqueue(batches.JOB_KIND, {"cycle_id": cycle_id}, cycle_id=cycle_id)
        db.session.execute(update(Job).where(Job.id == job_id).values(
            status="running", checkpoint='{"phase": "rows", "line": 2}',
            lease_until=utcnow() + dt.timedelta(hours=1)))
        db.session.commit()
    return job_id


def _release_the_roll(app, job_id: str) -> None:
    with app.app_context(), write_intent():
        db.session.execute(update(Job).where(Job.id == job_id).values(
            status="done", checkpoint='{"phase": "done"}'))
        db.session.commit()


def test_staff_cannot_issue_roll_codes_or_close_voting_while_an_import_holds_the_roll(
        app, staff, made):
    held = _hold_the_roll(app, made.cycle_id)
    refused = issue(staff, made.slug, "*")
    assert refused.status_code == 409 and "voter-roll import" in refused.text
    page = staff.get(f"{BASE}/{made.slug}/")
    closing = staff.post(f"{BASE}/{made.slug}/voting/close",
                         data={"csrf_token": csrf_token(page.text), "confirm": "y"})
    assert closing.status_code == 409 and "voter-roll import" in closing.text
    with app.app_context():
        assert get_cycle(made.slug).voting_open(utcnow())
    assert _bound_codes(app) == 0
    _release_the_roll(app, held)
    letters_of(app, staff, issue(staff, made.slug, "*"))
    assert _bound_codes(app) > 0


def test_a_letters_job_stops_when_an_import_takes_the_roll(app, staff, made):
    """Started before the import: its next step finds the roll held and fails, saying so."""
    answer = issue(staff, made.slug, "*")
    assert answer.status_code == 303
    held = _hold_the_roll(app, made.cycle_id)
    run_jobs(app)
    with app.app_context():
        letters = db.session.get(Job, answer.headers["Location"].rsplit("/", 1)[1])
        assert letters.status == "failed" and "voter-roll import" in letters.message
    assert _bound_codes(app) == 0
    _release_the_roll(app, held)
