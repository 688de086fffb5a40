"""Sending email through a pluggable backend, chosen by config MAIL_BACKEND.

"outbox" (development and tests): the message is stored as an OutboxMessage row, shown at
/dev/outbox, and a log line names the recipient and subject only: bodies can hold sign-in
codes, so they never reach the log. "smtp" (production): smtplib with MAIL_SMTP_HOST, _PORT,
_USERNAME, _PASSWORD (or the environment variable PBVOTE_SMTP_PASSWORD), MAIL_SMTP_TLS
("starttls", "ssl" or "none") and MAIL_FROM.

When MAIL_BACKEND is unset, production (REQUIRE_SECRET_FROM_ENVIRONMENT) uses SMTP and
everything else the outbox.

`send()` with SMTP does not talk to the mail server inside the request: it enqueues a
"mail.send" job (services/jobs) in the caller's transaction, so a slow or failing mail server
cannot fail a page, and a rolled-back request sends nothing. The job tries up to
MAIL_SEND_ATTEMPTS times, a little later each time, and its payload (the body can hold a
sign-in code) is cleared once it ends. The outbox backend stays synchronous on purpose: it
is a database row in the caller's transaction already, so /dev/outbox and the tests see the
message as soon as the request that sent it commits, exactly as before.
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

from pbvote.infra.extensions import db

logger = logging.getLogger("pbvote.services.mail")


@dataclass(frozen=True)
class Message:
    recipient: str
    subject: str
    body: str


class MailBackend(Protocol):
    def send(self, message: Message) -> None: ...


class OutboxBackend:
    """Keeps the message in the database (inside the caller's transaction)."""

    def send(self, message: Message) -> None:
        from pbvote.models import OutboxMessage

        db.session.add(OutboxMessage(recipient=message.recipient, subject=message.subject[:200],
                                     body=message.body))
        db.session.flush()
        logger.info("mail to %s: %s (kept in the development outbox)", message.recipient,
                    message.subject)


class SmtpBackend:
    def __init__(self, config) -> None:
        self.host = config.get("MAIL_SMTP_HOST") or "localhost"
        self.port = int(config.get("MAIL_SMTP_PORT") or 587)
        self.username = config.get("MAIL_SMTP_USERNAME")
        self.password = config.get("MAIL_SMTP_PASSWORD") or os.environ.get("PBVOTE_SMTP_PASSWORD")
        self.tls = config.get("MAIL_SMTP_TLS", "starttls")
        self.sender = config.get("MAIL_FROM") or "pbvote@localhost"
        self.timeout = float(config.get("MAIL_SMTP_TIMEOUT", 10))

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email.set_content(message.body)
        context = ssl.create_default_context()
        if self.tls == "ssl":
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.tls == "starttls":
                server.starttls(context=context)
            if self.username:
                server.login(self.username, self.password or "")
            server.send_message(email)
        logger.info("mail to %s: %s (sent by SMTP)", message.recipient, message.subject)


def backend_name(config) -> str:
    name = config.get("MAIL_BACKEND")
    if not name:
        name = "smtp" if config.get("REQUIRE_SECRET_FROM_ENVIRONMENT") else "outbox"
    if name not in ("outbox", "smtp"):
        raise RuntimeError(f"MAIL_BACKEND must be 'outbox' or 'smtp', not {name!r}.")
    return name


def get_backend() -> MailBackend:
    config = current_app.config
    return OutboxBackend() if backend_name(config) == "outbox" else SmtpBackend(config)


def send(recipient: str, subject: str, body: str) -> None:
    if backend_name(current_app.config) == "outbox":
        OutboxBackend().send(Message(recipient, subject, body))
        return
    from pbvote.services import jobs

    jobs.enqueue("mail.send", {"recipient": recipient, "subject": subject, "body": body})


def deliver(message: Message) -> None:
    """Hand the message to the configured backend now (the mail job calls this)."""
    get_backend().send(message)


MAIL_SEND_ATTEMPTS = 5


def _register_job() -> None:
    from pbvote.services import jobs

    @jobs.register("mail.send", max_attempts=MAIL_SEND_ATTEMPTS, secret_payload=True)
    def send_job(ctx) -> str:
        payload = ctx.payload
        if not payload:
            return ""
        deliver(Message(payload["recipient"], payload["subject"], payload["body"]))
        return "sent"


_register_job()


def outbox_is_visible(app) -> bool:
    """The development outbox page: in debug or test runs, or when SHOW_DEV_OUTBOX says so;
    never in production and never when mail really goes out."""
    if app.config.get("REQUIRE_SECRET_FROM_ENVIRONMENT") or backend_name(app.config) != "outbox":
        return False
    return bool(app.debug or app.testing or app.config.get("SHOW_DEV_OUTBOX"))
