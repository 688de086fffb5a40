"""TRUSTED_PROXIES: behind one reverse proxy the app takes the address the proxy appended to
X-Forwarded-For, never one a client wrote itself; without the setting it believes no header."""
from __future__ import annotations

from flask import request

from pbvote import create_app


def _seen_address(tmp_path, monkeypatch, **settings):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", **settings)
    seen = {}

    @app.before_request
    def _remember():
        seen["address"], seen["scheme"] = request.remote_addr, request.scheme

    app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                          headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7",
                                   "X-Forwarded-Proto": "https"})
    return seen


def test_one_trusted_proxy_gives_the_address_it_appended(tmp_path, monkeypatch):
    seen = _seen_address(tmp_path, monkeypatch, TRUSTED_PROXIES=1)
    assert seen == {"address": "203.0.113.7", "scheme": "https"}


def test_no_trusted_proxy_believes_no_header(tmp_path, monkeypatch):
    seen = _seen_address(tmp_path, monkeypatch)
    assert seen == {"address": "127.0.0.1", "scheme": "http"}
