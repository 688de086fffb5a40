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
    # how many reverse proxies in front of the app set X-Forwarded-For (0: none, trust none)
    "PBVOTE_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    # two deployments sharing one Redis keep their counts apart
    "PBVOTE_RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
    # the job queue on Redis (RQ); unset, jobs use the database
    "PBVOTE_REDIS_URL": "JOBS_REDIS_URL",
    "PBVOTE_JOBS_BACKEND": "JOBS_BACKEND",
    "PBVOTE_METRICS_TOKEN": "METRICS_TOKEN",
    "PBVOTE_LOG_FORMAT": "LOG_FORMAT",
    # how long a job's worker may go silent before another takes the job over
    "PBVOTE_JOB_LEASE_SECONDS": "JOB_LEASE_SECONDS",
    # the map's tile server, e.g. https://tile.example.org/{z}/{x}/{y}.png, and its credit
    "PBVOTE_MAP_TILES": "MAP_TILES",
    "PBVOTE_MAP_ATTRIBUTION": "MAP_ATTRIBUTION",
}


def apply_environment(config: MutableMapping[str, Any]) -> None:
    for env_name, key in ENVIRONMENT_KEYS.items():
        value = os.environ.get(env_name)
        if value:
            config[key] = value


def default_sqlite_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'pbvote.sqlite3'}"


#: the shortest secret production accepts (32 characters: 128 bits as hex, 192 as base64)
MIN_SECRET_LENGTH = 32


class ProductionConfigError(RuntimeError):
    """Production refuses to start with a setting that would weaken it silently."""


def _workers() -> int:
    """The number of worker processes serving this app: gunicorn's own count, which
    config/gunicorn.conf.py puts into PBVOTE_WORKERS before it forks."""
    try:
        return int(os.environ.get("PBVOTE_WORKERS", "1"))
    except ValueError:
        return 1


def check_production(config: MutableMapping[str, Any]) -> None:
    """Every problem of a production configuration at once, as one ProductionConfigError.

    - an explicit database URL (no silent fallback to a SQLite file in the instance folder);
    - the secret key and the identity key, each from the environment, each at least
      MIN_SECRET_LENGTH characters, and different: the identity key keys every identity
      hash, so it must not change when the secret key is rotated;
    - a shared rate-limit store when more than one worker process serves the app, or each
      worker would count failures on its own and let the limit through once per worker.
    """
    problems = []
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("Set PBVOTE_DATABASE_URL: production does not fall back to a SQLite "
                        "file in the instance folder.")
    for key, env_name in (("SECRET_KEY", "PBVOTE_SECRET_KEY"),
                          ("IDENTITY_HMAC_KEY", "PBVOTE_IDENTITY_KEY")):
        value = config.get(key) or ""
        if not value:
            problems.append(f"Set {env_name}: production refuses to start without it.")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{env_name} is {len(value)} characters long; use at least "
                            f"{MIN_SECRET_LENGTH} random ones (python -c 'import secrets; "
                            f"print(secrets.token_hex(32))').")
    if config.get("SECRET_KEY") and config.get("SECRET_KEY") == config.get("IDENTITY_HMAC_KEY"):
        problems.append("PBVOTE_IDENTITY_KEY must differ from PBVOTE_SECRET_KEY, so that "
                        "rotating the secret key never changes a voter's identity.")
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory") and config.get("RATELIMIT_ENABLED", True) \
            and _workers() > 1:
        problems.append(f"{_workers()} worker processes with rate limits kept in each "
                        f"process's memory would multiply every limit by {_workers()}: set "
                        f"PBVOTE_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (or run one "
                        f"worker, PBVOTE_WORKERS=1).")
    if problems:
        raise ProductionConfigError("pbvote will not start in production:\n- "
                                    + "\n- ".join(problems))


def ensure_secret(app) -> None:
    """Fill the database URL and secrets that development may leave unset.

    Outside production a random secret is kept in the instance folder: identity hashes
    are keyed with it, so it must survive restarts or residents could vote twice.
    Production fills nothing: check_production refuses what is missing.
    """
    if app.config.get("REQUIRE_SECRET_FROM_ENVIRONMENT"):
        check_production(app.config)
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
