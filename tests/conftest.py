"""Shared fixtures. Every test that asks for `app` runs once per engine in PBVOTE_TEST_ENGINES
(default: sqlite and postgresql). The schema is built by the migrations, once per engine."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ENGINES = [e.strip() for e in os.environ.get("PBVOTE_TEST_ENGINES", "sqlite,postgresql").split(",")
           if e.strip()]
#: an explicit database to reuse; by default each session makes its own and drops it after,
#: so runs that overlap on one server (a developer's and CI's) never empty each other's
POSTGRES_URL = os.environ.get("PBVOTE_TEST_POSTGRES_URL")
POSTGRES_SERVER_URL = os.environ.get(
    "PBVOTE_TEST_POSTGRES_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _prepare_postgres(url: str) -> None:
    """Create the test database if needed and empty it, so the migrations start from nothing."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                   {"name": target.database})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory):
    """engine name → URL of a database built by the migrations, made on first use."""
    built: dict[str, str] = {}
    throwaway: list[str] = []

    def get(engine_name: str) -> str:
        if engine_name not in built:
            if engine_name == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'pbvote.sqlite3'}"
            elif engine_name == "postgresql":
                url = POSTGRES_URL
                if url is None:
                    name = f"pbvote_test_{os.getpid()}_{secrets.token_hex(3)}"
                    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(
                        hide_password=False)
                    throwaway.append(url)
                _prepare_postgres(url)
            else:
                raise ValueError(f"unknown test engine {engine_name!r}")
            from flask_migrate import upgrade

            from pbvote import create_app

            os.environ.setdefault("PBVOTE_INSTANCE_PATH", tempfile.mkdtemp())
            app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
            with app.app_context():
                upgrade()
                from pbvote.infra.extensions import db

                db.engine.dispose()
            built[engine_name] = url
        return built[engine_name]

    yield get
    for url in throwaway:
        _drop_postgres(url)


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def app(engine_name, migrated_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    from pbvote import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name))
    yield app
    with app.app_context():
        from pbvote.infra.extensions import db

        db.session.remove()
        _empty_all_tables(db)
        db.engine.dispose()


def _empty_all_tables(db) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_PATTERN = re.compile(r'name="(?:[a-z]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_PATTERN.search(html) or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


REPO_ROOT = Path(__file__).resolve().parent.parent


# --- security suite: keep every log record of the whole run and scan it at the end
# (ASVS V7.1.1; see tests/security/log_capture.py) ---
pytest_plugins = ["tests.security.log_capture"]
# --- end security suite ---
