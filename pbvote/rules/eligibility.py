"""Pure eligibility rules: who may vote, and how a resident proves it.

No database and no secrets here: the service reads a :class:`RollRecord` or an
access code's row and asks these functions for the verdict.  Verdicts are
lists of :class:`~pbvote.rules.ballots.Reason` (empty = eligible), the same type the
ballot code uses, so the web layer handles one kind of error.

Identities: :func:`identity_key_for_roll` and :func:`identity_key_for_code`
build canonical strings that the service HMACs with the app secret to stop
double voting.  A code issued *for* a roll entry votes under that entry's
identity (the service looks the entry up), so whoever is on the roll has one
vote however they prove it.  A code issued without an entry, for a person the
roll does not list, is an identity of its own (:func:`identity_key_for_code`);
handing such a code to someone who is also on the roll gives them two.

Name normalisation rule (:func:`normalise_name`): accents are stripped,
letters are case-folded, a few letters without a Unicode decomposition are
spelled out (ø→o, ł→l, æ→ae, ß→ss …), and then *everything that is not a letter
or digit is dropped*, spaces included.  So "O’Brien-Smith", "O'Brien Smith",
"OBRIEN SMITH", "obriensmith" and "Ó Brien-Smith" all give "obriensmith", and
"Van der Berg" matches "Vanderberg".  These are the variations clerks and
residents typically introduce; the birth date and postcode or roll number still
have to match, so the looser name rule costs little.

Access codes (:func:`generate_access_code`): 12 symbols of Crockford's base32
alphabet ``0-9 A-Z`` without ``I L O U`` (60 bits), printed as
``XXXX-XXXX-XXXX``.  :func:`normalise_access_code` accepts what people type:
any case, with or without hyphens or spaces, and the look-alikes O→0, I→1,
L→1, as Crockford specifies.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from pbvote.i18n_hook import N_, _, translate
from pbvote.rules.ballots import Reason

__all__ = [
    "ACCESS_CODE_ALPHABET",
    "ACCESS_CODE_LENGTH",
    "VERIFICATION_METHODS",
    "EligibilityRules",
    "RollRecord",
    "access_code_is_well_formed",
    "age_on",
    "check_access_code",
    "check_roll_match",
    "format_access_code",
    "generate_access_code",
    "generate_access_codes",
    "identity_key_for_code",
    "identity_key_for_roll",
    "normalise_access_code",
    "normalise_name",
    "normalise_postcode",
]

VERIFICATION_METHODS: tuple[str, ...] = ("roll", "code", "desk", "self_declared")

ACCESS_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I L O U
ACCESS_CODE_LENGTH = 12  # 12 × 5 = 60 bits
ACCESS_CODE_GROUP = 4

MAXIMUM_SENSIBLE_AGE = 120

# Bumped if the canonical form ever changes, so old and new keys never collide.
IDENTITY_KEY_VERSION = "pbvote-identity/v1"

# Letters NFKD does not decompose, spelled the way clerks usually type them.
_LETTER_SPELLINGS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ŀ": "l"}
)
# Dashes and hyphens people paste into postcodes and codes.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"
_CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})

_NO_MATCH_MESSAGE = N_(
    "We could not find you on the voters' roll with those details. "
    "Check them and try again, or ask at a help desk."
)


@dataclass(frozen=True)
class EligibilityRules:
    """A cycle's eligibility settings.

    ``self_declared_residence`` must be switched on for the ``self_declared``
    method to be offered: listing the method alone is treated as a mistake.
    """

    minimum_age: int = 16
    allowed_methods: frozenset[str] = frozenset({"roll", "code"})
    self_declared_residence: bool = False

    def problems(self) -> list[Reason]:
        found: list[Reason] = []
        if isinstance(self.minimum_age, bool) or not isinstance(self.minimum_age, int):
            found.append(
                Reason("minimum_age", "not_integer", _("The minimum age must be a whole number."))
            )
        elif not 0 <= self.minimum_age <= MAXIMUM_SENSIBLE_AGE:
            found.append(
                Reason(
                    "minimum_age",
                    "age_out_of_range",
                    _("The minimum age must be between 0 and %(most)s.",
                      most=MAXIMUM_SENSIBLE_AGE),
                )
            )
        unknown = sorted(
            str(method) for method in self.allowed_methods if method not in VERIFICATION_METHODS
        )
        for method in unknown:
            found.append(
                Reason(
                    "allowed_methods",
                    "unknown_method",
                    _("'%(method)s' is not a verification method; use one of: %(methods)s.",
                      method=method, methods=", ".join(VERIFICATION_METHODS)),
                )
            )
        if not self.allowed_methods:
            found.append(
                Reason(
                    "allowed_methods",
                    "no_methods",
                    _("At least one verification method must be allowed."),
                )
            )
        if "self_declared" in self.allowed_methods and not self.self_declared_residence:
            found.append(
                Reason(
                    "allowed_methods",
                    "self_declared_not_enabled",
                    _("Self-declared residence is listed as a method but is not switched on for "
                      "this cycle."),
                )
            )
        return found


@dataclass(frozen=True)
class RollRecord:
    """One voters'-roll entry, as the service reads it from the database."""

    district: str
    last_name_key: str  # normalise_name(last name)
    birth_date: datetime.date
    postcode_key: str  # normalise_postcode(postcode)
    roll_number: str | None


