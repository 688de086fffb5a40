"""Fixtures for tests that run pbvote under real gunicorn servers on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.harness import GunicornServer, free_port, server_environment


@pytest.fixture
def start_server(app, tmp_path):
    """start_server(**env) → a running GunicornServer on the test database; always stopped."""
    servers: list[GunicornServer] = []

    def start(workers: int = 2, threads: int = 2, config: str = "default",
              **extra_env: str) -> GunicornServer:
        number = len(servers)
        env = server_environment(
            app.config["SQLALCHEMY_DATABASE_URI"], Path(tmp_path) / f"instance-{number}",
            secret=app.config["SECRET_KEY"], identity_key=app.config["IDENTITY_HMAC_KEY"])
        env.update(extra_env)
        server = GunicornServer(free_port(), env, Path(tmp_path) / f"gunicorn-{number}.log",
                                workers=workers, threads=threads, config=config)
        servers.append(server)
        server.start()
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
