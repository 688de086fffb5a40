"""Reading a voter-roll CSV: column mapping, row validation and duplicates, as pure code.

The file has a header row. Columns map to these fields (by default a column whose header,
lower-cased with spaces as underscores, is the field's name):

- ``last_name``, ``birth_date`` (YYYY-MM-DD), ``postcode``, ``district`` (a district's web
  name or its name, either in any letter case) are required;
- ``roll_number`` is optional; when present it is the row's stable key, so a person whose
  name or address changes is the same person on re-import;
- ``display_name`` is optional and is stored IN CLEAR for help-desk lookup.

Each row gets a stable key: the normalised roll number when there is one, else the
normalised last name, birth date and postcode. Two rows with the same key are duplicates.
Line numbers are the file's physical lines (the header is line 1).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TextIO

from pbvote.i18n_hook import N_, _, translate
from pbvote.rules.eligibility import normalise_name, normalise_postcode
from pbvote.rules.text import describe, forbidden_in_line

FIELDS: tuple[str, ...] = ("last_name", "birth_date", "postcode", "district", "roll_number",
                           "display_name")
REQUIRED_FIELDS: tuple[str, ...] = FIELDS[:4]
FIELD_LABELS = {
    "last_name": N_("last name"), "birth_date": N_("date of birth"), "postcode": N_("postcode"),
    "district": N_("district"), "roll_number": N_("roll number"),
    "display_name": N_("display name"),
}
MAX_FIELD_LENGTH = {"last_name": 100, "postcode": 20, "district": 80, "roll_number": 40,
                    "display_name": 200}
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
#: stop listing after this many errors: a wrong mapping would otherwise list every row
MAX_REPORTED_ERRORS = 200


_ASCII_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_ASCII_POSTCODE_DROP = re.compile(r"[\s\x1c-\x1f-]")


def name_key(text: str) -> str:
    """eligibility.normalise_name, with a fast path for plain ASCII (most rows of a roll)."""
    if text.isascii():
        return _ASCII_NOT_ALNUM.sub("", text.lower())
    return normalise_name(text)


def postcode_key(text: str) -> str:
    """eligibility.normalise_postcode, with a fast path for plain ASCII."""
    if text.isascii():
        return _ASCII_POSTCODE_DROP.sub("", text.upper())
    return normalise_postcode(text)


class RollRow(NamedTuple):
    line: int
    last_name: str
    birth_date: dt.date
    postcode: str
    district: str
    roll_number: str | None
    display_name: str | None
    #: matching keys, normalised once here because a large import is hot
    name_key: str
    postcode_key: str
    number_key: str

    @property
    def stable_key(self) -> str:
        if self.number_key:
            return "number|" + self.number_key
        return f"person|{self.name_key}|{self.birth_date.isoformat()}|{self.postcode_key}"

    @property
    def details(self) -> str:
        """Every imported field, normalised: a change here is a "changed" row on re-import."""
        return "|".join((self.name_key, self.birth_date.isoformat(), self.postcode_key,
                         self.district, self.number_key, self.display_name or ""))


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.line:
            return _("line %(line)s: %(message)s", line=self.line, message=self.message)
        return _("header: %(message)s", message=self.message)


def normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def parse_mapping_options(options: Iterable[str]) -> tuple[dict[str, str], list[RowError]]:
    """CLI ``--map Column=field`` options → {column header: field}."""
    mapping, errors = {}, []
    for option in options:
        column, sep, field_name = option.partition("=")
        if not sep or not column.strip() or not field_name.strip():
            errors.append(RowError(0, "mapping", _("--map '%(option)s': write COLUMN=FIELD, for "
                                                   "example --map Surname=last_name.",
                                                   option=option)))
            continue
        mapping[column.strip()] = field_name.strip()
    return mapping, errors


def resolve_columns(header: list[str], mapping: Mapping[str, str] | None = None
                    ) -> tuple[dict[str, int], list[RowError]]:
    """field → column index. ``mapping`` is {column header: field}; an empty field skips it."""
    errors: list[RowError] = []
    columns: dict[str, int] = {}
    given = {column.strip(): field_name for column, field_name in (mapping or {}).items()}
    stripped = [h.strip().lstrip("\ufeff") for h in header]
    for column, field_name in given.items():
        if column not in stripped:
            errors.append(RowError(0, "mapping", _("The file has no column '%(column)s'; its "
                                                   "columns are %(columns)s.",
                                                   column=column, columns=", ".join(stripped))))
        if field_name and field_name not in FIELDS:
            errors.append(RowError(0, "mapping", _("'%(field)s' is not a roll field; use one "
                                                   "of %(fields)s.",
                                                   field=field_name, fields=", ".join(FIELDS))))
    for index, name in enumerate(stripped):
        field_name = given[name] if name in given else normalise_header(name)
        if field_name not in FIELDS:
            continue  # extra columns are ignored
        if field_name in columns:
            errors.append(RowError(0, "mapping", _("Two columns map to %(field)s: '%(first)s' "
                                                   "and '%(second)s'.", field=field_name,
                                                   first=stripped[columns[field_name]],
                                                   second=name)))
            continue
        columns[field_name] = index
    for field_name in REQUIRED_FIELDS:
        if field_name not in columns:
            errors.append(RowError(0, "mapping", _("No column is mapped to %(field)s "
                                                   "(%(label)s).", field=field_name,
                                                   label=translate(FIELD_LABELS[field_name]))))
    return columns, errors


def parse_birth_date(text: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    try:
        if len(text) != 10:
            raise ValueError
        value = dt.date.fromisoformat(text)
    except ValueError:
        return None, _("date of birth '%(date)s' is not a date in the form YYYY-MM-DD", date=text)
    if value > today:
        return None, _("date of birth %(date)s is in the future", date=text)
    if value < EARLIEST_BIRTH_DATE:
        return None, _("date of birth %(date)s is before %(earliest)s", date=text,
                       earliest=EARLIEST_BIRTH_DATE.isoformat())
    return value, None


@dataclass
class ReadSummary:
    rows: int = 0
    errors: int = 0
    duplicates: int = 0


def district_aliases(districts: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    """{case-folded web name or name: web name}. ``districts`` is an iterable of web names
    (slugs) or a mapping {slug: name}; a slug wins over another district's equal name."""
    pairs = districts.items() if isinstance(districts, Mapping) else ((s, s) for s in districts)
    aliases: dict[str, str] = {}
    names: dict[str, str] = {}
    for slug, name in pairs:
        aliases[slug.casefold()] = slug
        names.setdefault(" ".join(name.split()).casefold(), slug)
    for name, slug in names.items():
        aliases.setdefault(name, slug)
    return aliases


