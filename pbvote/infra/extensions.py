"""Flask extensions, created unbound and attached in create_app."""
from __future__ import annotations

import sqlite3

from flask import request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

from pbvote.infra import sqlite_writers
from pbvote.infra.db import WRITE_INTENT, request_writes

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


class AccountLoginManager(LoginManager):
    """Flask-Login, with its session protection kept to sessions that hold an account.

    In "strong" mode Flask-Login treats any session without its own `_id` key as stolen:
    it drops its keys and marks a remember cookie for deletion. A resident's voting session
    holds no account, so every page they opened was answered with a re-signed session
    cookie and a deleted remember_token cookie, for nothing to protect.
    """

    def _session_protection_failed(self):
        from flask import session

        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = AccountLoginManager()
# "strong": a session cookie replayed from another address or browser is dropped.
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"


def init_app(app) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR") or _migrations_dir()))
    csrf.init_app(app)
    # Babel is bound by the web layer (pbvote.web.i18n.install), which owns the locale
    # selector, and the account loader lives in pbvote.web.auth: infrastructure imports
    # neither web nor services.
    limiter.init_app(app)
    login_manager.init_app(app)
    app.session_interface = ReusedSigningSessionInterface()
    _sqlite_busy_timeout["ms"] = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30000))

    @app.url_value_preprocessor
    def mark_write_intent(_endpoint, _values):
        # SQLite: a state-changing request starts with BEGIN IMMEDIATE so that
        # writers queue on the busy timeout instead of failing on a stale snapshot.
        # An app-wide URL value preprocessor runs before any blueprint's (which may query,
        # as vote.load_cycle does) and before every before_request function; threads of a
        # gthread worker reuse their context, so the flag must be set before the first query.
        WRITE_INTENT.set(request_writes(request.method, request.endpoint))

    @app.teardown_request
    def forget_write_intent(_error):
        # the flag is the request's: a test client runs requests in the test's own thread,
        # where a POST's flag would otherwise make later reads there BEGIN IMMEDIATE
        WRITE_INTENT.set(False)

    @app.after_request
    def commit_once(response):
        # One commit per request, and only for a successful response.
        if not db.session.registry.has():
            return response  # the request never used the database (a static file)
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response


def limit_only_decorated_views(app) -> None:
    """Drop Flask-Limiter's check before every request: pbvote sets no default,
    application-wide, blueprint or meta limits, and each decorated view checks its own limits
    when it is called. Called once every blueprint is registered.

    The app-wide check found nothing to count on every page, yet cost a tenth of a static
    file's time and 3 % of a voter's journey. Should default or application limits ever be
    configured, the check stays.
    """
    manager = limiter.limit_manager
    if (manager.default_limits or manager.application_limits or manager._blueprint_limits
            or limiter._meta_limits):
        return
    app.before_request_funcs[None] = [function for function in app.before_request_funcs[None]
                                      if function != limiter._check_request_limit]


class ReusedSigningSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per app.

    Flask builds a new serializer, signer and key derivation twice per request (to open
    and to save the session); the result depends only on the app's secret and settings.
    """

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("pbvote_session_serializer")
        if cached is not None and cached[0] == key:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        app.extensions["pbvote_session_serializer"] = (key, serializer)
        return serializer


def _migrations_dir():
    return _package_dir().parent / "migrations"


def _package_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent  # pbvote/


_sqlite_busy_timeout = {"ms": 30000}


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred-only).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_sqlite_busy_timeout['ms']}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    if WRITE_INTENT.get():
        sqlite_writers.wait_for_turn(connection.info, connection.engine.url.database,
                                     timeout=_sqlite_busy_timeout["ms"] / 1000)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


@event.listens_for(Pool, "checkin")
def _end_sqlite_writer_turn(_dbapi_connection, record) -> None:
    # back in the pool: its transaction has committed or rolled back
    if record is not None:
        sqlite_writers.end_turn(record.info)


@event.listens_for(Pool, "close")
@event.listens_for(Pool, "invalidate")
def _forget_sqlite_writer(_dbapi_connection, record, *_exception) -> None:
    if record is not None:
        sqlite_writers.forget_connection(record.info)
