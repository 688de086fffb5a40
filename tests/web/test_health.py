"""/healthz and /readyz: for load balancers, without a session or personal data; /readyz
answers 503 naming the failing check when the database, the schema or Redis is not there."""
from __future__ import annotations

import pytest

from pbvote import create_app
from pbvote.services import health

pytestmark = pytest.mark.db


def test_health_and_readiness_answer_without_a_session(client):
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
    for response in (alive, ready):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "no-store"
    assert client.post("/readyz").status_code == 405


def test_readiness_fails_when_the_schema_is_behind(client, monkeypatch):
    monkeypatch.setattr(health, "migration_heads", lambda _directory: frozenset({"9999_later"}))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"] == {"database": "ok",
                                     "migrations": "the schema is not at the migrations' head"}


def test_readiness_fails_when_redis_is_down(app, monkeypatch):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.json["checks"]["redis"] == "unreachable"
    assert "127.0.0.1:1" not in answer.text


def test_readiness_with_redis_up(app):
    app.config["JOBS_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 200 and answer.json["checks"]["redis"] == "ok"


def test_readiness_fails_when_the_database_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/x")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process itself answers
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json == {"status": "not ready", "checks": {"database": "unreachable"}}


def test_pages_answer_503_with_a_clear_page_when_the_database_is_down(tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/x")
    answer = app.test_client().get("/")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert "briefly unavailable" in answer.text and "127.0.0.1:1" not in answer.text
