"""Database helpers shared by services: write intent, row locks and time types."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy import DateTime, Select
from sqlalchemy.types import TypeDecorator

#: True while the current unit of work intends to write (POST request, CLI command).
WRITE_INTENT: ContextVar[bool] = ContextVar("pbvote_write_intent", default=False)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: endpoints whose POST only reads the database (see reads_only)
_READ_ONLY_ENDPOINTS: set[str] = set()


def reads_only(*endpoints: str) -> None:
    """Declare endpoints whose POST never writes the database.

    On SQLite their requests begin a plain (deferred) transaction instead of BEGIN IMMEDIATE,
    so they do not queue behind, or hold up, the requests that do write (casting a ballot).
    An endpoint listed here that writes anyway would fail with "database is locked" under
    load, so list only pure reads (eligibility checks, a draft kept in the session).
    """
    _READ_ONLY_ENDPOINTS.update(endpoints)


def request_writes(method: str, endpoint: str | None) -> bool:
    return method not in SAFE_METHODS and endpoint not in _READ_ONLY_ENDPOINTS


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    token = WRITE_INTENT.set(True)
    try:
        yield
    finally:
        WRITE_INTENT.reset(token)


@contextlib.contextmanager
def reads_first() -> Iterator[None]:
    """Within a writing unit of work, transactions that begin here only read: on SQLite a
    plain BEGIN, which neither waits for nor holds the write lock ballots queue on (a long
    read of a large roll). End the transaction before writing again: SQLite cannot turn a
    read that others' commits overtook into a write."""
    token = WRITE_INTENT.set(False)
    try:
        yield
    finally:
        WRITE_INTENT.reset(token)


@contextlib.contextmanager
def sqlite_foreign_keys_off(connection) -> Iterator[None]:
    """For migrations, entered before their transaction begins (SQLite ignores the pragma
    inside one). Alembic's batch mode rebuilds a SQLite table by dropping the old one; with
    foreign keys on, that DROP cascades and empties every table that refers to it (a
    downgrade dropping one column of `cycle` deleted every district and project). On exit the
    keys are on again; `foreign_key_violations` checks what the migration left."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection  # outside SQLAlchemy's own BEGIN
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def foreign_key_violations(connection) -> list[str]:
    """SQLite: rows whose foreign key points nowhere (PostgreSQL never leaves any)."""
    if connection.dialect.name != "sqlite":
        return []
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return [f"{table} row {rowid} refers to a missing {parent}" for table, rowid, parent, _ in rows]


def for_update(statement: Select) -> Select:
    """Lock the selected rows until commit.

    PostgreSQL takes a row lock; SQLite ignores FOR UPDATE, and the BEGIN IMMEDIATE
    of a writing transaction already holds the database's single write lock.
    """
    return statement.with_for_update()


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and returns aware UTC, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
