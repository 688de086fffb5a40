"""Debian's nginx, with the configuration shipped in config/ (TLS included, with a
self-signed certificate made here), in front of two gunicorn servers on 127.0.0.1 running
the production settings: the app sees each client's address through the trusted proxy only
(a client's own X-Forwarded-For is not believed), rate limits count per client and not per
proxy, a body over the limit is refused by the proxy and by the app alike, plain HTTP is
sent to HTTPS, every HTTPS answer carries exactly one HSTS header, and cookies are Secure
(the app's own language cookie only because nginx says the request came over HTTPS).

Clients come from different loopback addresses (127.0.0.2, 127.0.0.3) so nginx sees two
clients. Skipped where nginx is not installed (`./run test` installs it like Chromium)."""
from __future__ import annotations

import http.client
import re
import secrets
import shutil
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.harness import REPO_ROOT, free_port

pytestmark = [pytest.mark.db, pytest.mark.hardening,
              pytest.mark.parametrize("engine_name", ["postgresql"]),
              pytest.mark.skipif(shutil.which("nginx") is None and not Path(
                  "/usr/sbin/nginx").exists(), reason="nginx is not installed")]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_URI = "redis://127.0.0.1:6379/12"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _nginx_config(folder: Path, http_port: int, tls_port: int,
                  upstream_ports: list[int]) -> Path:
    site = (REPO_ROOT / "config" / "nginx-pbvote.conf").read_text()
    cert, key = _certificate(folder)
    for old, new in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl", f"listen 127.0.0.1:{tls_port} ssl"),
                     ("/etc/letsencrypt/live/vote.example.org/fullchain.pem", str(cert)),
                     ("/etc/letsencrypt/live/vote.example.org/privkey.pem", str(key)),
                     ("/etc/nginx/pbvote-proxy.conf", str(folder / "pbvote-proxy.conf"))):
        assert old in site, f"config/nginx-pbvote.conf no longer has {old!r}"
        site = site.replace(old, new)
    site = re.sub(r"server 127\.0\.0\.1:8001;\n    server 127\.0\.0\.1:8002;",
                  "".join(f"server 127.0.0.1:{port};\n    " for port in upstream_ports).rstrip()
                  + "\n", site)
    shutil.copy(REPO_ROOT / "config" / "nginx-pbvote-proxy.conf", folder / "pbvote-proxy.conf")
    (folder / "site.conf").write_text(site)
    temp = "".join(f"{kind}_temp_path {folder / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(
        f"user root;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\ndaemon off;\n"
        "events { worker_connections 128; }\n"
        f"http {{\naccess_log {folder / 'access.log'};\n{temp}"
        f"include {folder / 'site.conf'};\n}}\n")
    return main


@dataclass
class Proxied:
    port: int  # HTTPS
    http_port: int
    servers: list


#: the production settings as shipped, with the secrets they demand from the environment
PRODUCTION = {"config": str(REPO_ROOT / "config" / "production.example.py"),
              "PBVOTE_SECRET_KEY": secrets.token_hex(32),
              "PBVOTE_IDENTITY_KEY": secrets.token_hex(32), "PBVOTE_LOG_FORMAT": "text"}


@pytest.fixture
def proxied(app, start_server, tmp_path):
    prefix = f"nginx-{secrets.token_hex(4)}"
    servers = [start_server(PBVOTE_TRUSTED_PROXIES="1", PBVOTE_RATELIMIT_STORAGE_URI=REDIS_URI,
                            PBVOTE_RATELIMIT_KEY_PREFIX=prefix, **PRODUCTION)
               for _ in range(2)]
    port, http_port = free_port(), free_port()
    config = _nginx_config(tmp_path, http_port, port, [server.port for server in servers])
    process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.1)
        yield Proxied(port, http_port, servers)
    finally:
        process.terminate()
        process.wait(10)


