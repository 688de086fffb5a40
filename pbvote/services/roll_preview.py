"""Who a voter-roll import adds, changes and removes, for its preview.

Names, postcodes and roll numbers of stored entries exist only as keyed hashes, so a removed
entry is shown by its display name (when the roll had one), date of birth and district, and a
change of last name or postcode is found by hashing the file's values with the stored date of
birth."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.models import RollEntry
from pbvote.rules.roll_csv import FIELD_LABELS, RollRow


@dataclass
class Person:
    """One person in a preview list. Names and postcodes of stored entries exist only as keyed
    hashes, so a removed entry shows its display name (when the roll had one), date of birth
    and district; `changes` is [(field label, before or None when not stored in clear, after)].
    """

    line: int | None
    name: str | None
    roll_number: str | None
    birth_date: str
    district: str
    changes: list[tuple[str, str | None, str]] = field(default_factory=list)


def _stored_rows(entry_ids: list[int]) -> dict[int, RollEntry]:
    if not entry_ids:
        return {}
    return {entry.id: entry for entry in db.session.scalars(
        select(RollEntry).where(RollEntry.id.in_(entry_ids)))}


def removed_people(entry_ids: list[int], names: Mapping[str, str]) -> list[Person]:
    stored = _stored_rows(entry_ids)
    slugs = {d.id: d.slug for d in (e.district for e in stored.values())}
    return [Person(None, stored[i].display_name, None, stored[i].birth_date.isoformat(),
                   names.get(slugs[stored[i].district_id], ""))
            for i in entry_ids if i in stored]


def changed_people(pairs: list[tuple[int, RollRow]], names: Mapping[str, str],
                   hasher: Callable[[str, str], str]) -> list[Person]:
    """Each changed row with the fields that change. Last name and postcode are stored only
    as hashes: a change is found by hashing the new values with the stored date of birth."""
    stored = _stored_rows([entry_id for entry_id, _row in pairs])
    people = []
    label = {name: _(text) for name, text in FIELD_LABELS.items()}
    for entry_id, row in pairs:
        entry = stored.get(entry_id)
        if entry is None:
            continue
        new_birth = row.birth_date.isoformat()
        old_birth = entry.birth_date.isoformat()
        changes: list[tuple[str, str | None, str]] = []
        if entry.district.slug != row.district:
            changes.append((label["district"], entry.district.name, names[row.district]))
        if old_birth != new_birth:
            changes.append((label["birth_date"], old_birth, new_birth))
        same_name_and_postcode = entry.postcode_match_hash == hasher(
            "roll-postcode", f"{row.name_key}|{old_birth}|{row.postcode_key}")
        if not same_name_and_postcode:
            if row.number_key and entry.roll_number_match_hash == hasher(
                    "roll-number", f"{row.name_key}|{old_birth}|{row.number_key}"):
                changes.append((label["postcode"], None, row.postcode))
            else:
                changes.append((label["last_name"], None, row.last_name))
                changes.append((label["postcode"], None, row.postcode))
        new_number_hash = hasher("roll-number", f"{row.name_key}|{old_birth}|{row.number_key}") \
            if row.number_key else None
        if not row.number_key and entry.roll_number_match_hash is not None:
            changes.append((label["roll_number"], None, ""))
        elif row.number_key and entry.roll_number_match_hash is None:
            changes.append((label["roll_number"], "", row.roll_number or ""))
        elif same_name_and_postcode and row.number_key \
                and entry.roll_number_match_hash != new_number_hash:
            changes.append((label["roll_number"], None, row.roll_number or ""))
        if (entry.display_name or "") != (row.display_name or ""):
            changes.append((label["display_name"], entry.display_name or "",
                            row.display_name or ""))
        people.append(Person(row.line, row.display_name or row.last_name, row.roll_number,
                             new_birth, names[row.district], changes))
    return people
