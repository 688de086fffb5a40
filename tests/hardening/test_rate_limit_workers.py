"""Rate limits under several gunicorn worker processes (issue #21 item 3).

Before: the rate-limit store, also in the production template, was each worker's memory,
so N workers allowed N times every limit (230 of 400 wrong access codes got through
against a documented 60 per 10 minutes). Now production refuses to start with several
workers and a per-process store, and with Redis the limit holds across all workers.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from pbvote import CONFIG_DIR
from tests.hardening.harness import (
    Browser,
    GunicornServer,
    csrf_from,
    free_port,
    seed_load_cycle,
    server_environment,
)

pytestmark = [pytest.mark.db, pytest.mark.hardening]

REDIS_URI = os.environ.get("PBVOTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
PER_ADDRESS = 60  # config/default.py VOTER_CHECK_FAILURES_PER_ADDRESS: 60 per 10 minutes


def test_production_refuses_several_workers_with_per_process_limits(app, tmp_path):
    env = server_environment(app.config["SQLALCHEMY_DATABASE_URI"], Path(tmp_path) / "inst",
                             secret="s" * 40, identity_key="i" * 40,
                             ratelimit_uri="memory://")
    server = GunicornServer(free_port(), env, Path(tmp_path) / "gunicorn.log", workers=3,
                            threads=1, config=str(CONFIG_DIR / "production.example.py"))
    try:
        with pytest.raises(RuntimeError):
            server.start(ready_timeout=20)
    finally:
        server.stop()
    log = (Path(tmp_path) / "gunicorn.log").read_text(errors="replace")
    assert "3 worker processes with rate limits kept in each process's memory" in log


def test_wrong_access_codes_are_limited_across_all_workers_with_redis(app, start_server):
    import redis

    prefix = f"pbvote-test-{secrets.token_hex(4)}"
    slug = seed_load_cycle(app, 5)
    server = start_server(workers=3, threads=2, PBVOTE_RATELIMIT_STORAGE_URI=REDIS_URI,
                          PBVOTE_RATELIMIT_KEY_PREFIX=prefix)
    url = f"/cycles/{slug}/vote/northbank/verify"
    statuses = []
    try:
        for attempt in range(PER_ADDRESS + 15):
            browser = Browser(server.port)  # a new connection each time: any worker answers
            status, _, page = browser.request("GET", url)
            assert status == 200, status
            status, _, _ = browser.request("POST", url, {
                "method": "code", "code-csrf_token": csrf_from(page),
                "code-code": f"ZZZZ-ZZZZ-{attempt:04d}"})
            browser.close()
            statuses.append(status)
    finally:
        store = redis.Redis.from_url(REDIS_URI)
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
    refused_as_wrong = sum(1 for s in statuses if s in (403, 422))
    assert refused_as_wrong == PER_ADDRESS, statuses
    assert statuses[PER_ADDRESS:] == [429] * 15, statuses