def _exchange(port, method, path, body=None, headers=None, source="127.0.0.1", tls=True):
    """(status, headers as a list of pairs, body)."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=20,
                                                 source_address=(source, 0), context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20,
                                                source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _request(port, method, path, body=None, headers=None, source="127.0.0.1"):
    status, pairs, content = _exchange(port, method, path, body, headers, source)
    cookie = next((value for name, value in pairs if name.lower() == "set-cookie"), "")
    return status, cookie, content


def _all(pairs, name: str) -> list[str]:
    return [value for key, value in pairs if key.lower() == name.lower()]


def _failed_sign_in(port, source, email, forged_for=None):
    status, cookie, page = _request(port, "GET", "/staff/login", source=source)
    assert status == 200
    token = CSRF.search(page.decode()).group(1)
    # over HTTPS, CSRF protection also wants a same-origin Referer, as a browser sends
    headers = {"Cookie": cookie.split(";", 1)[0], "Referer": "https://127.0.0.1/staff/login",
               "Content-Type": "application/x-www-form-urlencoded"}
    if forged_for:
        headers["X-Forwarded-For"] = forged_for
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "email": email,
                      "password": "not the password", "next": ""})
    return _request(port, "POST", "/staff/login", body, headers, source)[0]


def test_rate_limits_count_per_client_through_the_proxy(app, proxied):
    port = proxied.port
    limit = int(app.config.get("SIGN_IN_RATE_LIMIT", "10/minute").split("/")[0])
    # a client that writes a new address into X-Forwarded-For each time is still one client
    # (a new email each time, so the per-account limit is not what stops it)
    statuses = [_failed_sign_in(port, "127.0.0.2", f"nobody{n}@example.org",
                                forged_for=f"198.51.100.{n}") for n in range(limit + 1)]
    assert statuses[:limit] == [401] * limit and statuses[limit] == 429, statuses
    # another client behind the same proxy has its own count
    assert _failed_sign_in(port, "127.0.0.3", "somebody@example.org") == 401


def _announced_body_status(port, length: int) -> int:
    """POST that announces `length` bytes and sends only the first few: the server must
    refuse from the announced length, before reading the body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.putrequest("POST", "/staff/login")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(length))
        connection.endheaders(b"x" * 1024)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_body_over_the_limit_is_refused_by_the_proxy_and_by_the_app(proxied):
    port, servers = proxied.port, proxied.servers
    big = b"x" * (9 * 1024 * 1024)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _request(port, "POST", "/staff/login", big, headers)[0] == 413  # nginx
    assert _announced_body_status(servers[0].port, len(big)) == 413  # the app, directly
    assert _request(port, "GET", "/metrics")[0] == 403  # nginx keeps /metrics inside


def test_tls_hsts_and_secure_cookies_as_in_production(proxied):
    # plain HTTP only sends to HTTPS; nothing reaches the app that way
    status, pairs, _ = _exchange(proxied.http_port, "GET", "/staff/login?next=/", tls=False)
    assert status == 301
    assert _all(pairs, "Location") == ["https://127.0.0.1/staff/login?next=/"]
    for path, expected in (("/staff/login", 200), ("/no-such-page", 404),
                           ("/metrics", 403)):
        status, pairs, _ = _exchange(proxied.port, "GET", path)
        assert status == expected, path
        # one header, from nginx, on every answer (errors too); the app's own is hidden
        assert _all(pairs, "Strict-Transport-Security") == [
            "max-age=31536000; includeSubDomains"], (path, pairs)
        assert _all(pairs, "Server") == ["nginx"]  # no version
    status, pairs, _ = _exchange(proxied.port, "GET", "/staff/login")
    session = next(c for c in _all(pairs, "Set-Cookie") if c.startswith("session="))
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in
                                                      session.split(";")}, session
    # the language cookie is Secure exactly when the request came over HTTPS, which the app
    # knows only from the X-Forwarded-Proto that nginx sets
    status, pairs, _ = _exchange(proxied.port, "GET", "/language?lang=es&next=/")
    assert status == 303 and "Secure" in _all(pairs, "Set-Cookie")[0].split("; ")
    direct = proxied.servers[0].port
    status, pairs, _ = _exchange(direct, "GET", "/language?lang=es&next=/", tls=False)
    assert status == 303 and "Secure" not in _all(pairs, "Set-Cookie")[0].split("; ")
