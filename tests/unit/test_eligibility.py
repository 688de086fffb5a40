"""Unit tests for pbvote.rules.eligibility: normalisation, ages, verdicts, access codes."""

from __future__ import annotations

import collections
import json
import math
import random
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbvote.rules.ballots import Reason
from pbvote.rules.eligibility import (
    ACCESS_CODE_ALPHABET,
    ACCESS_CODE_LENGTH,
    VERIFICATION_METHODS,
    EligibilityRules,
    RollRecord,
    access_code_is_well_formed,
    age_on,
    check_access_code,
    check_roll_match,
    format_access_code,
    generate_access_code,
    generate_access_codes,
    identity_key_for_code,
    identity_key_for_roll,
    normalise_access_code,
    normalise_name,
    normalise_postcode,
)

TODAY = date(2026, 11, 21)
RULES = EligibilityRules()
RECORD = RollRecord(
    district="north",
    last_name_key=normalise_name("O'Brien-Smith"),
    birth_date=date(1990, 2, 1),
    postcode_key=normalise_postcode("SW1A 1AA"),
    roll_number="NR-1234",
)


def codes(reasons: list[Reason]) -> list[str]:
    return [reason.code for reason in reasons]


# ---------------------------------------------------------------------------
# Rules


def test_default_rules_are_consistent() -> None:
    assert RULES.minimum_age == 16
    assert RULES.allowed_methods == frozenset({"roll", "code"})
    assert RULES.problems() == []
    assert set(RULES.allowed_methods) <= set(VERIFICATION_METHODS)


def test_self_declared_allowed_when_switched_on() -> None:
    rules = EligibilityRules(
        allowed_methods=frozenset({"self_declared"}), self_declared_residence=True
    )
    assert rules.problems() == []


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        (EligibilityRules(minimum_age=-1), "age_out_of_range"),
        (EligibilityRules(minimum_age=121), "age_out_of_range"),
        (EligibilityRules(minimum_age=16.5), "not_integer"),  # type: ignore[arg-type]
        (EligibilityRules(allowed_methods=frozenset({"roll", "telepathy"})), "unknown_method"),
        (EligibilityRules(allowed_methods=frozenset()), "no_methods"),
        (
            EligibilityRules(allowed_methods=frozenset({"roll", "self_declared"})),
            "self_declared_not_enabled",
        ),
    ],
)
def test_rules_problems(rules: EligibilityRules, code: str) -> None:
    problems = rules.problems()
    assert codes(problems) == [code]
    assert problems[0].message.endswith(".")


def test_age_boundaries_are_allowed() -> None:
    assert EligibilityRules(minimum_age=0).problems() == []
    assert EligibilityRules(minimum_age=120).problems() == []


# ---------------------------------------------------------------------------
# Names and postcodes


@pytest.mark.parametrize(
    "spelling",
    [
        "O'Brien-Smith",
        "  O’Brien-Smith ",
        "O‘Brien Smith",
        "OBRIEN SMITH",
        "obriensmith",
        "O Brien  -  Smith",
        "Ó'Brïen-Smith",
        "o`brien\tsmith",
        "ＯＢｒｉｅｎ　Ｓｍｉｔｈ",  # full-width letters and ideographic space
    ],
)
def test_clerical_variations_of_a_name_match(spelling: str) -> None:
    assert normalise_name(spelling) == "obriensmith"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Müller", "muller"),
        ("MÜLLER", "muller"),
        ("Straße", "strasse"),
        ("Øvergård", "overgard"),
        ("Łukasiewicz", "lukasiewicz"),
        ("Æbelø", "aebelo"),
        ("Van der Berg", "vanderberg"),
        ("Nguyễn", "nguyen"),
        ("D’Arcy", "darcy"),
        ("Иванов", "иванов"),  # other scripts are kept, only case-folded
        ("", ""),
        ("-'  ", ""),
    ],
)
def test_normalise_name(raw: str, key: str) -> None:
    assert normalise_name(raw) == key


