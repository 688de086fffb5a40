"""Exact numbers for the tally: integers and rationals, never floats.

``Rational`` is ``gmpy2.mpq`` when gmpy2 is installed (several times faster) and
``fractions.Fraction`` otherwise. Both are exact, so results never depend on which
one is in use. Public values (costs, budgets, scores) are ``int`` or ``Fraction``.
"""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from numbers import Rational as _RationalABC

try:  # optional speed-up; identical results
    from gmpy2 import mpq as Rational  # type: ignore[import-not-found]

    HAVE_GMPY2 = True
except ImportError:  # pragma: no cover - exercised on machines without gmpy2
    Rational = Fraction  # type: ignore[misc,assignment]
    HAVE_GMPY2 = False

Number = int | Fraction

#: the documented bound of numbers read from text (budgets, costs, points, thresholds):
#: at most this many digits before the decimal point and after it; beyond it the count would
#: be meaningless and formatting the result could fail (Python stops at 4,300 digits)
MAX_NUMBER_DIGITS = 30
MAX_NUMBER_TEXT = 2 * MAX_NUMBER_DIGITS + 8
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_exact(text: str) -> Number:
    """Parse a decimal string such as ``"2458488.22"`` or ``"100000.0"`` exactly.

    Returns an ``int`` when the value is whole, else a ``Fraction``. Also accepts
    ``"p/q"``. Raises ``ValueError`` for anything else (including ``nan``/``inf``).
    """
    s = text.strip()
    if len(s) > MAX_NUMBER_TEXT:
        raise ValueError(f"a number of more than {MAX_NUMBER_TEXT} characters is beyond the "
                         f"bound of {MAX_NUMBER_DIGITS} digits: {s[:20]}…")
    if "/" in s:
        num, _, den = s.partition("/")
        if not den.strip().lstrip("+-").isdigit() or int(den) == 0:
            raise ValueError(f"not a number: {text!r}")
        return _bounded(normalize(Fraction(int(num), int(den))), text)
    match = _DECIMAL_RE.match(s)
    if not match:
        raise ValueError(f"not a number: {text!r}")
    if match.group(3) and abs(int(match.group(3)[1:])) > MAX_NUMBER_DIGITS:
        raise ValueError(f"the exponent of {text!r} is beyond the bound of "
                         f"{MAX_NUMBER_DIGITS} digits")
    try:
        value = Fraction(Decimal(s))
    except InvalidOperation as exc:  # pragma: no cover - regex already filters
        raise ValueError(f"not a number: {text!r}") from exc
    return _bounded(normalize(value), text)


def _bounded(value: Number, text: str) -> Number:
    """Refuse a number beyond the documented bound: at most MAX_NUMBER_DIGITS digits before
    the decimal point, and a denominator of at most as many."""
    limit = 10 ** MAX_NUMBER_DIGITS
    numerator = value.numerator if isinstance(value, Fraction) else int(value)
    denominator = value.denominator if isinstance(value, Fraction) else 1
    if abs(numerator) >= limit * denominator or denominator > limit:
        raise ValueError(f"{text.strip()[:40]!r} is beyond the bound of {MAX_NUMBER_DIGITS} "
                         f"digits before and after the decimal point")
    return value


def to_number(value) -> Number:
    """Coerce an int, Fraction, mpq, Decimal or decimal string to an exact public number."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_exact(value)
    if isinstance(value, float):
        raise TypeError("floats are not exact; pass an int, Fraction or decimal string")
    if isinstance(value, Decimal):
        return normalize(Fraction(value))
    if isinstance(value, _RationalABC):
        return normalize(Fraction(int(value.numerator), int(value.denominator)))
    if HAVE_GMPY2 and type(value).__name__ == "mpq":
        return normalize(Fraction(int(value.numerator), int(value.denominator)))
    raise TypeError(f"cannot use {type(value).__name__} as an exact number")


def normalize(value) -> Number:
    """Fraction/mpq -> int when whole, else Fraction."""
    num, den = int(value.numerator), int(value.denominator)
    if den == 1:
        return num
    return Fraction(num, den)


def fmt_exact(value) -> str:
    """Exact text: ``"12"``, ``"12.5"`` (terminating decimals) or ``"1/3"``."""
    num, den = int(value.numerator), int(value.denominator)
    if den == 1:
        return str(num)
    d, twos, fives = den, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return f"{num}/{den}"
    digits = max(twos, fives)
    scaled = abs(num) * 10**digits // den
    sign = "-" if num < 0 else ""
    whole, frac = divmod(scaled, 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"


def json_exact(value):
    """JSON form of an exact number: an int when whole, else the exact string."""
    num, den = int(value.numerator), int(value.denominator)
    if den == 1:
        return num
    return fmt_exact(value)


def fmt_approx(value, places: int = 2) -> str:
    """Rounded decimal for people to read (display only; computed exactly, half up)."""
    num, den = int(value.numerator), int(value.denominator)
    scale = 10**places
    sign = "-" if num < 0 else ""
    q = (abs(num) * scale * 2 + den) // (2 * den)
    whole, frac = divmod(q, scale)
    if places == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{places}d}"


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building large acyclic data (grouped ballots,
    per-project counts): its repeated full scans cost 15-20% of a big count. Restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
