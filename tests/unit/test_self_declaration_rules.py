"""The pure rules of online self-declaration: contacts, addresses, identity, input, codes."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from pbvote.rules import self_declaration as rules
from pbvote.rules.eligibility import identity_key_for_roll

TODAY = dt.date(2027, 5, 10)
GOOD = rules.Declaration(given_names="Ana", last_name="Núñez", street="12 Calle Mayor",
                         postcode="28013", birth_date=dt.date(2010, 5, 10),
                         contact="ana@example.org")


@pytest.mark.parametrize(("typed", "expected"), [
    ("+1 (555) 010-2030", "+15550102030"),
    ("001 555 010 2030", "+15550102030"),
    ("+1.555.010.2030", "+15550102030"),
    ("５５５ ０１０ ２０３０", "5550102030"),  # full-width digits from a phone keyboard
    ("555-010-2030", "5550102030"),
    ("12345", None),  # too short
    ("+1234567890123456", None),  # longer than E.164
    ("555 CALL NOW", None),
    ("+", None),
    ("", None),
])
def test_phone_numbers(typed, expected):
    assert rules.normalise_phone(typed) == expected


def test_contacts_are_email_with_an_at_sign_and_phone_otherwise():
    assert rules.parse_contact("  Ana@Example.ORG ") == (rules.Contact("email", "ana@example.org"),
                                                         None)
    assert rules.parse_contact("+44 7700 900123") == (rules.Contact("phone", "+447700900123"),
                                                      None)
    for bad in ("", "ana@", "ana@example", "call me", "a\x00@example.org", "x" * 300):
        contact, problem = rules.parse_contact(bad)
        assert contact is None and problem


def test_addresses_match_whatever_the_case_accents_and_punctuation():
    key = rules.address_key("12 Calle Mayor", "28013")
    assert rules.address_key("12, calle MAYOR.", "28 013") == key
    assert rules.address_key("12 Cálle Máyor", "28-013") == key
    assert rules.address_key("14 Calle Mayor", "28013") != key
    assert rules.address_key("12 Calle Mayor", "28014") != key


def test_identity_is_name_and_birth_date_not_address_or_contact():
    key = rules.identity_key("c", "Ana María", "Núñez", dt.date(1990, 1, 2))
    assert rules.identity_key("c", "ana maria", "NUNEZ", dt.date(1990, 1, 2)) == key
    assert rules.identity_key("c", "Ana", "Núñez", dt.date(1990, 1, 2)) != key
    assert rules.identity_key("c", "Ana María", "Núñez", dt.date(1990, 1, 3)) != key
    assert rules.identity_key("other", "Ana María", "Núñez", dt.date(1990, 1, 2)) != key
    # never equal to a roll entry's key, whatever the fields
    assert key != identity_key_for_roll("c", "Núñez", "x", dt.date(1990, 1, 2), "x")


def test_a_complete_declaration_has_no_problems_and_the_age_rule_applies():
    assert rules.declaration_problems(GOOD, 16, TODAY) == []
    # 17 exactly on the day: old enough at 17, not at 18
    assert rules.declaration_problems(GOOD, 17, TODAY) == []
    assert [r.code for r in rules.declaration_problems(GOOD, 18, TODAY)] == ["too_young"]
    future = rules.Declaration(**{**GOOD.__dict__, "birth_date": TODAY + dt.timedelta(days=1)})
    assert [r.code for r in rules.declaration_problems(future, 0, TODAY)] == ["in_future"]


def test_each_bad_field_is_named():
    bad = rules.Declaration(given_names=" ", last_name="-", street="1\u202eRoad",
                            postcode="x" * 21, birth_date=None, contact="nope")
    found = {(r.field, r.code) for r in rules.declaration_problems(bad, 16, TODAY)}
    assert found == {("given_names", "missing"), ("last_name", "missing"),
                     ("street", "forbidden_character"), ("postcode", "too_long"),
                     ("birth_date", "missing"), ("contact", "bad_contact")}


def test_codes():
    code = rules.new_code(random.Random(1))
    assert len(code) == 6 and code.isdigit()
    assert rules.normalise_code(" 123-456 ") == "123456"
    assert rules.normalise_code("１２３４５６") == "123456"
    for bad in ("12345", "1234567", "12a456", "", None):
        assert rules.normalise_code(bad) is None
    now = dt.datetime(2027, 5, 10, 12, tzinfo=dt.UTC)
    later = now + rules.CODE_LIFETIME
    assert rules.code_state(later, 0, False, now) == "usable"
    assert rules.code_state(later, 4, False, now) == "usable"
    assert rules.code_state(later, 5, False, now) == "exhausted"
    assert rules.code_state(later, 0, False, later) == "expired"
    assert rules.code_state(later, 0, True, now) == "used"
    assert rules.code_state(None, 0, False, now) == "used"