# ---------------------------------------------------------------------------
# Normalisation


def normalise_name(s: str) -> str:
    """Matching key for a last name; see the module docstring for the rule.

    Idempotent: ``normalise_name(normalise_name(s)) == normalise_name(s)``.
    """
    text = unicodedata.normalize("NFKD", s)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_LETTER_SPELLINGS)
    # Case folding can yield new combining marks (e.g. "İ"), so strip again.
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def normalise_postcode(s: str) -> str:
    """Uppercase, with spaces and hyphens removed: ``"sw1a 1aa" -> "SW1A1AA"``.

    NFKC first so full-width digits and letters typed on some phones match.
    """
    text = unicodedata.normalize("NFKC", s).upper()
    return "".join(ch for ch in text if not ch.isspace() and ch not in _DASHES)


def normalise_access_code(s: str) -> str:
    """Undo printing and typing variations; see the module docstring.

    The result is not checked: use :func:`access_code_is_well_formed` to reject
    obvious typos before touching the database.
    """
    return normalise_postcode(s).translate(_CODE_LOOKALIKES)


def access_code_is_well_formed(normalised_code: str) -> bool:
    return len(normalised_code) == ACCESS_CODE_LENGTH and all(
        ch in ACCESS_CODE_ALPHABET for ch in normalised_code
    )


def format_access_code(normalised_code: str) -> str:
    """``"ABCD1234WXYZ" -> "ABCD-1234-WXYZ"`` for printing."""
    return "-".join(
        normalised_code[i : i + ACCESS_CODE_GROUP]
        for i in range(0, len(normalised_code), ACCESS_CODE_GROUP)
    )


def generate_access_code(rng: Any = secrets) -> str:
    """A fresh printable code, e.g. ``"7K3M-QX9P-2D4H"`` (60 bits of entropy).

    ``rng`` needs a ``choice`` method: the ``secrets`` module in production, a
    seeded ``random.Random`` in tests.
    """
    symbols = "".join(rng.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    return format_access_code(symbols)


def generate_access_codes(count: int, randbytes: Any = secrets.token_bytes) -> list[str]:
    """`count` fresh codes in normalised form (format them for printing), each of 60 random
    bits like :func:`generate_access_code`, but drawn at once: base 32 turns every 5 bits
    into one of 32 symbols, so 15 random bytes make two codes."""
    pairs = (count + 1) // 2
    text = base64.b32encode(randbytes(15 * pairs)).decode("ascii").translate(_BASE32_TO_CODE)
    return [text[i:i + ACCESS_CODE_LENGTH]
            for i in range(0, ACCESS_CODE_LENGTH * count, ACCESS_CODE_LENGTH)]


_BASE32_TO_CODE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ACCESS_CODE_ALPHABET)


# ---------------------------------------------------------------------------
# Age


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    """Whole years completed on ``on``.

    Someone born on 29 February turns a year older on 1 March in common years
    (their birthday has not yet come on 28 February).  Raises ``ValueError`` if
    ``on`` is before ``birth_date``.
    """
    if on < birth_date:
        raise ValueError("the date is before the birth date")
    birthday_not_yet_reached = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - birthday_not_yet_reached


# ---------------------------------------------------------------------------
# Verdicts


def _not_allowed() -> Reason:
    return Reason(
        "method",
        "not_allowed_method",
        _("This way of confirming who you are is not available in this vote; please use another."),
    )


