"""The mail backend: chosen by configuration; SMTP uses the configured server and TLS."""
from __future__ import annotations

import pytest

from pbvote import create_app
from pbvote.services import mail


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout=None, **kwargs):
        self.host, self.port, self.calls = host, port, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, message):
        FakeSMTP.sent.append((self.host, self.port, self.calls, message))


def test_backend_follows_configuration():
    assert mail.backend_name({}) == "outbox"
    assert mail.backend_name({"REQUIRE_SECRET_FROM_ENVIRONMENT": True}) == "smtp"
    assert mail.backend_name({"MAIL_BACKEND": "outbox",
                              "REQUIRE_SECRET_FROM_ENVIRONMENT": True}) == "outbox"
    with pytest.raises(RuntimeError):
        mail.backend_name({"MAIL_BACKEND": "carrier-pigeon"})


def test_smtp_sends_with_starttls_and_login(monkeypatch, tmp_path):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PBVOTE_SMTP_PASSWORD", "from-the-environment")
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent.clear()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", MAIL_BACKEND="smtp",
                     MAIL_SMTP_HOST="mail.example.org", MAIL_SMTP_PORT=2525,
                     MAIL_SMTP_USERNAME="pb", MAIL_FROM="pb@example.org")
    with app.app_context():
        assert isinstance(mail.get_backend(), mail.SmtpBackend)
        mail.deliver(mail.Message("ada@example.org", "Hello", "Body 123456"))
    [(host, port, calls, message)] = FakeSMTP.sent
    assert (host, port) == ("mail.example.org", 2525)
    assert calls == ["starttls", ("login", "pb", "from-the-environment")]
    assert message["To"] == "ada@example.org" and message["From"] == "pb@example.org"
    assert "Body 123456" in message.get_content()
