"""SQLite writers take turns through a lock file, not through SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the database locked sleeps
in SQLite's busy handler for 1, 2, 5 … up to 100 ms between tries, so under a casting load a
few unlucky ballots waited through many long sleeps while later ones went first: the cast
p99 was ten times its median. Before BEGIN IMMEDIATE a writer now takes an exclusive
flock(2) on ``<database>-writers`` and keeps it until its connection goes back to the pool,
which is after COMMIT or ROLLBACK. The kernel wakes a waiter as soon as the lock is free,
across every thread and worker process of every server on the file, and frees it if the
holder dies (kill -9). SQLite's own locking is unchanged underneath, so anything that does
not use this queue (the sqlite3 shell, a backup) is still kept out by it.

Within a process the threads first queue on a lock of the process's own, which takes a
timeout: at most one thread per process waits on the file, and a writer that has waited as
long as SQLite's busy timeout gives up its place and is left to SQLite, which then reports
"database is locked" as it always did, instead of waiting for ever behind a stuck writer.
"""
from __future__ import annotations

import fcntl
import os
import threading

_LOCK_FD = "pbvote_writers_fd"
_HOLDER = "pbvote_writers_holder"

_holders_guard = threading.Lock()
#: thread id → turns that thread holds; a thread never waits for a turn it already has
_turns_held: dict[int, int] = {}
#: lock file → this process's turn on it (threads of one process queue here first)
_process_turns: dict[str, threading.Lock] = {}


def lock_path(database: str | None) -> str | None:
    """The lock file beside a database file; None for in-memory databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writers"


def wait_for_turn(connection_info: dict, database: str | None, timeout: float) -> None:
    """Block until this connection may write; call before BEGIN IMMEDIATE.

    Gives up after `timeout` seconds in this process's queue, leaving the wait to SQLite.
    """
    if _HOLDER in connection_info:
        return
    thread = threading.get_ident()
    path = lock_path(database)
    with _holders_guard:
        # A second writing connection in the same thread would wait on itself for ever;
        # leave it to SQLite's busy timeout, which reports "database is locked" instead.
        if path is None or _turns_held.get(thread):
            return
        process_turn = _process_turns.setdefault(path, threading.Lock())
    if not process_turn.acquire(timeout=timeout):
        return
    try:
        descriptor = connection_info.get(_LOCK_FD)
        if descriptor is None:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            connection_info[_LOCK_FD] = descriptor
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # releases the GIL while it waits
    except BaseException:
        process_turn.release()
        raise
    connection_info[_HOLDER] = (thread, process_turn)
    with _holders_guard:
        _turns_held[thread] = _turns_held.get(thread, 0) + 1


def end_turn(connection_info: dict) -> None:
    """Let the next writer in; call once the connection's transaction has ended."""
    holder = connection_info.pop(_HOLDER, None)
    if holder is None:
        return
    thread, process_turn = holder
    fcntl.flock(connection_info[_LOCK_FD], fcntl.LOCK_UN)
    process_turn.release()
    with _holders_guard:
        remaining = _turns_held.get(thread, 1) - 1
        if remaining:
            _turns_held[thread] = remaining
        else:
            _turns_held.pop(thread, None)


def forget_connection(connection_info: dict) -> None:
    """The connection is closed: end its turn and close its lock file."""
    end_turn(connection_info)
    descriptor = connection_info.pop(_LOCK_FD, None)
    if descriptor is not None:
        os.close(descriptor)
