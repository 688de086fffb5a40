"""Letters for a whole roll as a job: a worker that dies mid-way loses nothing and repeats
nothing; the files hold exactly one letter per resident, each with a code that votes."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Job
from pbvote.services import jobs, letters
from pbvote.services.cycles import get_cycle
from pbvote.services.voting import access_code_hash
from tests.factories import make_cycle
from tests.job_helpers import run_jobs

pytestmark = pytest.mark.db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the runner records it."""


def _letters_job(app, slug="letters-job") -> str:
    with app.test_request_context("/"), write_intent():
        made = make_cycle(slug)
        db.session.commit()
        job_id = letters.enqueue_roll_letters(get_cycle(made.slug), None, "staff:tester",
                                              vote_url="https://vote.example/", locale="es")
        db.session.commit()
    return job_id


def _codes_in_files(app, job_id) -> tuple[list[str], list[str]]:
    with app.app_context():
        found = jobs.progress(job_id)
        folder = jobs.job_folder(job_id)
        html = "".join((folder / f.name).read_text() for f in found.files
                       if f.name.endswith(".html"))
        text = (folder / letters.CSV_NAME).read_text()
    in_letters = re.findall(r'<p class="letter-code"><code>([0-9A-Z-]+)</code>', html)
    in_csv = [line.rsplit(",", 1)[1] for line in text.splitlines()[1:]]
    return in_letters, in_csv


def test_a_killed_letters_job_resumes_from_its_checkpoint(app, monkeypatch):
    monkeypatch.setattr(letters, "BATCH", 1)
    job_id = _letters_job(app)
    original_step = jobs.JobContext.step
    calls = {"n": 0}

    def dying_step(self, done, checkpoint=None):
        calls["n"] += 1
        if done == 2 and calls.get("armed", True):
            calls["armed"] = False
            raise WorkerKilled  # the second resident's letter is written, its code uncommitted
        original_step(self, done, checkpoint)

    monkeypatch.setattr(jobs.JobContext, "step", dying_step)
    with pytest.raises(WorkerKilled):
        run_jobs(app)
    with app.app_context():
        stuck = jobs.progress(job_id)
        assert (stuck.status, stuck.done, stuck.total) == ("running", 1, 4)
        assert db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.roll_entry_id.is_not(None))) == 1
        with write_intent():
            db.session.execute(update(Job).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
            db.session.commit()
    run_jobs(app)
    with app.app_context():
        done = jobs.progress(job_id)
        assert (done.status, done.done, done.total, done.attempts) == ("done", 4, 4, 2)
        assert {f.label: f.count for f in done.files} == {
            "Approval": 1, "Cumulative": 1, "Knapsack": 1, "Ranked": 1, "": 0}
        bound = set(db.session.scalars(select(AccessCode.code_hash).where(
            AccessCode.roll_entry_id.is_not(None))))
        per_entry = db.session.scalar(select(func.count(func.distinct(AccessCode.roll_entry_id))))
    in_letters, in_csv = _codes_in_files(app, job_id)
    assert len(in_letters) == len(set(in_letters)) == 4 and sorted(in_csv) == sorted(in_letters)
    assert len(bound) == per_entry == 4
    with app.app_context():
        assert {access_code_hash(code.replace("-", "")) for code in in_letters} == bound


def test_the_letter_files_are_complete_print_ready_pages(app):
    job_id = _letters_job(app, "letters-pages")
    run_jobs(app)
    with app.app_context():
        found = jobs.progress(job_id)
        names = sorted(f.name for f in found.files)
        pages = {name: (jobs.job_folder(job_id) / name).read_text() for name in names
                 if name.endswith(".html")}
    assert names == ["access-codes.csv", "letters-approval.html", "letters-cumulative.html",
                     "letters-knapsack.html", "letters-ranked.html"]
    for page in pages.values():
        assert page.startswith('<!doctype html>\n<html lang="es">') and page.endswith("</html>\n")
        assert page.count('<article class="letter">') == 1
        assert "Su código de acceso para votar en Cycle letters-pages" in page
        assert "https://vote.example/" in page and "@media print" in page


def test_a_letters_job_for_a_closed_cycle_fails_with_the_reason(app):
    job_id = _letters_job(app, "letters-late")
    with app.app_context(), write_intent():
        from pbvote.models import Phase

        db.session.execute(update(Phase).values(ends_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()
    run_jobs(app)
    with app.app_context():
        failed = jobs.progress(job_id)
        assert failed.status == "failed" and failed.files == []
        assert failed.message == ("La votación se ha cerrado; los nuevos códigos de acceso no "
                                  "servirían de nada.")
        assert db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.roll_entry_id.is_not(None))) == 0


def test_names_that_need_quoting_escaping_or_a_formula_guard_come_out_as_the_csv_module_writes(
        app):
    """The letters job writes CSV lines by hand where nothing needs quoting (for speed); a
    name with a comma, a quote or a line break, or one starting like a formula, must still
    come out exactly as csv.writer and codes._spreadsheet_safe would write it, and the
    letter must escape it."""
    import csv
    import io

    from pbvote.models import RollEntry
    from pbvote.services import keys

    names = ["O'Brien, Ann", 'Zoë "Z" Li', "=HYPERLINK(\"x\")", "Line\nBreak", "<b>Bo</b>",
             "Plain Name", None]
    with app.test_request_context("/"), write_intent():
        made = make_cycle("letters-names")
        cycle = get_cycle(made.slug)
        district = cycle.district_by_slug("approval")
        for number, name in enumerate(names):
            db.session.add(RollEntry(cycle_id=cycle.id, district_id=district.id,
                                     postcode_match_hash=f"{number:064x}",
                                     birth_date=dt.date(1970, 1, 1 + number),
                                     identity_hash=f"{number + 1000:064x}", display_name=name))
        db.session.commit()
        job_id = letters.enqueue_roll_letters(cycle, district, "staff:tester",
                                              vote_url="https://vote.example/", locale="en")
        db.session.commit()
        hasher = keys.keyed_hasher("purpose")
        assert hasher("value") == keys.keyed_hash("purpose", "value")
    run_jobs(app)
    with app.app_context():
        folder = jobs.job_folder(job_id)
        rows = list(csv.reader(io.StringIO((folder / letters.CSV_NAME).read_text(),
                                           newline="")))
        page = (folder / "letters-approval.html").read_text()
    assert [row[3] for row in rows[len(rows) - len(names):]] == [
        f"'{n}" if n and n[:1] == "=" else n or "" for n in names]  # the new entries come last
    assert all(len(row) == 6 and row[:2] == ["letters-names", "approval"] for row in rows[1:])
    assert "&lt;b&gt;Bo&lt;/b&gt;" in page and "<b>Bo</b>" not in page


@pytest.mark.parametrize("key", ["k", "identity-key-" * 3, "x" * 64, "long-" * 40, "ключ"])
def test_the_prepared_hasher_gives_exactly_the_keyed_hash(app, key):
    """keyed_hasher writes HMAC out over prepared SHA-256 states (speed for letters); it must
    equal hmac's keyed_hash for every key length, including keys longer than a block."""
    from pbvote.services import keys

    original = app.config["IDENTITY_HMAC_KEY"]
    app.config["IDENTITY_HMAC_KEY"] = key
    try:
        with app.app_context():
            hasher = keys.keyed_hasher("access_code")
            for value in ("", "ABCD1234EFGH", "é" * 70):
                assert hasher(value) == keys.keyed_hash("access_code", value)
    finally:
        app.config["IDENTITY_HMAC_KEY"] = original
