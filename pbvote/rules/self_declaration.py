"""Pure rules of online self-declaration: residents on no roll declare where they live,
confirm a one-time code sent to an email address or a phone number, and vote once.

Normalisation, so that the same person typing twice gives the same keys:

- **Names**: given names and last name each by :func:`pbvote.rules.eligibility.normalise_name`
  (accents and punctuation dropped, case folded), so "José Pérez-Núñez" and "jose perez nunez"
  are one person.
- **Identity** (:func:`identity_key`): cycle, given names, last name and date of birth. The
  address is not part of it, so nobody declares twice by giving two addresses; the contact
  is not part of it either, so nobody declares twice with two phones.
- **Address** (:func:`address_key`): street line and postcode, NFKC, accents dropped, case
  folded and everything but letters and digits removed ("12 Main St." = "12 main st");
  abbreviations are not expanded ("Street" and "St" differ).
- **Email** (:func:`normalise_email`): trimmed and lower-cased, as for sign-in.
- **Phone** (:func:`normalise_phone`): NFKC (full-width digits), spaces, dots, dashes and
  brackets dropped; a leading ``00`` becomes ``+``; then ``+`` and 7 to 15 digits (E.164's
  longest), or 7 to 15 digits without a country code. "+1 (555) 010-2030" and
  "001 555 010 2030" are one number; "555-010-2030" is another (no country code).

Codes: 6 digits, valid 15 minutes, 5 wrong tries, one use (:func:`code_state`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass

from pbvote.i18n_hook import _
from pbvote.rules.ballots import Reason
from pbvote.rules.eligibility import (
    IDENTITY_KEY_VERSION,
    age_on,
    normalise_name,
    normalise_postcode,
)
from pbvote.rules.sign_in import email_problem, one_time_code_state
from pbvote.rules.sign_in import normalise_email as _normalise_email
from pbvote.rules.text import forbidden_character_message, forbidden_in_line

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5
NAME_MAX = 100
STREET_MAX = 200
POSTCODE_MAX = 20
CONTACT_MAX = 254
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15

_PHONE_SEPARATORS = re.compile(r"[\s.\-()\u2010-\u2015\u2212]")


@dataclass(frozen=True)
class Contact:
    """Where the code goes: ``kind`` "email" or "phone", ``value`` normalised."""

    kind: str
    value: str


@dataclass(frozen=True)
class Declaration:
    """What a resident typed, before normalisation."""

    given_names: str
    last_name: str
    street: str
    postcode: str
    birth_date: dt.date | None
    contact: str


def normalise_email(text: str) -> str:
    return _normalise_email(text)


def normalise_phone(text: str) -> str | None:
    """The canonical number (see the module docstring), or None when it is not one."""
    number = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))
    if number.startswith("00"):
        number = "+" + number[2:]
    digits = number[1:] if number.startswith("+") else number
    if not digits.isascii() or not digits.isdigit():
        return None
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        return None
    return number


def parse_contact(text: str) -> tuple[Contact | None, str | None]:
    """(contact, None) or (None, message): an address with "@" is email, else a phone."""
    text = (text or "").strip()
    if not text:
        return None, _("Enter an email address or a phone number for your code.")
    character = forbidden_in_line(text)
    if character is not None:
        return None, forbidden_character_message(character)
    if len(text) > CONTACT_MAX:
        return None, _("Use at most %(most)s characters.", most=CONTACT_MAX)
    if "@" in text:
        email = normalise_email(text)
        problem = email_problem(email)
        return (None, problem) if problem else (Contact("email", email), None)
    phone = normalise_phone(text)
    if phone is None:
        return None, _("Enter a phone number of 7 to 15 digits, with the country code if you "
                       "have one (for example +1 555 010 2030), or an email address.")
    return Contact("phone", phone), None


def address_key(street: str, postcode: str) -> str:
    """Matching key of an address; see the module docstring."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", street or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = unicodedata.normalize("NFKD", text)
    street_key = "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))
    return f"{street_key}|{normalise_postcode(postcode or '')}"


def identity_key(cycle_slug: str, given_names: str, last_name: str,
                 birth_date: dt.date) -> str:
    """Canonical identity of a self-declared resident within a cycle (the service HMACs it).

    Tagged "declared", so it never equals a roll entry's or an access code's key."""
    return json.dumps([IDENTITY_KEY_VERSION, "declared", cycle_slug, normalise_name(given_names),
                       normalise_name(last_name), birth_date.isoformat()],
                      ensure_ascii=False, separators=(",", ":"))


def declaration_problems(declaration: Declaration, minimum_age: int,
                         today: dt.date) -> list[Reason]:
    """Every problem with what was typed, one Reason per field (empty = acceptable)."""
    found: list[Reason] = []
    for name, value, most, label in (
            ("given_names", declaration.given_names, NAME_MAX, _("Enter your given names.")),
            ("last_name", declaration.last_name, NAME_MAX, _("Enter your last name.")),
            ("street", declaration.street, STREET_MAX, _("Enter your street address.")),
            ("postcode", declaration.postcode, POSTCODE_MAX, _("Enter your postcode."))):
        text = (value or "").strip()
        character = forbidden_in_line(text)
        if character is not None:
            found.append(Reason(name, "forbidden_character",
                                forbidden_character_message(character)))
        elif not text or (name in ("given_names", "last_name") and not normalise_name(text)):
            found.append(Reason(name, "missing", label))
        elif len(text) > most:
            found.append(Reason(name, "too_long", _("Use at most %(most)s characters.",
                                                    most=most)))
    born = declaration.birth_date
    if born is None:
        found.append(Reason("birth_date", "missing", _("Enter your date of birth.")))
    elif born > today:
        found.append(Reason("birth_date", "in_future",
                            _("The date of birth is in the future.")))
    elif age_on(born, today) < minimum_age:
        found.append(Reason("birth_date", "too_young",
                            _("You must be at least %(age)s years old on the day you vote.",
                              age=minimum_age)))
    _contact, problem = parse_contact(declaration.contact)
    if problem:
        found.append(Reason("contact", "bad_contact", problem))
    return found


def new_code(rng=None) -> str:
    """Six random digits; ``rng`` (a ``random.Random`` in tests) defaults to ``secrets``."""
    number = rng.randrange(10 ** CODE_DIGITS) if rng else secrets.randbelow(10 ** CODE_DIGITS)
    return f"{number:0{CODE_DIGITS}d}"


def normalise_code(text: str | None) -> str | None:
    """The 6 digits typed (spaces and dashes ignored, full-width digits read); else None."""
    code = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", text or ""))
    return code if len(code) == CODE_DIGITS and code.isascii() and code.isdigit() else None


def code_state(expires_at: dt.datetime | None, attempts: int, used: bool,
               now: dt.datetime) -> str:
    """"usable", "used", "expired" or "exhausted" (too many wrong tries)."""
    return one_time_code_state(expires_at, attempts, used, now, MAX_CODE_ATTEMPTS)
