"""Configuration helpers: environment overrides and the instance secret."""
from __future__ import annotations

import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

ENVIRONMENT_KEYS = {
    "PBVOTE_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "PBVOTE_SECRET_KEY": "SECRET_KEY",
    "PBVOTE_IDENTITY_KEY": "IDENTITY_HMAC_KEY",
    "PBVOTE_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    # two deployments sharing one Redis keep their counts apart
    "PBVOTE_RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
    # the job queue on Redis (RQ); unset, jobs use the database
    "PBVOTE_REDIS_URL": "JOBS_REDIS_URL",
    "PBVOTE_JOBS_BACKEND": "JOBS_BACKEND",
    "PBVOTE_METRICS_TOKEN": "METRICS_TOKEN",
    "PBVOTE_LOG_FORMAT": "LOG_FORMAT",
    "PBVOTE_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    # how long a job's worker may go silent before another takes the job over
    "PBVOTE_JOB_LEASE_SECONDS": "JOB_LEASE_SECONDS",
}


def apply_environment(config: MutableMapping[str, Any]) -> None:
    for env_name, key in ENVIRONMENT_KEYS.items():
        value = os.environ.get(env_name)
        if value:
            config[key] = value


def default_sqlite_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'pbvote.sqlite3'}"


def ensure_secret(app) -> None:
    """Fill the database URL and secrets that development may leave unset.

    Outside production a random secret is kept in the instance folder: identity hashes
    are keyed with it, so it must survive restarts or residents could vote twice.
    """
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_sqlite_url(app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file opened in this process cannot drop like a server connection; the ping
        # would only add a query to every request.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        if app.config.get("REQUIRE_SECRET_FROM_ENVIRONMENT"):
            raise RuntimeError("Set PBVOTE_SECRET_KEY: production refuses a generated secret.")
        secret_file = Path(app.instance_path) / "secret_key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        app.config["SECRET_KEY"] = secret_file.read_text().strip()
    if not app.config.get("IDENTITY_HMAC_KEY"):
        app.config["IDENTITY_HMAC_KEY"] = app.config["SECRET_KEY"]
