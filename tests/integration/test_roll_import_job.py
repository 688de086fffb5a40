"""The roll import job applies a checked file in short transactions (issue #21, "city scale
without stalls"), on both engines: ballots are cast between its batches, a job stopped
between two batches completes when resumed, a file that fails its check changes nothing,
and a person who votes while the import is applied is kept."""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import threading

import pytest
from sqlalchemy import select, update

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Job, LogEntry, Phase, RollEntry
from pbvote.services import codes, roll_import, roll_import_job, setup, voting
from pbvote.services import roll_import_batches as batches
from pbvote.services.errors import AlreadyVoted, DomainError, NotEligible
from tests.factories import make_cycle
from tests.job_helpers import run_jobs

HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"
WAIT = 60  # seconds an event may take before the test fails instead of hanging


def person(number: int, postcode: str | None = None) -> str:
    return f"Person{number},1970-01-{number:02d},{postcode or f'P{number}'},approval,N{number},\n"


#: stored before the job: people 1 to 4
FIRST = HEADER + "".join(person(n) for n in range(1, 5))
#: 1 unchanged, 2 changed, 3 removed, 4 voted and left out (kept), 5 to 11 added
SECOND = HEADER + person(1) + person(2, "Q2") + "".join(person(n) for n in range(5, 12))
EXPECTED = {"rows": 9, "added": 7, "changed": 1, "unchanged": 1, "removed": 1,
            "kept_voted": 1}


class Crash(BaseException):
    """A worker killed between two batches: nothing of the job's own handling runs."""


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(batches, "APPLY_BATCH_ROWS", 2)
    monkeypatch.setattr(batches, "REMOVE_BATCH_ROWS", 1)


@pytest.fixture
def cycle_id(app_context, tmp_path):
    with write_intent():
        made = make_cycle("batched", codes_per_district=0)
        db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        path = tmp_path / "first.csv"
        path.write_text(FIRST, encoding="utf-8")
        roll_import.apply_import(cycle, path, "staff", confirmed_removals=5)
        db.session.commit()
        vote(made.cycle_id, 4)
    return made.cycle_id


def find(cycle_id: int, number: int, postcode: str | None = None) -> voting.VerifiedVoter:
    cycle = db.session.get(Cycle, cycle_id)
    return voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), f"Person{number}",
                                 dt.date(1970, 1, number), postcode or f"P{number}")


def vote(cycle_id: int, number: int) -> None:
    with write_intent():
        voting.cast_ballot(find(cycle_id, number), ["AP-A"])
        db.session.commit()


def on_roll(cycle_id: int, number: int, postcode: str | None = None) -> bool:
    try:
        find(cycle_id, number, postcode)
    except NotEligible:
        return False
    except AlreadyVoted:
        return True
    finally:
        db.session.rollback()
    return True


def enqueue(cycle_id: int, text: str) -> str:
    with write_intent():
        cycle = db.session.get(Cycle, cycle_id)
        token = roll_import.stash_upload(io.BytesIO(text.encode()), str(cycle_id))
        plan = roll_import.plan_import(cycle, roll_import.stash_path(token, str(cycle_id)))
        job_id = roll_import_job.enqueue_import(cycle, token, {}, plan.fingerprint(),
                                                plan.removed, "staff:ana", "en")
        db.session.commit()
    return job_id


def job(job_id: str) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def import_logs() -> list[dict]:
    db.session.expire_all()
    return [json.loads(text)["data"] for text in db.session.scalars(
        select(LogEntry.entry_json).where(LogEntry.kind == "roll.imported")
        .order_by(LogEntry.position))]


def stored_roll(cycle_id: int) -> list[tuple]:
    db.session.expire_all()
    return sorted(db.session.execute(select(
        RollEntry.district_id, RollEntry.identity_hash, RollEntry.postcode_match_hash,
        RollEntry.details_hash).where(RollEntry.cycle_id == cycle_id)).all())


def assert_second_applied(cycle_id: int) -> None:
    assert on_roll(cycle_id, 1) and on_roll(cycle_id, 2, "Q2") and not on_roll(cycle_id, 2)
    assert not on_roll(cycle_id, 3)
    assert all(on_roll(cycle_id, n) for n in range(5, 12))
    with pytest.raises(AlreadyVoted):
        find(cycle_id, 4)  # kept, and still marked as voted
    db.session.rollback()
    logged = import_logs()[-1]
    assert {key: logged[key] for key in EXPECTED} == EXPECTED
    assert logged["before"] == {"entries": 4} and logged["after"] == {"entries": 10}


