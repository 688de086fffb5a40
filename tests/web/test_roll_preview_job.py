"""A large voter-roll file's preview is computed by a job (the request could near the
proxy's timeout); its page shows the stored preview, which the confirmation is checked
against."""
from __future__ import annotations

import io
import re

import pytest

from tests.job_helpers import run_jobs
from tests.web.test_roll_pages import BASE, HEADER, _confirm, entries, made, upload


@pytest.fixture
def staff(app):
    from tests.staff_helpers import login, make_account

    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


ROWS = "".join(f"P{i},1970-01-01,Z{i},approval,N{i},Person {i}\n" for i in range(60))
DIFF_ROWS = ("Entries on the roll now", "Valid rows in the file", "Added", "Changed",
             "Removed", "Unchanged")


def _numbers(page: str) -> dict[str, str]:
    return {label: re.search(rf'<th scope="row">{label}</th><td class="num">([^<]+)</td>',
                             page).group(1) for label in DIFF_ROWS}


def _preview_by_job(app, staff, slug, text):
    queued = upload(staff, slug, text)
    assert queued.status_code == 303 and "/staff/jobs/" in queued.headers["Location"]
    waiting = staff.get(queued.headers["Location"])
    assert "Waiting to start" in waiting.text and "Show the preview" not in waiting.text
    run_jobs(app)
    return staff.get(queued.headers["Location"])


def test_a_large_file_is_previewed_by_a_job_with_the_same_numbers(app, staff):
    cycle = made(app, "open")
    small = upload(staff, cycle.slug, HEADER + ROWS)  # the request computes it
    assert small.status_code == 302
    synchronous = staff.get(small.headers["Location"])
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    done = _preview_by_job(app, staff, cycle.slug, HEADER + ROWS)
    assert "Done" in done.text and "Checked: add 60, change 0, remove 5" in done.text
    link = re.search(r'href="([^"]+)">Show the preview of the voter roll', done.text)
    preview_url = link.group(1).replace("&amp;", "&")
    preview = staff.get(preview_url)
    assert preview.status_code == 200
    assert _numbers(preview.text) == _numbers(synchronous.text)
    assert _numbers(preview.text)["Added"] == "60"
    assert "Person 0" in preview.text and "1980-01-04" in preview.text  # added, removed
    assert "only the first page of this list is shown" in preview.text
    assert entries(app) == 5


def test_the_stored_preview_is_not_computed_again_on_get(app, staff, monkeypatch):
    from pbvote.services import roll_import

    cycle = made(app, "open")
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    done = _preview_by_job(app, staff, cycle.slug, HEADER + ROWS)
    preview_url = re.search(r'href="([^"]+)">Show the preview', done.text).group(1)

    def refuse(*args, **kwargs):
        raise AssertionError("the preview page read the file again")

    monkeypatch.setattr(roll_import, "plan_import", refuse)
    assert staff.get(preview_url.replace("&amp;", "&")).status_code == 200


def test_a_bad_large_file_fails_its_preview_job_with_the_reason(app, staff):
    cycle = made(app, "open")
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    text = HEADER + "Lee,not-a-date,AB1,approval,R1,\n" + "Kim,1980-01-01,AB2,nowhere,R2,\n"
    failed = _preview_by_job(app, staff, cycle.slug, text)
    assert "Failed" in failed.text
    assert "2 problem(s) in the file" in failed.text and "line 2:" in failed.text
    assert "Show the preview" not in failed.text
    assert "column mapping</a>" in failed.text
    wrong_columns = _preview_by_job(app, staff, cycle.slug, "name,born\nLee,1980-01-01\n")
    assert "Failed" in wrong_columns.text and "header:" in wrong_columns.text
    nul = _preview_by_job(app, staff, cycle.slug, HEADER + "Lee\x00,1980-01-01,AB1,approval,R1,\n")
    assert "Failed" in nul.text and "problem(s) in the file" in nul.text
    assert entries(app) == 5


def _upload_bytes(client, slug, data: bytes):
    from tests.conftest import csrf_token

    page = client.get(f"{BASE}/{slug}/roll")
    return client.post(f"{BASE}/{slug}/roll", data={
        "csrf_token": csrf_token(page.text), "file": (io.BytesIO(data), "roll.csv")},
        content_type="multipart/form-data")


