"""SQLite writers queue on a lock file (pbvote.infra.sqlite_writers), not in SQLite's busy loop.

Each test sets SQLite's busy timeout to 100 ms: a writer that waited in SQLite's busy
handler for longer than that would fail with "database is locked", so a write that
succeeds after a longer wait shows that it waited in the queue.
"""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pbvote.infra import extensions, sqlite_writers
from pbvote.infra.db import write_intent

HOLD_SECONDS = 0.5


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setitem(extensions._sqlite_busy_timeout, "ms", 100)
    engine = create_engine(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE vote (who TEXT)"))
    yield engine
    engine.dispose()


def _hold_the_write_lock(engine, started: threading.Event, outcome: list) -> None:
    try:
        with write_intent(), engine.begin() as connection:
            connection.execute(text("INSERT INTO vote VALUES ('first')"))
            started.set()
            time.sleep(HOLD_SECONDS)
        outcome.append("committed")
    except Exception as error:  # noqa: BLE001 - reported by the test
        outcome.append(repr(error))
        started.set()


def _hold_from_another_process(url: str, started, seconds: float) -> None:
    from pbvote.infra import extensions  # noqa: F401 - the connection hooks, as in a worker

    engine = create_engine(url)
    with write_intent(), engine.begin() as connection:
        connection.execute(text("INSERT INTO vote VALUES ('first')"))
        started.set()
        time.sleep(seconds)
    engine.dispose()


def test_a_writer_waits_for_another_process_past_the_busy_timeout(engine):
    """Another worker holds the write lock for longer than the busy timeout: the writer
    waits on the lock file and then writes, where SQLite's busy loop would have failed."""
    context = multiprocessing.get_context("fork")
    started = context.Event()
    holder = context.Process(target=_hold_from_another_process,
                             args=(str(engine.url), started, HOLD_SECONDS))
    holder.start()
    assert started.wait(10)
    began = time.monotonic()
    with write_intent(), engine.begin() as connection:
        connection.execute(text("INSERT INTO vote VALUES ('second')"))
    waited = time.monotonic() - began
    holder.join(10)
    assert holder.exitcode == 0
    assert waited > HOLD_SECONDS / 2
    with engine.connect() as connection:
        assert connection.execute(text("SELECT who FROM vote ORDER BY rowid")).scalars().all() \
            == ["first", "second"]


def test_threads_of_one_process_take_turns(engine, monkeypatch):
    monkeypatch.setitem(extensions._sqlite_busy_timeout, "ms", 5000)
    started, outcome = threading.Event(), []
    holder = threading.Thread(target=_hold_the_write_lock, args=(engine, started, outcome))
    holder.start()
    assert started.wait(5)
    with write_intent(), engine.begin() as connection:
        connection.execute(text("INSERT INTO vote VALUES ('second')"))
    holder.join(5)
    assert outcome == ["committed"]
    assert not sqlite_writers._turns_held


def test_a_thread_stops_queueing_after_the_busy_timeout(engine):
    """Behind a writer that does not finish, a thread's wait is bounded: after the busy
    timeout in its process's queue it is left to SQLite, which reports the lock."""
    started, outcome = threading.Event(), []
    holder = threading.Thread(target=_hold_the_write_lock, args=(engine, started, outcome))
    holder.start()
    assert started.wait(5)
    began = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"), write_intent(), \
            engine.begin() as connection:
        connection.execute(text("INSERT INTO vote VALUES ('second')"))
    assert time.monotonic() - began < HOLD_SECONDS
    holder.join(5)
    assert outcome == ["committed"]


def test_readers_do_not_queue_behind_a_writer(engine):
    started, outcome = threading.Event(), []
    holder = threading.Thread(target=_hold_the_write_lock, args=(engine, started, outcome))
    holder.start()
    assert started.wait(5)
    began = time.monotonic()
    with engine.connect() as connection:  # no write intent: a plain BEGIN
        assert connection.execute(text("SELECT count(*) FROM vote")).scalar() == 0
    assert time.monotonic() - began < HOLD_SECONDS / 2
    holder.join(5)


def test_a_rolled_back_writer_lets_the_next_one_in(engine):
    with pytest.raises(RuntimeError), write_intent(), engine.begin() as connection:
        connection.execute(text("INSERT INTO vote VALUES ('undone')"))
        raise RuntimeError("the request failed")
    done = []

    def write_from_another_thread():
        with write_intent(), engine.begin() as connection:
            connection.execute(text("INSERT INTO vote VALUES ('next')"))
        done.append(True)

    other = threading.Thread(target=write_from_another_thread)
    other.start()
    other.join(5)
    assert done == [True]
    assert not sqlite_writers._turns_held


def test_a_second_writing_connection_in_one_thread_fails_instead_of_waiting_for_ever(engine):
    """The thread already has the turn: its second writer is left to SQLite's busy timeout
    (an error after 100 ms) rather than waiting on a lock only it can release."""
    outcome = []

    def two_writers():
        with write_intent(), engine.begin() as first:
            first.execute(text("INSERT INTO vote VALUES ('first')"))
            try:
                with engine.begin() as second:
                    second.execute(text("INSERT INTO vote VALUES ('second')"))
                outcome.append("second wrote")
            except OperationalError as error:
                outcome.append(str(error.orig))

    thread = threading.Thread(target=two_writers, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the second writer waited on its own thread"
    assert outcome == ["database is locked"]
    assert not sqlite_writers._turns_held


def test_in_memory_databases_have_no_lock_file():
    assert sqlite_writers.lock_path(":memory:") is None
    assert sqlite_writers.lock_path("") is None
    assert sqlite_writers.lock_path("/srv/pbvote.sqlite3") == "/srv/pbvote.sqlite3-writers"