def test_the_job_gives_the_same_roll_as_one_transaction(app_context, cycle_id, tmp_path,
                                                        small_batches):
    job_id = enqueue(cycle_id, SECOND)
    run_jobs(app_context)
    assert job(job_id).status == "done", job(job_id).message
    assert_second_applied(cycle_id)
    assert "Added 7, changed 1, removed 1, unchanged 1" in job(job_id).message
    by_job = stored_roll(cycle_id)
    # the same file applied in one transaction to a copy of the roll before the job
    with write_intent():
        twin = make_cycle("twin", codes_per_district=0)
        db.session.commit()
        first, second = tmp_path / "1.csv", tmp_path / "2.csv"
        first.write_text(FIRST.replace("batched", "twin"), encoding="utf-8")
        second.write_text(SECOND, encoding="utf-8")
        roll_import.apply_import(db.session.get(Cycle, twin.cycle_id), first, "staff",
                                 confirmed_removals=5)
        db.session.commit()
        vote(twin.cycle_id, 4)
        roll_import.apply_import(db.session.get(Cycle, twin.cycle_id), second, "staff",
                                 confirmed_removals=1)
        db.session.commit()
    assert len(stored_roll(twin.cycle_id)) == len(by_job) == 10
    assert {key: import_logs()[-1][key] for key in EXPECTED} == EXPECTED


@pytest.mark.parametrize("failure", ["crash", "error"])
def test_a_job_stopped_between_batches_completes_when_resumed(app_context, cycle_id,
                                                              small_batches, monkeypatch,
                                                              failure):
    """Stopped after its first batch of rows: what was committed stays, nothing else may
    import meanwhile, and the job resumed from its checkpoint ends with the full roll."""
    written = []
    original = batches.write_rows

    def stopping(cycle, changes):
        if len(written) == 1:
            raise Crash() if failure == "crash" else OSError("connection lost")
        written.append(len(changes.inserts))
        return original(cycle, changes)

    monkeypatch.setattr(batches, "write_rows", stopping)
    job_id = enqueue(cycle_id, SECOND)
    with pytest.raises(Crash) if failure == "crash" else contextlib.nullcontext():
        run_jobs(app_context)
    stopped = job(job_id)
    assert written == [0] and stopped.status == ("running" if failure == "crash" else "queued")
    assert json.loads(stopped.checkpoint)["phase"] == "rows"
    # the removal and the first batch (people 1 and 2) are in; the rest is not yet
    assert on_roll(cycle_id, 2, "Q2") and not on_roll(cycle_id, 3)
    assert not on_roll(cycle_id, 5) and len(import_logs()) == 1
    if failure == "crash":
        # while the job waits to be resumed it still holds the roll
        with write_intent(), pytest.raises(batches.ImportRunning):
            roll_import.apply_import(db.session.get(Cycle, cycle_id), roll_import.stash_path(
                json.loads(stopped.payload)["token"], str(cycle_id)), "staff")
        db.session.rollback()

    monkeypatch.setattr(batches, "write_rows", original)
    past = utcnow() - dt.timedelta(seconds=1)
    with write_intent():  # the lease runs out / the retry falls due
        db.session.execute(update(Job).where(Job.id == job_id).values(
            lease_until=past, run_after=past))
        db.session.commit()
    run_jobs(app_context)
    assert job(job_id).status == "done", job(job_id).message
    assert job(job_id).attempts == 2
    assert_second_applied(cycle_id)
    assert len(import_logs()) == 2  # the first import's entry and this one's, once


def test_a_file_that_fails_its_check_changes_nothing_and_frees_the_roll(
        app_context, cycle_id, small_batches):
    before = stored_roll(cycle_id)
    job_id = enqueue(cycle_id, SECOND + "Bad,1970-13-01,P99,approval,N99,\n")
    run_jobs(app_context)
    assert job(job_id).status == "failed" and "problem" in job(job_id).message
    assert stored_roll(cycle_id) == before and len(import_logs()) == 1
    done = enqueue(cycle_id, SECOND)
    run_jobs(app_context)
    assert job(done).status == "done"
    assert_second_applied(cycle_id)


def _run_in_thread(app) -> tuple[threading.Thread, list]:
    errors: list = []

    def work():
        try:
            run_jobs(app)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    return thread, errors