def test_different_names_stay_different() -> None:
    assert normalise_name("Muller") != normalise_name("Miller")


@given(st.text())
def test_normalise_name_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("sw1a 1aa", "SW1A1AA"),
        (" SW1A-1AA ", "SW1A1AA"),
        ("12345-6789", "123456789"),
        ("ｓｗ１ａ　１ａａ", "SW1A1AA"),
    ],
)
def test_normalise_postcode(raw: str, key: str) -> None:
    assert normalise_postcode(raw) == key


# ---------------------------------------------------------------------------
# Age


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2010, 11, 21), date(2026, 11, 21), 16),  # birthday today
        (date(2010, 11, 22), date(2026, 11, 21), 15),  # birthday tomorrow
        (date(2008, 2, 29), date(2024, 2, 28), 15),
        (date(2008, 2, 29), date(2024, 2, 29), 16),  # leap year: the day itself
        (date(2008, 2, 29), date(2025, 2, 28), 16),  # common year: not yet 17
        (date(2008, 2, 29), date(2025, 3, 1), 17),  # common year: 1 March
        (date(2000, 1, 1), date(2000, 1, 1), 0),
        (date(1999, 12, 31), date(2000, 1, 1), 0),
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_age_on_before_birth_raises() -> None:
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


# ---------------------------------------------------------------------------
# Roll matching


def match(record: RollRecord | None = RECORD, **overrides: object) -> list[Reason]:
    arguments: dict[str, object] = {
        "rules": RULES,
        "record": record,
        "district": "north",
        "last_name": "o’brien smith",
        "birth_date": date(1990, 2, 1),
        "postcode_or_roll": "sw1a1aa",
        "today": TODAY,
    }
    arguments.update(overrides)
    return check_roll_match(**arguments)  # type: ignore[arg-type]


def test_roll_match_by_postcode_or_roll_number() -> None:
    assert match() == []
    assert match(postcode_or_roll="nr 1234") == []
    assert match(postcode_or_roll="NR1234") == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"last_name": "O'Brian-Smith"},
        {"last_name": ""},
        {"birth_date": date(1990, 1, 2)},
        {"postcode_or_roll": "SW1A 1AB"},
        {"postcode_or_roll": ""},
        {"postcode_or_roll": "NR-9999"},
    ],
)
def test_any_mismatch_gives_one_generic_no_match(overrides: dict) -> None:
    reasons = match(**overrides)
    assert codes(reasons) == ["no_match"]
    assert reasons == match(record=None)  # identical: nothing leaks about which detail was wrong
    message = reasons[0].message.lower()
    for detail in ("name", "birth", "postcode", "roll number"):
        assert detail not in message


def test_no_record_is_no_match() -> None:
    assert codes(match(record=None)) == ["no_match"]


def test_record_without_roll_number_only_matches_postcode() -> None:
    record = RollRecord("north", "obriensmith", date(1990, 2, 1), "SW1A1AA", None)
    assert match(record=record) == []
    assert codes(match(record=record, postcode_or_roll="NR-1234")) == ["no_match"]


def test_wrong_district() -> None:
    reasons = match(district="south")
    assert codes(reasons) == ["wrong_district"]
    assert reasons[0].field == "district"


def test_wrong_district_is_not_revealed_without_a_full_match() -> None:
    assert codes(match(district="south", birth_date=date(1991, 2, 1))) == ["no_match"]


def test_too_young_counts_the_birthday_itself() -> None:
    born = date(2010, 11, 21)
    record = RollRecord("north", "obriensmith", born, "SW1A1AA", None)
    assert match(record=record, birth_date=born) == []  # 16 today
    reasons = match(record=record, birth_date=born, today=date(2026, 11, 20))
    assert codes(reasons) == ["too_young"]
    assert "16" in reasons[0].message


