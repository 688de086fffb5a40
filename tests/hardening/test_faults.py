"""PostgreSQL or Redis lost while the app runs (gunicorn, production settings): pages answer
503 with Retry-After and a clear page, never a 500, /readyz names what is missing, and the
app recovers by itself once the service is back, without a restart.

Each service is reached through a small TCP proxy on 127.0.0.1 that the test can cut (every
open connection dropped, new ones closed at once, as when the service stops or the network
fails) and restore; nothing outside the test is stopped."""
from __future__ import annotations

import http.client
import re
import secrets
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import make_url

from tests.hardening.harness import REPO_ROOT

pytestmark = [pytest.mark.db, pytest.mark.hardening,
              pytest.mark.parametrize("engine_name", ["postgresql"])]
REDIS_PORT = 6379
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class CuttableProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target until cut()."""

    def __init__(self, target: int):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.closing = False
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for each in (source, sink):
            self._drop(each)

    def _drop(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        self.open = False
        with self.lock:
            current = list(self.sockets)
        for sock in current:
            self._drop(sock)

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.closing = True
        self.cut()
        self.listener.close()


@pytest.fixture
def proxies():
    made: list[CuttableProxy] = []

    def make(target: int) -> CuttableProxy:
        made.append(CuttableProxy(target))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def _get(port: int, path: str, method: str = "GET", body: str | None = None,
         headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _until(predicate, seconds: float = 20.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "did not recover by itself"
        time.sleep(0.2)
    return time.monotonic() - started


def _unavailable(answer) -> None:
    status, headers, page = answer
    assert status == 503, (status, page[:300])
    assert headers.get("Retry-After") == "30"
    assert "briefly unavailable" in page and "Traceback" not in page


PRODUCTION = {"config": str(REPO_ROOT / "config" / "production.example.py"),
              "PBVOTE_SECRET_KEY": secrets.token_hex(32),
              "PBVOTE_IDENTITY_KEY": secrets.token_hex(32), "PBVOTE_LOG_FORMAT": "text"}


def test_the_database_stops_and_comes_back(app, start_server, proxies):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    database = proxies(url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=database.port).render_as_string(
        hide_password=False)
    server = start_server(workers=1, threads=2, PBVOTE_DATABASE_URL=proxied,
                          PBVOTE_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{REDIS_PORT}/12",
                          **PRODUCTION)
    assert _get(server.port, "/")[0] == 200
    database.cut()
    for path in ("/", "/cycles/some-cycle"):  # both read the database
        _unavailable(_get(server.port, path))
    status, _headers, body = _get(server.port, "/readyz")
    assert status == 503 and '"database":"unreachable"' in body.replace(" ", "")
    assert _get(server.port, "/healthz")[0] == 200  # the process itself is fine
    assert proxied not in body and str(database.port) not in body
    database.restore()
    waited = _until(lambda: _get(server.port, "/")[0] == 200)
    assert _get(server.port, "/readyz")[0] == 200
    assert waited < 20


def _sign_in_attempt(port: int) -> int:
    status, headers, page = _get(port, "/staff/login")
    if status != 200:
        return status
    body = urlencode({"csrf_token": CSRF.search(page).group(1), "email": "no@example.org",
                      "password": "not the password", "next": ""})
    return _get(port, "/staff/login", "POST", body,
                {"Cookie": headers["Set-Cookie"].split(";", 1)[0],
                 "Content-Type": "application/x-www-form-urlencoded"})[0]


def test_redis_stops_and_comes_back(app, start_server, proxies):
    redis = proxies(REDIS_PORT)
    server = start_server(workers=1, threads=2,
                          PBVOTE_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis.port}/12",
                          PBVOTE_RATELIMIT_KEY_PREFIX=f"faults-{secrets.token_hex(4)}",
                          **PRODUCTION)
    assert _sign_in_attempt(server.port) == 401  # wrong password, counted in Redis
    redis.cut()
    # the sign-in is rate limited, so it needs Redis: a clear 503, not a 500
    status = _sign_in_attempt(server.port)
    assert status == 503, status
    status, _headers, body = _get(server.port, "/readyz")
    assert status == 503 and '"redis":"unreachable"' in body.replace(" ", "")
    assert _get(server.port, "/")[0] == 200  # pages that need no Redis go on
    redis.restore()
    _until(lambda: _sign_in_attempt(server.port) == 401)
    assert _get(server.port, "/readyz")[0] == 200
