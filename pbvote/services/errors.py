from __future__ import annotations

from dataclasses import dataclass, field

from pbvote.i18n_hook import N_, translate


@dataclass
class DomainError(Exception):
    """A refusal a person should read; `status` is the HTTP status the web layer uses.

    Messages are translated where they are raised (``_`` from pbvote.i18n_hook), so they
    reach the page in the reader's language and the CLI in English;
    tests/unit/test_service_messages.py fails on prose that is not."""

    message: str
    status: int = 400
    reasons: list = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    def __init__(self, message: str = N_("Not found.")):
        super().__init__(translate(message), 404)


class VotingClosed(DomainError):
    def __init__(self, message: str = N_("Voting is not open for this cycle.")):
        super().__init__(translate(message), 403)


class NotEligible(DomainError):
    def __init__(self, message: str, reasons: list | None = None):
        super().__init__(message, 403, reasons or [])


class AlreadyVoted(DomainError):
    def __init__(self, message: str = N_("A ballot has already been cast for this identity.")):
        super().__init__(translate(message), 409)


class BallotRejected(DomainError):
    def __init__(self, reasons: list):
        super().__init__(translate(N_("The ballot breaks the rules below; nothing was stored.")),
                         422, reasons)


class ConfigurationFrozen(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 409)
