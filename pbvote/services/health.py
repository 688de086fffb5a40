"""What a load balancer asks: is this process alive, and can it serve (database reachable,
schema at the migrations' head, Redis reachable where configured)?

Each check opens its own connection outside the ORM session and reads only; answers name
the check and a short reason, never a URL, a password or any personal data."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import text

from pbvote.infra.extensions import db

logger = logging.getLogger("pbvote.services.health")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _migrations_directory() -> str:
    return str(current_app.extensions["migrate"].directory)


def database_checks() -> list[Check]:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                stored = {row[0] for row in connection.execute(
                    text("SELECT version_num FROM alembic_version"))}
            except Exception:  # noqa: BLE001 - no alembic_version: never migrated
                stored = set()
            connection.rollback()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readiness: database unreachable (%s)", type(error).__name__)
        return [Check("database", False, "unreachable")]
    heads = migration_heads(_migrations_directory())
    if stored != set(heads):
        return [Check("database", True),
                Check("migrations", False, "the schema is not at the migrations' head")]
    return [Check("database", True), Check("migrations", True)]


def redis_urls(config) -> list[str]:
    urls = []
    if config.get("JOBS_REDIS_URL"):
        urls.append(config["JOBS_REDIS_URL"])
    storage = config.get("RATELIMIT_STORAGE_URI") or ""
    if storage.startswith(("redis://", "rediss://")):
        urls.append(storage)
    return list(dict.fromkeys(urls))


def redis_checks() -> list[Check]:
    from redis import Redis

    checks = []
    for url in redis_urls(current_app.config):
        try:
            client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            client.ping()
            client.close()
            checks.append(Check("redis", True))
        except Exception as error:  # noqa: BLE001
            logger.warning("readiness: Redis unreachable (%s)", type(error).__name__)
            checks.append(Check("redis", False, "unreachable"))
    return checks


def readiness() -> list[Check]:
    return database_checks() + redis_checks()
