"""Adding voter-roll entries and access codes."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, District, RollEntry
from pbvote.rules import eligibility
from pbvote.services.keys import check_identity_key, keyed_hash
from pbvote.services.voting import access_code_hash, roll_match_hashes


@dataclass(frozen=True)
class RollPerson:
    """One row of a voter roll, in clear, as read from an import file."""

    last_name: str
    birth_date: dt.date
    postcode: str
    roll_number: str | None = None


def roll_identity_hash(cycle: Cycle, district: District, person: RollPerson) -> str:
    key = eligibility.identity_key_for_roll(
        cycle.slug, district.slug, eligibility.normalise_name(person.last_name),
        person.birth_date, eligibility.normalise_postcode(person.postcode))
    if person.roll_number:
        # The roll number tells twins apart who share name, birthday and address.
        key = f"{key}|{eligibility.normalise_postcode(person.roll_number)}"
    return keyed_hash("identity", key)


def roll_number_key_hash(cycle: Cycle, roll_number: str | None) -> str | None:
    """The roll-number hash under the cycle's own fixed key (as the roll import makes it)."""
    if not roll_number or not cycle.roll_number_key:
        return None
    key = hmac.new(cycle.roll_number_key.encode(), digestmod=hashlib.sha256)
    key.update(f"roll-number-key\x1f{eligibility.normalise_postcode(roll_number)}".encode())
    return key.hexdigest()


def add_roll_entry(cycle: Cycle, district: District, person: RollPerson) -> RollEntry:
    check_identity_key(cycle, record=True)
    by_postcode, _ = roll_match_hashes(person.last_name, person.birth_date, person.postcode)
    by_number = None
    if person.roll_number:
        _, by_number = roll_match_hashes(person.last_name, person.birth_date, person.roll_number)
    entry = RollEntry(
        cycle_id=cycle.id, district_id=district.id, postcode_match_hash=by_postcode,
        roll_number_match_hash=by_number, birth_date=person.birth_date,
        identity_hash=roll_identity_hash(cycle, district, person),
        roll_number_key_hash=roll_number_key_hash(cycle, person.roll_number))
    db.session.add(entry)
    return entry


def issue_access_codes(cycle: Cycle, district: District, count: int,
                       roll_entry_id: int | None = None, flush: bool = True) -> list[str]:
    """Create `count` unused codes and return them in clear, once, for printing.

    With `roll_entry_id` the codes vote under that roll entry's identity."""
    codes = []
    for _ in range(count):
        code = eligibility.generate_access_code()
        db.session.add(AccessCode(
            cycle_id=cycle.id, district_id=district.id,
            code_hash=access_code_hash(eligibility.normalise_access_code(code)), status="unused",
            roll_entry_id=roll_entry_id))
        codes.append(code)
    if flush:
        db.session.flush()
    return codes
