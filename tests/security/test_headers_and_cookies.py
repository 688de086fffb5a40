"""ASVS 4.0.3 V14.4.1–V14.4.7 (HTTP security headers), V3.4.1–V3.4.3 (cookie attributes),
V9.1.1 (HSTS in production), V8.2.1 (no caching of sensitive pages).

Every route of app.url_map, as a visitor and as an admin, GET and POST, errors included,
carries a CSP whose script-src (or default-src) has no 'unsafe-inline', a frame-ancestors
directive or X-Frame-Options, Referrer-Policy and X-Content-Type-Options. The session cookie is
HttpOnly and SameSite in every configuration, and Secure with HSTS under the production
example configuration (config/production.example.py, secrets from the environment).
"""
from __future__ import annotations

import pytest

from pbvote import CONFIG_DIR
from tests.security.helpers import _url, committed_cycle, visitor_client


def _directives(policy: str) -> dict[str, list[str]]:
    result = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            result[words[0].lower()] = words[1:]
    return result


def header_problems(response) -> list[str]:
    problems = []
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    directives = _directives(policy)
    scripts = directives.get("script-src", directives.get("default-src"))
    if scripts is None:
        problems.append("CSP restricts no scripts")
    elif "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts or "*" in scripts:
        problems.append(f"CSP script sources {scripts}")
    if "frame-ancestors" not in directives and \
            response.headers.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN"):
        problems.append("neither frame-ancestors nor X-Frame-Options")
    if "'none'" not in directives.get("object-src", directives.get("default-src", [])):
        problems.append("object-src is not 'none'")
    if response.headers.get("Referrer-Policy") not in (
            "same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin"):
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    return problems


@pytest.mark.parametrize("role", ("anonymous", "admin"))
def test_every_route_sends_the_security_headers(app, role):
    made = committed_cycle(app)
    client = visitor_client(app, role, made)
    failures = []
    for rule in app.url_map.iter_rules():
        url = _url(app, rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            problems = header_problems(response)
            if problems:
                failures.append(f"{method} {url} ({response.status_code}): {problems}")
    for url in ("/no-such-page", "/static/no-such-file.js"):
        problems = header_problems(client.get(url))
        if problems:
            failures.append(f"GET {url}: {problems}")
    assert not failures, "\n".join(failures)


def test_the_header_check_can_fail():
    from werkzeug.wrappers import Response

    bare = Response("x")
    assert header_problems(bare) == ["no Content-Security-Policy"]
    bare.headers["Content-Security-Policy"] = \
        "default-src 'self'; script-src 'self' 'unsafe-inline'"
    assert any("script sources" in p for p in header_problems(bare))


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_cookies_are_httponly_and_samesite_in_testing_and_development(app):
    committed_cycle(app)
    response = app.test_client().get("/sign-in")
    cookie = _session_cookie(response).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in development


def test_a_voters_pages_leave_their_cookies_alone(app):
    """Flask-Login's session protection guards sessions that hold an account. A voter's
    session holds none: reading a page must not re-issue it or delete a remember cookie."""
    made = committed_cycle(app)
    client = visitor_client(app, "voter", made)
    for path in (f"/cycles/{made.slug}/vote/ballot", f"/cycles/{made.slug}/vote/ballot"):
        response = client.get(path)
        assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []


@pytest.fixture
def production_app(engine_name, migrated_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PBVOTE_SECRET_KEY", "production-secret-from-the-environment-0123")
    monkeypatch.setenv("PBVOTE_IDENTITY_KEY", "production-identity-key-from-the-environment")
    monkeypatch.setenv("PBVOTE_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("PBVOTE_WORKERS", "1")
    from pbvote import create_app

    app = create_app(str(CONFIG_DIR / "production.example.py"),
                     SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name))
    yield app
    from pbvote.infra.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_samesite_with_hsts(production_app):
    assert not production_app.testing and not production_app.debug
    client = production_app.test_client()
    response = client.get("/sign-in", base_url="https://pb.example.org")
    assert response.status_code == 200
    cookie = _session_cookie(response).lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    hsts = response.headers.get("Strict-Transport-Security", "")
    assert "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000
    assert not header_problems(response)


def test_production_refuses_to_start_without_a_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("PBVOTE_SECRET_KEY", raising=False)
    from pbvote import create_app

    with pytest.raises(RuntimeError, match="PBVOTE_SECRET_KEY"):
        create_app(str(CONFIG_DIR / "production.example.py"),
                   SQLALCHEMY_DATABASE_URI="sqlite://")
