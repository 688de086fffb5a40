"""Migration 0017_project_comments goes down and up again on both engines: the downgrade
removes the project column and its CHECK; the upgrade puts them back."""
from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.conftest import ENGINES, POSTGRES_SERVER_URL, _drop_postgres, _prepare_postgres


@pytest.fixture(params=ENGINES)
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"pbvote_test_{os.getpid()}_{secrets.token_hex(3)}"
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    _prepare_postgres(url)
    yield url
    _drop_postgres(url)


def _comment_columns(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return ({c["name"] for c in found.get_columns("comment")},
                {c["name"] for c in found.get_check_constraints("comment")})
    finally:
        engine.dispose()


def test_down_and_up_again(fresh_url, tmp_path, monkeypatch):
    from flask_migrate import downgrade, upgrade

    from pbvote import create_app
    from pbvote.infra.extensions import db

    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context():
        upgrade(revision="0017_project_comments")
        db.engine.dispose()
        columns, checks = _comment_columns(fresh_url)
        assert "project_id" in columns and "ck_comment_one_target" in checks
        downgrade(revision="-1")  # one step, whatever the lead chains before it
        db.engine.dispose()
        columns, checks = _comment_columns(fresh_url)
        assert "project_id" not in columns and "ck_comment_one_target" not in checks
        upgrade(revision="0017_project_comments")
        db.engine.dispose()
    assert "project_id" in _comment_columns(fresh_url)[0]