def test_a_ballot_is_cast_while_the_job_is_between_batches(app_context, cycle_id,
                                                          small_batches, monkeypatch):
    """The job pauses after its first batch of rows has committed; meanwhile a resident of
    that batch votes (on SQLite: the write lock is free) and one of a later batch is not
    on the roll yet."""
    between, cast = threading.Event(), threading.Event()
    original = roll_import_job._writing
    written = []
    write_rows = batches.write_rows

    def counting(cycle, changes):
        written.append(len(changes.inserts))
        return write_rows(cycle, changes)

    @contextlib.contextmanager
    def pausing(cycle_id_):
        if len(written) == 2 and not between.is_set():
            between.set()
            assert cast.wait(WAIT)
        with original(cycle_id_):
            yield

    monkeypatch.setattr(batches, "write_rows", counting)
    monkeypatch.setattr(roll_import_job, "_writing", pausing)
    job_id = enqueue(cycle_id, SECOND)
    thread, errors = _run_in_thread(app_context)
    try:
        assert between.wait(WAIT)
        assert on_roll(cycle_id, 5) and not on_roll(cycle_id, 7)  # batch 2 of rows: 5 and 6
        vote(cycle_id, 5)
    finally:
        cast.set()
        thread.join(WAIT)
    assert not errors and job(job_id).status == "done", job(job_id).message
    assert_second_applied(cycle_id)