def read_roll(stream: TextIO, district_slugs: Iterable[str] | Mapping[str, str],
              mapping: Mapping[str, str] | None = None, today: dt.date | None = None,
              summary: ReadSummary | None = None) -> Iterator[RollRow | RowError]:
    """Yield each valid row and each error, in file order; stops after a header error.

    Duplicates (a second row with the stable key of an earlier one) are errors naming the
    first line. Memory grows with the number of distinct keys.
    """
    today = today or dt.date.today()
    summary = summary if summary is not None else ReadSummary()
    aliases = district_aliases(district_slugs)
    slugs = sorted(set(aliases.values()))
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        summary.errors += 1
        yield RowError(0, "file", _("The file is empty; it needs a header row and one row per "
                                    "person."))
        return
    except csv.Error as error:
        summary.errors += 1
        yield RowError(1, "file", _("The header row cannot be read as CSV: %(error)s.",
                                    error=error))
        return
    columns, header_errors = resolve_columns(header, mapping)
    if header_errors:
        summary.errors += len(header_errors)
        yield from header_errors
        return
    width = max(columns.values()) + 1
    indexes = [columns.get(name) for name in FIELDS]
    limits = [MAX_FIELD_LENGTH.get(name, 10**9) for name in FIELDS]
    shortest_limit = min(limits)
    first_line_of: dict[str, int] = {}
    while True:
        line = reader.line_num + 1  # errors name the line where the record starts
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            summary.errors += 1
            yield RowError(line, "file", _("line %(line)s cannot be read as CSV: %(error)s.",
                                           line=line, error=error))
            return
        if len(record) < width:
            record = record + [""] * (width - len(record))
        cells = [record[i].strip() if i is not None else "" for i in indexes]
        if not any(cells) and not any(cell.strip() for cell in record):
            continue  # blank line
        values = dict(zip(FIELDS, cells, strict=True))
        problems = []
        if forbidden_in_line("".join(cells)):  # one search per row; the cells only if found
            for name, value in zip(FIELDS, cells, strict=True):
                character = forbidden_in_line(value)
                if character is not None:
                    problems.append((name, _("%(label)s contains an invisible control "
                                             "character (%(code)s)",
                                             label=translate(FIELD_LABELS[name]),
                                             code=describe(character))))
        if max(map(len, cells)) > shortest_limit:
            for name, value, limit in zip(FIELDS, cells, limits, strict=True):
                if len(value) > limit:
                    problems.append((name, _("%(label)s is longer than %(limit)s characters",
                                             label=translate(FIELD_LABELS[name]), limit=limit)))
        if not all(cells[:4]):  # REQUIRED_FIELDS lead FIELDS
            for name in REQUIRED_FIELDS:
                if not values[name]:
                    problems.append((name, _("%(label)s is empty",
                                             label=translate(FIELD_LABELS[name]))))
        birth_date = None
        if values["birth_date"]:
            birth_date, problem = parse_birth_date(values["birth_date"], today)
            if problem:
                problems.append(("birth_date", problem))
        last_name_key = name_key(values["last_name"])
        postcode_value_key = postcode_key(values["postcode"])
        number_key = postcode_key(values["roll_number"])
        if values["last_name"] and not last_name_key:
            problems.append(("last_name", _("last name '%(last_name)s' has no letters",
                                            last_name=values["last_name"])))
        if values["postcode"] and not postcode_value_key:
            problems.append(("postcode", _("postcode is empty")))
        district = values["district"]
        if district:
            district = aliases.get(district.casefold()) or aliases.get(
                " ".join(district.split()).casefold())
            if district is None:
                problems.append(("district", _("district '%(district)s' is not one of "
                                               "%(districts)s",
                                               district=values["district"],
                                               districts=", ".join(slugs))))
        if problems:
            summary.errors += len(problems)
            for name, message in problems:
                yield RowError(line, name, f"line {line}: {message}.")
            continue
        row = RollRow(line, values["last_name"], birth_date, values["postcode"],
                      district, values["roll_number"] if number_key else None,
                      values["display_name"] or None, last_name_key, postcode_value_key,
                      number_key)
        key = row.stable_key
        first = first_line_of.setdefault(key, line)
        if first != line:
            summary.duplicates += 1
            summary.errors += 1
            if row.number_key:
                message = _("line %(line)s: duplicate of line %(first)s (same roll number).",
                            line=line, first=first)
            else:
                message = _("line %(line)s: duplicate of line %(first)s (same last name, date of "
                            "birth and postcode).", line=line, first=first)
            yield RowError(line, "duplicate", message)
            continue
        summary.rows += 1
        yield row


def read_roll_text(text: str, district_slugs: Iterable[str] | Mapping[str, str],
                   mapping: Mapping[str, str] | None = None,
                   today: dt.date | None = None) -> tuple[list[RollRow], list[RowError]]:
    """For tests and small files: every row and every error."""
    rows: list[RollRow] = []
    errors: list[RowError] = []
    for item in read_roll(io.StringIO(text, newline=""), district_slugs, mapping, today):
        (rows if isinstance(item, RollRow) else errors).append(item)
    return rows, errors
