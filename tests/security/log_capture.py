"""ASVS 4.0.3 V7.1.1, V7.1.2: logs hold no credentials, one-time codes, census identifiers or
ballot contents.

A pytest plugin (registered from tests/conftest.py): at the start of the session it attaches
one handler to the root logger that keeps every formatted record of every logger (the pbvote
loggers down to DEBUG), for the WHOLE run; at the end it scans them and fails the session,
listing the offending records. Records of the gunicorn servers that tests/hardening starts in
subprocesses are not seen here.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pytest

from tests.staff_helpers import DEFAULT_PASSWORD

#: passwords the test suite types (tests/staff_helpers.py, the sign-in and CLI tests)
KNOWN_PASSWORDS = (DEFAULT_PASSWORD, "not the right password at all", "a sturdy admin passphrase")

#: (what, pattern) for secrets that have a recognisable shape
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an access code", re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-"
                                  r"[0-9A-HJKMNP-TV-Z]{4}\b")),
    ("a TOTP secret", re.compile(r"\b[A-Z2-7]{32}\b")),
    # a code stands alone: six digits inside a hex name (a photo's digest) are not one
    ("a one-time code (six digits)", re.compile(r"(?<![\w.:-])\d{6}(?![\w.:-])")),
    ("a recovery code", re.compile(r"\b[0-9A-Za-z]{5}-[0-9A-Za-z]{5}\b")),
    ("an invitation link", re.compile(r"/staff/invitation/[A-Za-z0-9_-]{20,}")),
    ("a roll surname from tests/factories.py", re.compile(r"\bTester\d\b")),
    ("a roll birth date from tests/factories.py", re.compile(r"\b1980-01-0\d\b")),
    ("ballot selections", re.compile(r"\[\s*\[?\s*\"[A-Z]{2}-[A-Z]\"")),
)


@dataclass(frozen=True)
class Finding:
    what: str
    logger: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level} {self.logger}] {self.what}: {self.message[:300]}"


def scan(records: list[tuple[str, str, str]]) -> list[Finding]:
    """(logger, level, formatted message) → every record that carries a secret."""
    findings = []
    for logger, level, message in records:
        for password in KNOWN_PASSWORDS:
            if password in message:
                findings.append(Finding("a test password", logger, level, message))
        for what, pattern in SECRET_PATTERNS:
            if pattern.search(message):
                findings.append(Finding(what, logger, level, message))
    return findings


class _KeepEverything(logging.Handler):
    def __init__(self, records: list[tuple[str, str, str]], skip_prefix: str | None) -> None:
        super().__init__(logging.DEBUG)
        self.records = records
        self.skip_prefix = skip_prefix

    def emit(self, record: logging.LogRecord) -> None:
        if self.skip_prefix and (record.name == self.skip_prefix
                                 or record.name.startswith(self.skip_prefix + ".")):
            return  # kept by the handler on that logger already
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" | {record.exc_info[1]!r}"
        except Exception as exc:  # noqa: BLE001 - a broken record must not break the run
            message = f"<unformattable record {record.msg!r}: {exc!r}>"
        self.records.append((record.name, record.levelname, message))


_records: list[tuple[str, str, str]] = []
#: on "pbvote": Alembic's fileConfig (tests build the schema by migrating) replaces the root
#: logger's handlers but leaves loggers it does not name alone
_app_handler = _KeepEverything(_records, None)
#: on the root logger, for every other library; put back before each test phase
_root_handler = _KeepEverything(_records, "pbvote")


def _attach() -> None:
    app_logger = logging.getLogger("pbvote")
    app_logger.setLevel(logging.DEBUG)
    if _app_handler not in app_logger.handlers:
        app_logger.addHandler(_app_handler)
    root = logging.getLogger()
    if _root_handler not in root.handlers:
        root.addHandler(_root_handler)


def pytest_sessionstart(session) -> None:
    _attach()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    _attach()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item) -> None:
    _attach()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item) -> None:
    _attach()


def pytest_sessionfinish(session, exitstatus) -> None:
    logging.getLogger().removeHandler(_root_handler)
    logging.getLogger("pbvote").removeHandler(_app_handler)
    findings = scan(_records)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"log scan: {len(_records)} log records kept, "
                            f"{len(findings)} with secrets")
    if findings:
        lines = "\n".join(f"  {finding}" for finding in findings[:50])
        message = (f"LOG SCAN FAILED (ASVS V7.1.1): {len(findings)} log record(s) carry secrets:"
                   f"\n{lines}")
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def kept_records() -> list[tuple[str, str, str]]:
    """The records kept so far (tests/security/test_logging.py looks at them)."""
    return list(_records)