@pytest.mark.parametrize("when", ["check", "rows"])
def test_someone_who_votes_while_the_import_is_applied_is_kept(app_context, cycle_id,
                                                              small_batches, monkeypatch,
                                                              when):
    """"check": person 3 votes after the check planned to remove them, person 2 after it
    planned to change their postcode. "rows": person 2 votes after the rows phase read who
    voted, so their batch finds it out. Either way they are kept as they were, and the
    counts say so."""
    paused, voted = threading.Event(), threading.Event()
    if when == "check":
        module, name, pause_at, voters = roll_import_job, "_check", 1, (3, 2)
    else:  # reads of who voted: the preview, the check, the rows phase
        module, name, pause_at, voters = roll_import, "_voted_identities", 3, (2,)
    original = getattr(module, name)
    calls = []

    def pausing(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(name)
        if len(calls) == pause_at:
            paused.set()
            assert voted.wait(WAIT)
        return result

    monkeypatch.setattr(module, name, pausing)
    job_id = enqueue(cycle_id, SECOND)
    thread, errors = _run_in_thread(app_context)
    try:
        assert paused.wait(WAIT)
        for number in voters:
            vote(cycle_id, number)
    finally:
        voted.set()
        thread.join(WAIT)
    assert not errors and job(job_id).status == "done", job(job_id).message
    for number in voters:
        with pytest.raises(AlreadyVoted):
            find(cycle_id, number)  # still on the roll as they were, as someone who voted
        db.session.rollback()
    assert not on_roll(cycle_id, 2, "Q2")
    removed = 0 if 3 in voters else 1
    logged = import_logs()[-1]
    assert {key: logged[key] for key in EXPECTED} == {
        **EXPECTED, "changed": 0, "removed": removed, "kept_voted": 1 + len(voters)}
    assert f"changed 0, removed {removed}, unchanged 1; kept because already voted: " \
        f"{1 + len(voters)}" in job(job_id).message


def stop_job_at(app, monkeypatch, cycle_id: int, phase: str) -> str:
    """Enqueue SECOND and kill its worker: "remove" before its first removal commits, "rows"
    after its first batch of rows. The job is left running, holding the roll."""
    name = "remove_entries" if phase == "remove" else "write_rows"
    original = getattr(batches, name)
    calls = []

    def stopping(cycle, work):
        calls.append(name)
        if len(calls) == (1 if phase == "remove" else 2):
            raise Crash()
        return original(cycle, work)

    monkeypatch.setattr(batches, name, stopping)
    job_id = enqueue(cycle_id, SECOND)
    with pytest.raises(Crash):
        run_jobs(app)
    monkeypatch.setattr(batches, name, original)
    stopped = job(job_id)
    assert stopped.status == "running" and json.loads(stopped.checkpoint)["phase"] == phase
    return job_id


def resume(app, job_id: str) -> None:
    past = utcnow() - dt.timedelta(seconds=1)
    with write_intent():  # the dead worker's lease runs out
        db.session.execute(update(Job).where(Job.id == job_id).values(
            lease_until=past, run_after=past))
        db.session.commit()
    run_jobs(app)


def move_voting_end(cycle_id: int, delta: dt.timedelta) -> None:
    """Voting closes (a negative delta) or reopens by its schedule, as the window's end."""
    with write_intent():
        db.session.execute(update(Phase).where(Phase.cycle_id == cycle_id,
                                               Phase.kind == "voting")
                           .values(ends_at=utcnow() + delta))
        db.session.commit()
    db.session.expire_all()


@pytest.mark.parametrize("phase", ["remove", "rows"])
def test_an_import_cut_off_before_voting_closed_by_schedule_completes_when_resumed(
        app_context, cycle_id, small_batches, monkeypatch, phase):
    """Its check passed while voting was open, so the roll the city confirmed is applied in
    full, even though voting closed by its schedule while the job was stopped; who voted
    is still kept."""
    job_id = stop_job_at(app_context, monkeypatch, cycle_id, phase)
    move_voting_end(cycle_id, -dt.timedelta(seconds=1))
    resume(app_context, job_id)
    assert job(job_id).status == "done", job(job_id).message
    assert job(job_id).attempts == 2
    assert "Added 7, changed 1, removed 1, unchanged 1" in job(job_id).message
    move_voting_end(cycle_id, dt.timedelta(days=1))  # only to look the people up
    assert_second_applied(cycle_id)
    assert len(import_logs()) == 2


def test_voting_cannot_be_closed_by_hand_while_an_import_holds_the_roll(
        app_context, cycle_id, small_batches, monkeypatch):
    job_id = stop_job_at(app_context, monkeypatch, cycle_id, "rows")
    with write_intent(), pytest.raises(DomainError) as refused:
        setup.close_voting(db.session.get(Cycle, cycle_id), "staff:ana")
    db.session.rollback()
    assert refused.value.status == 409 and "import" in refused.value.message
    assert db.session.get(Cycle, cycle_id).voting_open(utcnow())
    resume(app_context, job_id)
    assert job(job_id).status == "done", job(job_id).message
    with write_intent():
        setup.close_voting(db.session.get(Cycle, cycle_id), "staff:ana")
        db.session.commit()
    db.session.expire_all()
    assert not db.session.get(Cycle, cycle_id).voting_open(utcnow())


def test_a_check_that_ends_after_voting_closed_changes_nothing(app_context, cycle_id,
                                                              small_batches, monkeypatch):
    """Voting closes by its schedule while the job reads the file: the check has not
    passed before the close, so the job fails with the roll as it was."""
    original = roll_import_job._check

    def closing_meanwhile(*args, **kwargs):
        plan = original(*args, **kwargs)
        move_voting_end(cycle_id, -dt.timedelta(seconds=1))
        return plan

    monkeypatch.setattr(roll_import_job, "_check", closing_meanwhile)
    before = stored_roll(cycle_id)
    job_id = enqueue(cycle_id, SECOND)
    run_jobs(app_context)
    assert job(job_id).status == "failed" and "closed" in job(job_id).message
    assert stored_roll(cycle_id) == before and len(import_logs()) == 1
    assert batches.running_import(cycle_id) is None


def test_codes_for_the_roll_are_not_issued_while_an_import_holds_it(
        app_context, cycle_id, small_batches, monkeypatch):
    job_id = stop_job_at(app_context, monkeypatch, cycle_id, "rows")
    with write_intent(), pytest.raises(DomainError) as refused:
        codes.issue_codes_for_roll(db.session.get(Cycle, cycle_id), None, "staff:ana")
    db.session.rollback()
    assert refused.value.status == 409 and "import" in refused.value.message
    resume(app_context, job_id)
    assert job(job_id).status == "done", job(job_id).message
    with write_intent():
        issued = codes.issue_codes_for_roll(db.session.get(Cycle, cycle_id), None, "staff:ana")
        db.session.commit()
    assert len(issued.codes) == 9  # all of the new roll but person 4, who voted


def test_the_count_waits_for_an_import_that_finishes_after_the_close(
        app_context, cycle_id, small_batches, monkeypatch):
    """The results' roll size and turnout are of the roll the import leaves."""
    from pbvote.models import Account
    from pbvote.services import publication
    from tests.staff_helpers import make_account

    staff = make_account("staff")[0]
    job_id = stop_job_at(app_context, monkeypatch, cycle_id, "rows")
    move_voting_end(cycle_id, -dt.timedelta(seconds=1))
    with write_intent(), pytest.raises(DomainError) as refused:
        publication.run_tally(db.session.get(Cycle, cycle_id), db.session.get(Account, staff))
    db.session.rollback()
    assert refused.value.status == 409 and "import" in refused.value.message
    resume(app_context, job_id)
    assert job(job_id).status == "done", job(job_id).message
    with write_intent():
        run = publication.run_tally(db.session.get(Cycle, cycle_id),
                                    db.session.get(Account, staff))
        db.session.commit()
    assert json.loads(run.results_json)["totals"]["roll_size"] == 10
