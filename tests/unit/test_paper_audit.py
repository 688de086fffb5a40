"""The sampled paper audit's pure rules: sampling from a seed, sample sizes, the advice."""
from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest

from pbvote.rules import paper_audit as pa

SERIALS = [f"AP-{n:04d}-TEST" for n in range(200)]


def test_sample_is_reproducible_from_the_seed_and_matches_the_documented_recipe():
    first = pa.sample_serials("4 1 5 9 2 6", SERIALS, 12)
    again = pa.sample_serials("4 1 5 9 2 6", list(reversed(SERIALS)) + SERIALS[:5], 12)
    assert first == again  # order and duplicates of the input do not matter
    by_hand = sorted(SERIALS, key=lambda s: hashlib.sha256(
        f"4 1 5 9 2 6:{s}".encode()).hexdigest())[:12]
    assert first == by_hand
    assert len(set(first)) == 12 and set(first) <= set(SERIALS)


def test_another_seed_gives_another_sample_and_a_larger_sample_extends_a_smaller_one():
    assert pa.sample_serials("seed-a", SERIALS, 10) != pa.sample_serials("seed-b", SERIALS, 10)
    assert pa.sample_serials("seed-a", SERIALS, 20)[:10] == pa.sample_serials("seed-a", SERIALS, 10)


def test_sample_normalises_serials_and_needs_a_seed():
    assert pa.sample_serials("x", [" ap-0001-test "], 1) == ["AP-0001-TEST"]
    with pytest.raises(pa.AuditInputError, match="seed"):
        pa.sample_serials("  ", SERIALS, 1)


@pytest.mark.parametrize("alpha, margin, expected", [
    # n = ceil(2 * 1.03905 * ln(1/alpha) / margin), Stark 2010
    (Fraction(10), Fraction(10), 48),     # 47.85
    (Fraction(5), Fraction(5), 125),      # 124.51
    (Fraction(5), Fraction(20), 32),      # 31.13
    (Fraction(1), Fraction(2), 479),      # 478.51
])
def test_risk_limit_sample_size_follows_the_super_simple_bound(alpha, margin, expected):
    assert pa.risk_limit_sample_size(10_000, alpha, margin) == expected


def test_risk_limit_sample_size_is_capped_at_the_population():
    assert pa.risk_limit_sample_size(50, Fraction(5), Fraction(1)) == 50
    assert pa.risk_limit_sample_size(0, Fraction(5), Fraction(1)) == 0
    with pytest.raises(pa.AuditInputError):
        pa.risk_limit_sample_size(50, Fraction(0), Fraction(1))
    with pytest.raises(pa.AuditInputError):
        pa.risk_limit_sample_size(50, Fraction(5), Fraction(0))


@pytest.mark.parametrize("population, percent, expected", [
    (200, Fraction(10), 20), (201, Fraction(10), 21), (5, Fraction(1), 1), (7, Fraction(100), 7),
    (1000, Fraction(5, 2), 25),
])
def test_percentage_sample_size_rounds_up(population, percent, expected):
    assert pa.percentage_sample_size(population, percent) == expected


@pytest.mark.parametrize("text, expected", [("5", Fraction(5)), ("2.5", Fraction(5, 2)),
                                            (" 10 % ", Fraction(10))])
def test_parse_percent(text, expected):
    assert pa.parse_percent(text, "x") == expected


@pytest.mark.parametrize("text", ["", "abc", "0", "101", "-1"])
def test_parse_percent_refuses(text):
    with pytest.raises(pa.AuditInputError):
        pa.parse_percent(text, "The risk limit")


def test_risk_audit_advises_a_hand_count_on_any_discrepancy():
    clean = pa.summarise("risk", 500, 48, discrepancies=0, audited=48)
    assert (clean.hand_count_advised, clean.complete, clean.discrepancy_rate) == \
        (False, True, Fraction(0))
    found = pa.summarise("risk", 500, 48, discrepancies=1, audited=10)
    assert found.hand_count_advised and found.discrepancy_rate == Fraction(1, 10)


def test_percentage_audit_advice_uses_the_tolerance_and_the_margin():
    within = pa.summarise("percentage", 10_000, 200, discrepancies=2, audited=200)
    assert within.discrepancy_rate == Fraction(1, 100) and not within.hand_count_advised
    above = pa.summarise("percentage", 10_000, 200, discrepancies=3, audited=200)
    assert above.hand_count_advised
    # 1 in 200 projects to 50 of 10,000; a 1 % margin is 100 ballots, half of it is 50
    close = pa.summarise("percentage", 10_000, 200, discrepancies=1, audited=200,
                         margin=Fraction(1))
    assert close.hand_count_advised
    wide = pa.summarise("percentage", 10_000, 200, discrepancies=1, audited=200,
                        margin=Fraction(5))
    assert not wide.hand_count_advised
    assert pa.summarise("percentage", 10, 1, 0, 0).discrepancy_rate is None
