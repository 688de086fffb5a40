"""Pure sign-in rules: emails, passwords, lockout, the TOTP window and replay, safe redirects."""
from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from pbvote.rules import sign_in as rules

#: the middle of a 30-second step, so ±1 step is unambiguous
AT = 1_700_000_010.0
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _code(offset_steps: int) -> tuple[str, int]:
    totp = pyotp.TOTP(SECRET, interval=30)
    timecode = int(AT // 30) + offset_steps
    return totp.generate_otp(timecode), timecode


def test_emails_are_stored_lower_case_and_checked():
    assert rules.normalise_email("  Ana.Lopez@City.Example ") == "ana.lopez@city.example"
    assert rules.email_problem("ana@city.example") is None
    for bad in ("", "ana", "ana@", "@city.example", "ana@city", "ana lopez@city.example",
                "a@b@c.org", "x" * 250 + "@c.org"):
        assert rules.email_problem(rules.normalise_email(bad)), bad


def test_password_rules():
    assert rules.password_problems("correct horse battery", "ana@city.example") == []
    assert rules.password_problems("short")
    assert rules.password_problems("x" * (rules.PASSWORD_MAX_LENGTH + 1))
    assert rules.password_problems("Ana@City.Example", "ana@city.example")


def test_the_fifth_consecutive_failure_locks_for_fifteen_minutes():
    now = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
    count, locked = 0, None
    for _ in range(4):
        count, locked = rules.after_failure(count, now)
        assert locked is None
    count, locked = rules.after_failure(count, now)
    assert count == 5 and locked == now + dt.timedelta(minutes=15)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_are_accepted(offset):
    code, timecode = _code(offset)
    assert rules.matching_timecode(SECRET, code, AT) == timecode
    assert rules.accepted_timecode(SECRET, code, AT, last_timecode=0) == timecode


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_two_or_more_steps_away_are_refused(offset):
    code, _ = _code(offset)
    assert rules.matching_timecode(SECRET, code, AT) is None


def test_a_code_at_or_before_the_last_accepted_timecode_is_a_replay():
    code, timecode = _code(0)
    assert rules.accepted_timecode(SECRET, code, AT, last_timecode=timecode) is None
    assert rules.accepted_timecode(SECRET, code, AT, last_timecode=timecode + 1) is None
    assert rules.accepted_timecode(SECRET, code, AT, last_timecode=timecode - 1) == timecode
    earlier, _ = _code(-1)  # older than the last accepted code: refused too
    assert rules.accepted_timecode(SECRET, earlier, AT, last_timecode=timecode) is None


def test_malformed_codes_never_match():
    for text in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        assert rules.matching_timecode(SECRET, text, AT) is None
    code, timecode = _code(0)
    assert rules.matching_timecode(SECRET, f" {code[:3]} {code[3:]} ", AT) == timecode


def test_recovery_codes_are_readable_and_recognised():
    codes = {rules.new_recovery_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        assert rules.looks_like_recovery_code(code)
        assert rules.looks_like_recovery_code(code.lower().replace("-", " "))
        assert not set(code.replace("-", "")) & set("01ILO")
    assert not rules.looks_like_recovery_code("123456")


@pytest.mark.parametrize("value", ["/staff/", "/admin/accounts/invite", "/staff/?tab=1&x=%2F"])
def test_local_paths_are_safe_next_targets(value):
    assert rules.safe_next_path(value) == value


@pytest.mark.parametrize("value", [
    None, "", "staff", "https://evil.example/", "//evil.example", "///evil.example",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "/\t/evil.example",
    "/\n/evil.example", "http:/evil.example", "/ok" + "x" * 2100,
])
def test_anything_else_is_refused_as_next_target(value):
    assert rules.safe_next_path(value) is None