def test_too_young_leap_day_birthday() -> None:
    rules = EligibilityRules(minimum_age=17)
    record = RollRecord("north", "obriensmith", date(2008, 2, 29), "SW1A1AA", None)
    kwargs = {"rules": rules, "record": record, "birth_date": date(2008, 2, 29)}
    assert codes(match(today=date(2025, 2, 28), **kwargs)) == ["too_young"]
    assert match(today=date(2025, 3, 1), **kwargs) == []


def test_wrong_district_and_too_young_together() -> None:
    record = RollRecord("north", "obriensmith", date(2015, 1, 1), "SW1A1AA", None)
    reasons = match(record=record, birth_date=date(2015, 1, 1), district="south")
    assert codes(reasons) == ["wrong_district", "too_young"]


def test_roll_method_not_allowed() -> None:
    rules = EligibilityRules(allowed_methods=frozenset({"code"}))
    reasons = match(rules=rules)
    assert codes(reasons) == ["not_allowed_method"]
    assert match(rules=rules, record=None) == reasons


# ---------------------------------------------------------------------------
# Access-code verdicts


def test_access_code_ok() -> None:
    assert check_access_code(RULES, "north", "north", used=False, voided=False) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ((None, "north", False, False), ["unknown_code"]),
        ((None, "north", True, True), ["unknown_code"]),
        (("north", "north", True, False), ["code_used"]),
        (("north", "north", False, True), ["code_voided"]),
        (("south", "north", False, False), ["wrong_district"]),
        (("south", "north", True, True), ["code_voided", "code_used", "wrong_district"]),
    ],
)
def test_access_code_reasons(arguments: tuple, expected: list[str]) -> None:
    reasons = check_access_code(RULES, *arguments)
    assert codes(reasons) == expected
    assert all(reason.message.endswith(".") for reason in reasons)


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (date(2010, 6, 1), []),  # sixteen today
        (date(2010, 6, 2), ["too_young"]),  # sixteen tomorrow
        (date(2030, 1, 1), ["too_young"]),  # born after today: a typo in the roll
        (None, []),  # a code for someone off the roll carries no birth date
    ],
)
def test_code_issued_for_a_roll_entry_applies_the_age_rule(born, expected) -> None:
    rules = EligibilityRules(minimum_age=16)
    reasons = check_access_code(rules, "north", "north", False, False,
                                holder_birth_date=born, today=date(2026, 6, 1))
    assert codes(reasons) == expected


def test_code_method_not_allowed() -> None:
    rules = EligibilityRules(allowed_methods=frozenset({"roll"}))
    assert codes(check_access_code(rules, "north", "north", False, False)) == ["not_allowed_method"]


# ---------------------------------------------------------------------------
# Access-code generation and normalisation


