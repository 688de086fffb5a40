"""Production refuses to start with a setting that would weaken it silently (issue #21,
items 2, 3 and 14): no identity key of its own, short or shared secrets, no explicit
database URL, per-process rate limits with several workers."""
from __future__ import annotations

import pytest

from pbvote import CONFIG_DIR, create_app
from pbvote.infra.settings import ProductionConfigError

GOOD = {"PBVOTE_SECRET_KEY": "s" * 40, "PBVOTE_IDENTITY_KEY": "i" * 40,
        "PBVOTE_DATABASE_URL": "sqlite://", "PBVOTE_RATELIMIT_STORAGE_URI": "memory://",
        "PBVOTE_WORKERS": "1"}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))

    def use(**changes):
        database = {"PBVOTE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
        for name, value in {**GOOD, **database, **changes}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
    return use


def _start():
    return create_app(str(CONFIG_DIR / "production.example.py"))


def test_a_complete_production_environment_starts(environment):
    environment()
    app = _start()
    assert app.config["IDENTITY_HMAC_KEY"] == "i" * 40


@pytest.mark.parametrize(("changes", "message"), [
    ({"PBVOTE_IDENTITY_KEY": None}, "Set PBVOTE_IDENTITY_KEY"),
    ({"PBVOTE_SECRET_KEY": None}, "Set PBVOTE_SECRET_KEY"),
    ({"PBVOTE_SECRET_KEY": "a"}, "PBVOTE_SECRET_KEY is 1 characters long"),
    ({"PBVOTE_IDENTITY_KEY": "short-identity-key"}, "PBVOTE_IDENTITY_KEY is 18 characters"),
    ({"PBVOTE_IDENTITY_KEY": "s" * 40}, "must differ from PBVOTE_SECRET_KEY"),
    ({"PBVOTE_DATABASE_URL": None}, "Set PBVOTE_DATABASE_URL"),
    ({"PBVOTE_WORKERS": "4"}, "4 worker processes with rate limits kept in each"),
])
def test_production_refuses_a_weak_or_missing_setting(environment, changes, message):
    environment(**changes)
    with pytest.raises(ProductionConfigError, match=message):
        _start()


def test_the_identity_key_never_falls_back_to_the_secret_key_in_production(environment):
    """Before: only the secret key set, and identities were keyed with it, so rotating it
    made every voter new (issue #21 item 2)."""
    environment(PBVOTE_IDENTITY_KEY=None)
    with pytest.raises(ProductionConfigError) as refused:
        _start()
    assert "PBVOTE_SECRET_KEY" not in str(refused.value).split("Set PBVOTE_IDENTITY_KEY")[0] \
        .replace("pbvote will not start in production:", "").strip("- \n")


def test_several_workers_with_a_shared_store_start(environment):
    environment(PBVOTE_WORKERS="4", PBVOTE_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert _start().config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_the_gunicorn_configuration_passes_its_worker_count_on():
    namespace: dict = {}
    exec(compile((CONFIG_DIR / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
         namespace)

    class Server:
        class cfg:  # noqa: N801 - gunicorn's attribute name
            workers = 5

    import os
    before = os.environ.get("PBVOTE_WORKERS")
    try:
        namespace["on_starting"](Server)
        assert os.environ["PBVOTE_WORKERS"] == "5"
    finally:
        if before is None:
            os.environ.pop("PBVOTE_WORKERS", None)
        else:
            os.environ["PBVOTE_WORKERS"] = before