@pytest.mark.parametrize("data", [
    (HEADER + "Lee,1980-01-01,AB1,approval,R1,\n").replace("Lee", "Lé").encode("latin-1"),
    (HEADER + "Lee\x00,1980-01-01,AB1,approval,R1,\n").encode(),
    b"name,born\nLee,1980-01-01\n",
], ids=["encoding", "nul", "columns"])
def test_a_bad_file_fails_the_job_with_the_messages_the_page_gives(app, staff, data):
    cycle = made(app, "open")
    synchronous = staff.get(_upload_bytes(staff, cycle.slug, data).headers["Location"])
    assert synchronous.status_code == 422
    summary = synchronous.text[synchronous.text.find('id="error-summary"'):]
    messages = re.findall(r'<li>(?:<a [^>]*>)?([^<]+)', summary[:summary.find("</ul>")])
    assert messages, summary
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    queued = _upload_bytes(staff, cycle.slug, data)
    run_jobs(app)
    failed = staff.get(queued.headers["Location"])
    assert "Failed" in failed.text
    for message in messages:
        assert message.removeprefix("Header: ").strip() in failed.text
    assert entries(app) == 5


@pytest.mark.parametrize("apply_by_job", [False, True])
def test_confirm_and_apply_after_a_job_preview(app, staff, apply_by_job):
    cycle = made(app, "open")
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    app.config["ROLL_IMPORT_JOB_FROM_BYTES"] = 0 if apply_by_job else 1 << 30
    done = _preview_by_job(app, staff, cycle.slug, HEADER + ROWS)
    preview_url = re.search(r'href="([^"]+)">Show the preview', done.text).group(1)
    preview_url = preview_url.replace("&amp;", "&")
    wrong = _confirm(staff, preview_url, confirm_removed="4")  # it removes 5 of 5
    assert wrong.status_code == 409 and entries(app) == 5
    assert "Type 5, the number of entries this import removes" in wrong.text
    assert _numbers(wrong.text)["Added"] == "60"  # the stored preview, shown again
    applied = _confirm(staff, preview_url, confirm_removed="5")
    if apply_by_job:
        assert applied.status_code == 303
        run_jobs(app)
        assert "Added 60, changed 0, removed 5" in staff.get(applied.headers["Location"]).text
    else:
        assert applied.status_code == 200 and "Voter roll imported" in applied.text
    assert entries(app) == 60


def test_checking_a_large_file_again_with_another_mapping_starts_a_job(app, staff):
    from tests.conftest import csrf_token

    cycle = made(app, "open")
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    done = _preview_by_job(app, staff, cycle.slug, HEADER + ROWS)
    preview_url = re.search(r'href="([^"]+)">Show the preview', done.text).group(1)
    page = staff.get(preview_url.replace("&amp;", "&"))
    form = {"csrf_token": csrf_token(page.text), "check": "1", "map-0": "last_name",
            "map-1": "birth_date", "map-2": "postcode", "map-3": "district",
            "map-4": "roll_number", "map-5": ""}
    queued = staff.post(preview_url.split("?")[0], data=form)
    assert queued.status_code == 303 and "/staff/jobs/" in queued.headers["Location"]
    run_jobs(app)
    again = staff.get(queued.headers["Location"])
    assert "Done" in again.text
    assert BASE in re.search(r'href="([^"]+)">Show the preview', again.text).group(1)


def test_the_stored_preview_goes_with_the_uploaded_file(app, staff):
    """It names people in clear: it is not kept with the job's row, which stays."""
    from pbvote.services import roll_stash

    cycle = made(app, "open")
    app.config["ROLL_PREVIEW_JOB_FROM_BYTES"] = 10
    done = _preview_by_job(app, staff, cycle.slug, HEADER + ROWS)
    preview_url = re.search(r'href="([^"]+)">Show the preview', done.text).group(1)
    preview_url = preview_url.replace("&amp;", "&")
    with app.app_context():
        folder = roll_stash.stash_folder()
        assert len(list(folder.glob("*.preview-*.json"))) == 1
        assert roll_stash.remove_old_stashes(now=10 ** 12) == 2  # the file and its preview
        assert not list(folder.iterdir())
    assert staff.get(preview_url).status_code == 404
