"""One-row reads in autocommit, outside the ORM session: the cycle revision check.

Every voting request compares its cycle's config_revision before using the cached cycle
(services.voting.voting_cycle). Through the ORM session that one read cost a session
begin and commit; on PostgreSQL it also cost the pool's pre-ping, a BEGIN and a ROLLBACK,
four round trips for one row.

- SQLite: the app's own pool. Its connections run in autocommit (pbvote.infra.extensions), so a
  lone SELECT takes no lock, and SQLite is never pre-pinged.
- PostgreSQL and others: a small pool of autocommit connections of its own, without
  pre-ping: the read is one round trip. A connection found dead (the server restarted) is
  dropped and the read retried once on a fresh one, which is what pre-ping would have
  done, so a database restart still fails no request. The pool is disposed with the app's
  engine.
"""
from __future__ import annotations

import threading
import weakref

from flask import current_app
from sqlalchemy import create_engine, event

from pbvote.infra.extensions import db

#: the DBAPI's placeholder for one positional parameter, by its paramstyle
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1"}
#: app engine → its autocommit engine for these reads
_AUTOCOMMIT_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CREATING = threading.Lock()


def read(sql_template: str, value) -> tuple | None:
    """The first row of `sql_template` with its one "{}" placeholder bound to `value`."""
    engine = _engine_for(db.engine)
    sql = sql_template.format(_PLACEHOLDERS[engine.dialect.paramstyle])
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            return _first_row(connection, sql, value)
        except engine.dialect.loaded_dbapi.Error as error:
            if attempt == 2 or not engine.dialect.is_disconnect(
                    error, connection.dbapi_connection, None):
                raise
            connection.invalidate(error)  # not back into the pool: the retry gets a new one
        finally:
            connection.close()
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _first_row(connection, sql: str, value) -> tuple | None:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, (value,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else tuple(row)


def _engine_for(app_engine):
    if app_engine.dialect.name == "sqlite":
        return app_engine
    engine = _AUTOCOMMIT_ENGINES.get(app_engine)
    if engine is not None:
        return engine
    with _CREATING:  # two threads of a fresh worker must not each build a pool
        engine = _AUTOCOMMIT_ENGINES.get(app_engine)
        if engine is not None:
            return engine
        # the app's own engine options (pool size, connect arguments), so the pool keeps as
        # many connections as the app's threads use at once instead of opening new ones
        options = {**(current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
                   "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False}
        engine = create_engine(app_engine.url, **options)
        _AUTOCOMMIT_ENGINES[app_engine] = engine
        event.listen(app_engine, "engine_disposed", _dispose_with)
    return engine


def _dispose_with(app_engine) -> None:
    engine = _AUTOCOMMIT_ENGINES.pop(app_engine, None)
    if engine is not None:
        engine.dispose()