def test_alphabet_is_crockford_base32() -> None:
    assert len(ACCESS_CODE_ALPHABET) == len(set(ACCESS_CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(ACCESS_CODE_ALPHABET)
    assert ACCESS_CODE_LENGTH * math.log2(len(ACCESS_CODE_ALPHABET)) >= 40


def test_generated_code_format() -> None:
    pattern = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
    for _ in range(200):
        code = generate_access_code()
        assert pattern.fullmatch(code), code
        assert access_code_is_well_formed(normalise_access_code(code))


def test_generated_codes_use_the_whole_alphabet_and_do_not_repeat() -> None:
    codes_seen = {generate_access_code() for _ in range(2000)}
    assert len(codes_seen) == 2000
    assert set("".join(codes_seen)) - {"-"} == set(ACCESS_CODE_ALPHABET)


def test_codes_drawn_in_bulk_are_well_formed_uniform_and_use_every_random_bit() -> None:
    codes = generate_access_codes(20_001)
    assert len(codes) == len(set(codes)) == 20_001
    assert all(access_code_is_well_formed(code) for code in codes)
    counts = collections.Counter("".join(codes))
    expected = 20_001 * ACCESS_CODE_LENGTH / 32
    assert set(counts) == set(ACCESS_CODE_ALPHABET)
    # chi-square with 31 degrees of freedom: above 70 has a chance below 1 in 10,000
    assert sum((n - expected) ** 2 / expected for n in counts.values()) < 70
    # 15 bytes make two codes of 60 bits: each bit of the draw lands in exactly one symbol
    assert generate_access_codes(2, lambda n: bytes(n)) == ["0" * 12, "0" * 12]
    assert generate_access_codes(2, lambda n: b"\xff" * n) == ["Z" * 12, "Z" * 12]
    assert generate_access_codes(1, lambda n: b"\x80" + bytes(n - 1)) == ["G" + "0" * 11]


def test_generation_uses_the_given_rng() -> None:
    assert generate_access_code(random.Random(7)) == generate_access_code(random.Random(7))
    assert generate_access_code(random.Random(7)) != generate_access_code(random.Random(8))


@pytest.mark.parametrize(
    "typed",
    [
        "7K3M-QX9P-2D40",
        "7k3m-qx9p-2d40",
        "7K3MQX9P2D40",
        " 7k3m qx9p 2d4o ",
        "7K3M–QX9P–2D4O",
        "7k3m-qx9p-2d4O",
    ],
)
def test_normalise_access_code_undoes_typing_variations(typed: str) -> None:
    assert normalise_access_code(typed) == "7K3MQX9P2D40"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("ILIL-0000-0000", "111100000000"), ("il1l-oOoO-0000", "111100000000")],
)
def test_normalise_access_code_maps_look_alikes(typed: str, normalised: str) -> None:
    assert normalise_access_code(typed) == normalised


@given(st.randoms(use_true_random=False))
def test_generated_codes_round_trip(rng: random.Random) -> None:
    code = generate_access_code(rng)
    normalised = normalise_access_code(code)
    assert format_access_code(normalised) == code
    for variant in (code.lower(), code.replace("-", ""), code.replace("0", "O").replace("1", "l")):
        assert normalise_access_code(variant) == normalised


@pytest.mark.parametrize("code", ["7K3MQX9P2D4", "7K3MQX9P2D400", "7K3MQX9P2D4U", "7K3MQX9P2D4!"])
def test_malformed_access_codes(code: str) -> None:
    assert not access_code_is_well_formed(normalise_access_code(code))


# ---------------------------------------------------------------------------
# Identity keys


def test_identity_key_for_roll_is_canonical_and_unambiguous() -> None:
    key = identity_key_for_roll("2026", "north", "obriensmith", date(1990, 2, 1), "SW1A1AA")
    assert json.loads(key) == [
        "pbvote-identity/v1",
        "roll",
        "2026",
        "north",
        "obriensmith",
        "1990-02-01",
        "SW1A1AA",
    ]
    assert key == identity_key_for_roll(
        "2026", "north", "O'Brien Smith", date(1990, 2, 1), "sw1a 1aa"
    )
    assert key != identity_key_for_roll("2027", "north", "obriensmith", date(1990, 2, 1), "SW1A1AA")
    # A separator inside a part cannot make two different identities collide.
    assert identity_key_for_roll("a:b", "c", "x", date(1990, 2, 1), "P") != identity_key_for_roll(
        "a", "b:c", "x", date(1990, 2, 1), "P"
    )


def test_identity_key_for_code() -> None:
    key = identity_key_for_code("2026", "7K3MQX9P2D40")
    assert json.loads(key) == ["pbvote-identity/v1", "code", "2026", "7K3MQX9P2D40"]
    assert key == identity_key_for_code("2026", "7k3m-qx9p-2d4o")


def test_code_and_roll_identities_are_distinct() -> None:
    roll = identity_key_for_roll("2026", "north", "obriensmith", date(1990, 2, 1), "SW1A1AA")
    code = identity_key_for_code("2026", "7K3MQX9P2D40")
    assert roll != code