def check_roll_match(
    rules: EligibilityRules,
    record: RollRecord | None,
    district: str,
    last_name: str,
    birth_date: datetime.date,
    postcode_or_roll: str,
    today: datetime.date,
) -> list[Reason]:
    """Whether a resident's typed details match a roll entry and make them eligible.

    ``record`` is the candidate entry the service found (``None`` if none).
    Any mismatch of name, birth date and postcode-or-roll-number gives one
    generic ``no_match`` that does not reveal which detail was wrong.  Only a
    resident who matched on all of them learns ``wrong_district`` or
    ``too_young``, which are about them and nobody else.
    """
    if "roll" not in rules.allowed_methods:
        return [_not_allowed()]
    if record is None or not _details_match(record, last_name, birth_date, postcode_or_roll):
        return [Reason("ballot", "no_match", translate(_NO_MATCH_MESSAGE))]
    reasons: list[Reason] = []
    if record.district != district:
        reasons.append(
            Reason(
                "district",
                "wrong_district",
                _("You are on the roll for a different district; please vote in your own "
                  "district."),
            )
        )
    if today < record.birth_date or age_on(record.birth_date, today) < rules.minimum_age:
        reasons.append(
            Reason(
                "birth_date",
                "too_young",
                _("You must be at least %(age)s years old on the day you vote.",
                  age=rules.minimum_age),
            )
        )
    return reasons


def _details_match(
    record: RollRecord, last_name: str, birth_date: datetime.date, postcode_or_roll: str
) -> bool:
    name_key = normalise_name(last_name)
    if not name_key or name_key != normalise_name(record.last_name_key):
        return False
    if birth_date != record.birth_date:
        return False
    typed = normalise_postcode(postcode_or_roll)
    if not typed:
        return False
    if typed == normalise_postcode(record.postcode_key):
        return True
    return record.roll_number is not None and typed == normalise_postcode(record.roll_number)


def check_access_code(
    rules: EligibilityRules,
    code_district: str | None,
    requested_district: str,
    used: bool,
    voided: bool,
    holder_birth_date: datetime.date | None = None,
    today: datetime.date | None = None,
) -> list[Reason]:
    """Verdict on an access code the service looked up.

    ``code_district`` is the district of the code's row, ``None`` when no row
    matched.  Every other applicable reason is returned, voided first.
    ``holder_birth_date`` is the birth date of the roll entry a code was issued
    for: that person must be old enough on ``today``, as when they match the roll.
    """
    if "code" not in rules.allowed_methods:
        return [_not_allowed()]
    if code_district is None:
        return [
            Reason(
                "code",
                "unknown_code",
                _("We could not find that access code. Check it against your letter and try "
                  "again."),
            )
        ]
    reasons: list[Reason] = []
    if voided:
        reasons.append(
            Reason(
                "code",
                "code_voided",
                _("This access code has been cancelled. Ask at a help desk for a new way to vote."),
            )
        )
    if used:
        reasons.append(
            Reason(
                "code",
                "code_used",
                _("This access code has already been used to vote. If that was not you, ask at "
                  "a help desk."),
            )
        )
    if code_district != requested_district:
        reasons.append(
            Reason(
                "district",
                "wrong_district",
                _("This access code is for a different district; please vote in the district on "
                  "your letter."),
            )
        )
    if holder_birth_date is not None and today is not None and (
        today < holder_birth_date or age_on(holder_birth_date, today) < rules.minimum_age
    ):
        reasons.append(
            Reason(
                "code",
                "too_young",
                _("You must be at least %(age)s years old on the day you vote.",
                  age=rules.minimum_age),
            )
        )
    return reasons


# ---------------------------------------------------------------------------
# Identity keys (canonical text; the service HMACs it)


def _canonical(*parts: str) -> str:
    # A JSON array cannot be confused by separators inside a part.
    return json.dumps([IDENTITY_KEY_VERSION, *parts], ensure_ascii=False, separators=(",", ":"))


def identity_key_for_roll(
    cycle_slug: str, district: str, last_name_key: str, birth_date: datetime.date, postcode_key: str
) -> str:
    """Canonical identity of a roll entry within a cycle.

    Pass the *record's* fields, so a resident who verified by roll number and
    one who verified by postcode get the same key.  The keys are normalised
    again, which is harmless because normalisation is idempotent.
    """
    return _canonical(
        "roll",
        cycle_slug,
        district,
        normalise_name(last_name_key),
        birth_date.isoformat(),
        normalise_postcode(postcode_key),
    )


def identity_key_for_code(cycle_slug: str, normalised_code: str) -> str:
    """Canonical identity of an access-code holder within a cycle."""
    return _canonical("code", cycle_slug, normalise_access_code(normalised_code))
