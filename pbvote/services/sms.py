"""Sending text messages (SMS) through a pluggable backend, chosen by config SMS_BACKEND.

"outbox" (development and tests, the default outside production): the message is stored as
a row of the mail outbox (OutboxMessage, recipient ``sms:<number>``, subject "SMS"), shown at
/dev/outbox next to the emails, in the caller's transaction; the log names the number only,
never the text (it holds a code).

Production: SMS_BACKEND is the dotted path of a provider class, ``"package.module:Class"``.
The class implements :class:`SmsBackend`: it is built once per send with the app's config
(``Class(config)``) and ``send(number, text)`` hands one message to the provider, raising on
failure. ``number`` is normalised by :func:`pbvote.rules.self_declaration.normalise_phone`
(``+`` and the digits, or national digits when the resident typed no country code); the
provider's credentials come from the config or the environment, never from code.
As with SMTP mail, sending is not done inside the request: ``send()`` enqueues an "sms.send"
job in the caller's transaction (tried SMS_SEND_ATTEMPTS times; its payload, which holds the
code, is cleared when it ends), so a slow provider fails no page and a rolled-back request
sends nothing.

Production with no SMS_BACKEND sends no text messages (:func:`available` is false), so codes
are never silently kept in an outbox nobody reads: residents are asked for an email address.
"""
from __future__ import annotations

import importlib
import logging
from typing import Protocol

from flask import current_app

from pbvote.infra.extensions import db

logger = logging.getLogger("pbvote.services.sms")

SMS_SEND_ATTEMPTS = 5
OUTBOX = "outbox"
#: how outbox rows name a phone number, so /dev/outbox tells texts from emails
OUTBOX_PREFIX = "sms:"


class SmsBackend(Protocol):
    def __init__(self, config) -> None: ...

    def send(self, number: str, text: str) -> None: ...


class OutboxBackend:
    """Keeps the text in the development outbox (inside the caller's transaction)."""

    def __init__(self, config=None) -> None:
        self.config = config

    def send(self, number: str, text: str) -> None:
        from pbvote.models import OutboxMessage

        db.session.add(OutboxMessage(recipient=OUTBOX_PREFIX + number, subject="SMS",
                                     body=text))
        db.session.flush()
        logger.info("SMS to %s (kept in the development outbox)", number)


def backend_name(config) -> str:
    name = config.get("SMS_BACKEND")
    if not name:
        if config.get("REQUIRE_SECRET_FROM_ENVIRONMENT"):
            raise RuntimeError("SMS_BACKEND is not set: name the provider class "
                               "('package.module:Class') that sends text messages.")
        name = OUTBOX
    return name


def available(config) -> bool:
    """Whether text messages can be sent: a provider is named, or this is not production."""
    return bool(config.get("SMS_BACKEND")) or not config.get("REQUIRE_SECRET_FROM_ENVIRONMENT")


def backend_class(name: str):
    """The provider class that SMS_BACKEND names ("package.module:Class")."""
    if name == OUTBOX:
        return OutboxBackend
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise RuntimeError(f"SMS_BACKEND must be 'outbox' or 'package.module:Class', not "
                           f"{name!r}.")
    return getattr(importlib.import_module(module_name), class_name)


def send(number: str, text: str) -> None:
    name = backend_name(current_app.config)
    if name == OUTBOX:
        OutboxBackend().send(number, text)
        return
    from pbvote.services import jobs

    jobs.enqueue("sms.send", {"number": number, "text": text})


def deliver(number: str, text: str) -> None:
    """Hand the text to the configured provider now (the sms job calls this)."""
    config = current_app.config
    backend_class(backend_name(config))(config).send(number, text)


def _register_job() -> None:
    from pbvote.services import jobs

    @jobs.register("sms.send", max_attempts=SMS_SEND_ATTEMPTS, secret_payload=True)
    def send_job(ctx) -> str:
        payload = ctx.payload
        if not payload:
            return ""
        deliver(payload["number"], payload["text"])
        return "sent"


_register_job()
