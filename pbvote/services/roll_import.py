"""Importing a voter roll: compare a CSV file with the stored roll, then apply the difference.

Rows are matched to stored entries by the HMAC of their stable key (pbvote.rules.roll_csv);
entries made before the import existed (demo, tests) carry no key and are matched by their
identity hash. Applying is one pass over the file inside the caller's transaction: rows are
inserted in batches while reading, and any error in the file makes the whole import fail
(the caller rolls back). The web form's import job applies a large file in short
transactions instead, so that ballots are cast meanwhile (roll_import_batches). Nobody who
has voted is ever removed or changed: their entry is kept as it is and reported as "kept:
already voted".

Identity fields are stored only as keyed hashes (the same ones `services.roll` makes, so
the resident's path finds imported people); birth date stays in clear for the age rule, and
display_name in clear only when the file maps it, for the help desk.

An unused access code issued for an entry is voided when the entry is removed or moves to
another district (its letter names the old one); a code follows its entry through any other
change, since it is linked to the entry and not to the entry's identity hash.

Nothing here can destroy the roll by accident: once voting has closed the roll is fixed (the
count's "eligible people" depend on it; RollClosed, 409); the preview names who is added,
changed (with the fields that change) and removed, a page at a time; and an import that
removes more than a tenth of the stored entries is applied only when the caller states the
number removed (RemovalNotConfirmed, 409).

Why one module of this length: checking and applying share one streaming pass over the
file (`_run_unbuffered`), whose batches, hashing and counts must stay in step; the
preview's lists (roll_preview.py) and the upload stash (roll_stash.py) live apart.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pbvote.i18n_hook import _, n_
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, Participation, RollEntry
from pbvote.rules import eligibility
from pbvote.rules.roll_csv import (
    MAX_REPORTED_ERRORS,
    ReadSummary,
    RollRow,
    RowError,
    read_roll,
)
from pbvote.services import log
from pbvote.services.errors import DomainError
from pbvote.services.keys import (
    IdentityKeyChanged,
    check_identity_key,
    identity_key_changed_after_votes,
    identity_key_fingerprint,
)
from pbvote.services.roll_preview import Person, changed_people, removed_people
from pbvote.services.roll_stash import (  # noqa: F401  (the web form's steps use them here)
    discard_stash,
    read_header,
    stash_folder,
    stash_path,
    stash_upload,
)

BATCH_ROWS = 100_000
PROGRESS_EVERY_LINES = 10_000
#: how many line numbers of each kind the preview lists
SAMPLE_LINES = 50
#: people listed per page of each list of the preview (added, changed, removed)
PAGE_SIZE = 50
#: an import that removes more than this share of the stored entries must be confirmed
#: with the number it removes
REMOVAL_CONFIRM_SHARE = (1, 10)
LISTS = ("added", "changed", "removed")

Progress = Callable[[int], None]


class RollFileInvalid(DomainError):
    def __init__(self, plan: RollPlan):
        super().__init__(n_("The roll file has %(num)s problem; nothing was imported.",
                            "The roll file has %(num)s problems; nothing was imported.",
                            plan.error_count), 422, [])
        self.plan = plan


class RollClosed(DomainError):
    def __init__(self):
        super().__init__(_("Voting has closed, so the voter roll can no longer change: the count "
                           "and its turnout are measured against this roll. Nothing was "
                           "imported."), 409)


class RemovalNotConfirmed(DomainError):
    def __init__(self, removed: int, before: int):
        super().__init__(n_("This import removes %(num)s entry of the %(total)s on the roll. "
                            "Confirm that number to apply it; nothing was imported.",
                            "This import removes %(num)s entries of the %(total)s on the roll. "
                            "Confirm that number to apply it; nothing was imported.",
                            removed, total=before), 409)
        self.removed = removed


def refuse_if_closed(cycle: Cycle, now=None) -> None:
    """The roll is fixed once voting has closed."""
    voting = cycle.phase_window("voting")
    if voting is not None and (now or utcnow()) >= voting.ends_at:
        raise RollClosed()


def removal_needs_confirmation(removed: int, before: int) -> bool:
    share, whole = REMOVAL_CONFIRM_SHARE
    return removed > 0 and removed * whole > before * share


class RollChangedSincePreview(DomainError):
    def __init__(self):
        super().__init__(_("The stored roll or the file changed since the preview; nothing was "
                           "imported. Look at the new preview and confirm again."), 409)


@dataclass
class RollPlan:
    """What an import would do (or did)."""

    file_sha256: str = ""
    rows: int = 0
    error_count: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    #: entries the file would remove or change but whose person has voted
    kept_voted: int = 0
    added_lines: list[int] = field(default_factory=list)
    changed_lines: list[int] = field(default_factory=list)
    kept_voted_lines: list[int] = field(default_factory=list)
    applied: bool = False
    #: stored entries before the import
    before: int = 0
    #: {list name: page number} the people lists show, from 1
    pages: dict[str, int] = field(default_factory=dict)
    #: {list name: [Person]} of the requested page of each list
    people: dict[str, list[Person]] = field(default_factory=dict)
    #: unused access codes voided because their entry was removed or changed district;
    #: known only once applied, so not part of counts() or the preview's fingerprint
    codes_voided: int = 0
    #: entries found again by roll number after an identity-key change and rewritten under
    #: the new key (those who voted keep their identity, district and birth date)
    rekeyed: int = 0
    #: ids of the entries the import removes, in order (a batched import removes them first)
    removable_ids: list[int] = field(default_factory=list, repr=False)
    #: of kept_voted: stored entries the file does not list
    kept_voted_unlisted: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def removal_needs_confirmation(self) -> bool:
        return removal_needs_confirmation(self.removed, self.before)

    @property
    def removed_percent(self) -> int:
        return (self.removed * 100 + self.before - 1) // self.before if self.before else 0

    def page_count(self, kind: str) -> int:
        return max(1, -(-getattr(self, kind) // PAGE_SIZE))

    def counts(self) -> dict:
        counts = {"rows": self.rows, "added": self.added, "changed": self.changed,
                  "unchanged": self.unchanged, "removed": self.removed,
                  "kept_voted": self.kept_voted}
        if self.rekeyed:
            counts["rekeyed"] = self.rekeyed
        return counts

    def fingerprint(self) -> str:
        """Ties a confirmation to the preview the person saw."""
        return hashlib.sha256(f"{self.file_sha256}|{sorted(self.counts().items())}"
                              .encode()).hexdigest()[:32]


class RowChanges(NamedTuple):
    """One batch of a batched import's writes, as _run_unbuffered builds them."""

    inserts: list[tuple]
    #: changed entries (all of them, re-keyed or not, in a re-key)
    updates: list[dict]
    #: lists of updates that change no identity: roll-number backfills, re-keyed voters
    partial_updates: list[list[dict]]
    rekey: bool
    #: what the batch's rows are (RollPlan.counts of them): added, changed, unchanged...
    counts: dict


@dataclass
class RowBatches:
    """How _run_unbuffered hands a batched import its writes: `write(changes, last_line)`
    every `rows` rows of the file, passing over the rows up to `skip_through_line`."""

    write: Callable[[RowChanges, int], None]
    rows: int
    skip_through_line: int = 0


class _Hasher:
    """keyed_hash (HMAC-SHA-256) with the key's inner and outer pads hashed once: a
    million-row import makes five million HMACs, and setting the key up each time (as
    hmac.digest does) costs more than the hashing."""

    BLOCK = 64

    def __init__(self, key: str | None = None):
        """With the app's identity key, or with `key` (the cycle's roll_number_key)."""
        key = (key if key is not None else current_app.config["IDENTITY_HMAC_KEY"]).encode()
        if len(key) > self.BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self.BLOCK, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, purpose: str, value: str) -> str:
        inner = self.inner.copy()
        inner.update(f"{purpose}\x1f{value}".encode())
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class _Stored(NamedTuple):
    id: int
    details_hash: str | None
    identity_hash: str
    #: the roll-number hash when loaded for a re-key, else only whether there is one
    number_key_hash: str | bool | None


def _load_stored(cycle: Cycle, number_hashes: bool = False
                 ) -> tuple[dict[str, _Stored], dict[str, _Stored]]:
    """(by roll key hash, by identity hash for entries without a key). The roll-number
    hashes themselves only with `number_hashes` (a re-key needs them; otherwise whether an
    entry has one is enough, and a million of them would cost 100 MB)."""
    by_key: dict[str, _Stored] = {}
    legacy: dict[str, _Stored] = {}
    number = (RollEntry.roll_number_key_hash if number_hashes
              else RollEntry.roll_number_key_hash.isnot(None))
    rows = db.session.execute(select(RollEntry.id, RollEntry.roll_key_hash,
                                     RollEntry.details_hash, RollEntry.identity_hash, number)
                              .where(RollEntry.cycle_id == cycle.id))
    for entry_id, key_hash, details_hash, identity_hash, number_key_hash in rows:
        stored = _Stored(entry_id, details_hash, identity_hash, number_key_hash)
        if key_hash is None:
            legacy[identity_hash] = stored
        else:
            by_key[key_hash] = stored
    return by_key, legacy


class RekeyNeedsRollNumbers(IdentityKeyChanged):
    """The identity key changed after people voted, and the roll cannot be matched by roll
    number alone: without that the import could not tell who already voted."""

    def __init__(self):
        DomainError.__init__(self, _(
            "The identity key changed since people voted in this cycle. A roll can then be "
            "imported again only when every row of the file and every stored entry has a roll "
            "number, by which the people who voted are found again; nothing was imported. Set "
            "PBVOTE_IDENTITY_KEY back to the key this cycle was set up with, or import a file "
            "with roll numbers."), 409)


def _by_number(by_key: Mapping[str, _Stored], legacy: Mapping[str, _Stored]
               ) -> dict[str, _Stored] | None:
    """Stored entries by their roll-number hash under the cycle's fixed key; None when an
    entry has none (made before roll numbers were hashed so, or without a roll number)."""
    found: dict[str, _Stored] = {}
    for stored in (*by_key.values(), *legacy.values()):
        if stored.number_key_hash is None:
            return None
        found[stored.number_key_hash] = stored
    return found


def _voted_identities(cycle: Cycle) -> set[str]:
    return set(db.session.scalars(select(Participation.identity_hash)
                                  .where(Participation.cycle_id == cycle.id)))


def _counted_lines(stream, progress: Progress | None, sha) -> Iterator[str]:
    """Lines of the file, feeding the checksum and the progress bar (in bytes) on the way."""
    pending = 0
    for number, line in enumerate(stream, start=1):
        data = line.encode("utf-8")
        sha.update(data)
        pending += len(data)
        if progress is not None and number % PROGRESS_EVERY_LINES == 0:
            progress(pending)
            pending = 0
        yield line
    if progress is not None and pending:
        progress(pending)


class _IdentityKeys:
    """eligibility.identity_key_for_roll (+ the roll number, as services.roll does), built
    from already normalised keys; plain keys skip json.dumps, which is the slow part."""

    def __init__(self, cycle_slug: str, district_slugs):
        head = json.dumps([eligibility.IDENTITY_KEY_VERSION, "roll", cycle_slug],
                          ensure_ascii=False, separators=(",", ":"))[:-1]
        self.cycle_slug = cycle_slug
        self.prefix = {slug: f"{head},{json.dumps(slug, ensure_ascii=False)}"
                       for slug in district_slugs}

    def __call__(self, row: RollRow, district_slug: str, birth: str) -> str:
        if row.name_key.isalnum() and row.postcode_key.isalnum():
            # alphanumeric text needs no JSON escaping
            key = f'{self.prefix[district_slug]},"{row.name_key}","{birth}","{row.postcode_key}"]'
        else:
            key = json.dumps([eligibility.IDENTITY_KEY_VERSION, "roll", self.cycle_slug,
                              district_slug, row.name_key, birth, row.postcode_key],
                             ensure_ascii=False, separators=(",", ":"))
        if row.number_key:
            key = f"{key}|{row.number_key}"
        return key


def _entry_values(cycle_id: int, district_id: int, district_slug: str, row: RollRow,
                  hasher: _Hasher, identities: _IdentityKeys, key_hash: str,
                  details_hash: str, number_key_hash: str | None) -> tuple:
    birth = row.birth_date.isoformat()
    number_hash = None
    if row.number_key:
        number_hash = hasher("roll-number", f"{row.name_key}|{birth}|{row.number_key}")
    # in INSERT_COLUMNS order; the date as ISO text, which both engines store as a date
    return (cycle_id, district_id,
            hasher("roll-postcode", f"{row.name_key}|{birth}|{row.postcode_key}"), number_hash,
            birth, hasher("identity", identities(row, district_slug, birth)), key_hash,
            details_hash, row.display_name, number_key_hash)


#: purpose label of RollEntry.roll_number_key_hash, under the cycle's roll_number_key
NUMBER_KEY_PURPOSE = "roll-number-key"


def _rekeyed(stored: _Stored, voted: bool, values: tuple) -> dict:
    """The update of an entry found again by roll number after an identity-key change: every
    hash under the new key; one who voted keeps the identity their participation holds, and
    their district and birth date (nobody who voted is changed)."""
    changes = dict(zip(INSERT_COLUMNS, values, strict=True))
    del changes["cycle_id"]
    changes["birth_date"] = dt.date.fromisoformat(changes["birth_date"])
    if voted:
        for kept in ("identity_hash", "district_id", "birth_date"):
            del changes[kept]
    return {"id": stored.id, **changes}


INSERT_COLUMNS = ("cycle_id", "district_id", "postcode_match_hash", "roll_number_match_hash",
                  "birth_date", "identity_hash", "roll_key_hash", "details_hash", "display_name",
                  "roll_number_key_hash")
IDENTITY_AT = INSERT_COLUMNS.index("identity_hash")


def _insert_rows(rows: list[tuple]) -> None:
    """A plain DB-API executemany: SQLAlchemy's per-row parameter processing would cost
    more than the insert itself at this volume."""
    connection = db.session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # bandit B608 is a false positive: the column names are the constant INSERT_COLUMNS and
    # every value is a parameter.
    connection.exec_driver_sql(
        f"INSERT INTO roll_entry ({', '.join(INSERT_COLUMNS)}) "  # nosec B608
        f"VALUES ({', '.join([marker] * len(INSERT_COLUMNS))})", rows)


#: SQLite page cache while importing (KiB): the three hash indexes of a million-row roll
#: take random inserts, which thrash the default 2 MB cache
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
#: from this many added rows on, SQLite builds the two lookup indexes once at the end
#: instead of updating them row by row (twice as fast for a large roll)
SQLITE_REBUILD_INDEXES_FROM = BATCH_ROWS


@contextlib.contextmanager
def _large_sqlite_cache() -> Iterator[None]:
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _run(cycle: Cycle, path: Path, mapping: Mapping[str, str] | None, apply: bool,
         progress: Progress | None, pages: Mapping[str, int] | None = None) -> RollPlan:
    if apply:
        with _large_sqlite_cache():
            return _run_unbuffered(cycle, path, mapping, apply, progress, pages)
    return _run_unbuffered(cycle, path, mapping, apply, progress, pages)


def _in_page(plan: RollPlan, kind: str, index: int) -> bool:
    """Is the index-th (from 0) person of a list on the page the preview shows?"""
    return (plan.pages[kind] - 1) * PAGE_SIZE <= index < plan.pages[kind] * PAGE_SIZE


def _run_unbuffered(cycle: Cycle, path: Path, mapping: Mapping[str, str] | None, apply: bool,
                    progress: Progress | None,
                    pages: Mapping[str, int] | None = None,
                    batches: RowBatches | None = None) -> RollPlan:
    """With `batches` (roll_import_batches): the added, changed and re-keyed rows are handed
    to batches.write every batches.rows rows instead of written here, rows up to
    batches.skip_through_line are passed over (written by an earlier run), and removals are
    left to the caller, which made them first."""
    # After an identity-key change with people voted, only a roll matched by roll number
    # (under the cycle's own fixed key) can tell who voted: "rekey" rewrites every matched
    # entry's hashes under the new key and keeps the identity hash of those who voted.
    rekey = identity_key_changed_after_votes(cycle)
    if not rekey:
        # a batched import records the key in its last step, with the log entry
        check_identity_key(cycle, record=apply and batches is None)
    plan = RollPlan()
    plan.pages = {kind: max(1, int((pages or {}).get(kind) or 1)) for kind in LISTS}
    plan.people = {kind: [] for kind in LISTS}
    changed_on_page: list[tuple[int, RollRow]] = []
    hasher = _Hasher()
    districts = {d.slug: d.id for d in cycle.districts}
    names = {d.slug: d.name for d in cycle.districts}
    identities = _IdentityKeys(cycle.slug, districts)
    cycle_id = cycle.id
    by_key, legacy = _load_stored(cycle, number_hashes=rekey)
    by_number = _by_number(by_key, legacy) if rekey else None
    if rekey and by_number is None:
        raise RekeyNeedsRollNumbers()
    number_hasher = _Hasher(cycle.roll_number_key or "")
    voted = _voted_identities(cycle)
    to_backfill: list[dict] = []
    to_rekey_voted: list[dict] = []
    seen: set[int] = set()
    to_insert: list[dict] = []
    to_update: list[dict] = []
    summary = ReadSummary()
    sha = hashlib.sha256()
    today = utcnow().date()

    connection = db.session.connection()
    lookup_indexes = [index for index in RollEntry.__table__.indexes if not index.unique]
    rebuild_indexes = False

    def flush_inserts() -> None:
        nonlocal rebuild_indexes
        if not to_insert:
            return
        if (connection.dialect.name == "sqlite" and not rebuild_indexes
                and len(to_insert) >= SQLITE_REBUILD_INDEXES_FROM):
            # Inside this transaction: a failure rolls the indexes back too, and readers
            # keep seeing the last committed database, indexes included.
            for index in lookup_indexes:
                index.drop(connection)
            rebuild_indexes = True
        # in index order: the unique identity index then grows with fewer page splits
        to_insert.sort(key=lambda values: values[IDENTITY_AT])
        _insert_rows(to_insert)
        to_insert.clear()

    rows_pending = 0
    batch_last_line = batches.skip_through_line if batches is not None else 0
    counted: dict[str, int] = {}

    def write_batch() -> None:
        nonlocal rows_pending, counted
        counts = plan.counts()
        batches.write(RowChanges(to_insert, to_update, [to_backfill, to_rekey_voted], rekey,
                                 {kind: number - counted.get(kind, 0)
                                  for kind, number in counts.items()}), batch_last_line)
        counted = counts
        for pending in (to_insert, to_update, to_backfill, to_rekey_voted):
            pending.clear()
        rows_pending = 0

    def note_error(error: RowError) -> None:
        plan.error_count += 1
        if len(plan.errors) < MAX_REPORTED_ERRORS:
            plan.errors.append(error)

    with open(path, encoding="utf-8-sig", newline="") as stream:
        lines = _counted_lines(stream, progress, sha)
        try:
            for item in read_roll(lines, names, mapping, today, summary):
                if isinstance(item, RowError):
                    note_error(item)
                    continue
                if plan.error_count:
                    continue  # keep reading to report every error, but stop writing
                if batches is not None:
                    if item.line <= batches.skip_through_line:
                        continue
                    if rows_pending >= batches.rows:
                        write_batch()
                    rows_pending += 1
                    batch_last_line = item.line
                key_hash = hasher("roll-key", item.stable_key)
                details_hash = hasher("roll-details", item.details)
                number_key_hash = (number_hasher(NUMBER_KEY_PURPOSE, item.number_key)
                                   if item.number_key else None)
                if rekey:
                    if number_key_hash is None:
                        raise RekeyNeedsRollNumbers()
                    stored = by_number.get(number_key_hash)
                    if stored is not None:
                        seen.add(stored.id)
                        plan.rekeyed += 1
                        if apply:
                            has_voted = stored.identity_hash in voted
                            (to_rekey_voted if has_voted else to_update).append(_rekeyed(
                                stored, has_voted, _entry_values(
                                    cycle_id, districts[item.district], item.district, item,
                                    hasher, identities, key_hash, details_hash,
                                    number_key_hash)))
                        continue
                else:
                    stored = by_key.get(key_hash)
                if stored is None and legacy and not rekey:
                    values = _entry_values(cycle_id, districts[item.district], item.district,
                                           item, hasher, identities, key_hash, details_hash,
                                           number_key_hash)
                    stored = legacy.get(values[IDENTITY_AT])
                if stored is None:
                    if _in_page(plan, "added", plan.added):
                        plan.people["added"].append(Person(
                            item.line, item.display_name or item.last_name, item.roll_number,
                            item.birth_date.isoformat(), names[item.district]))
                    plan.added += 1
                    if len(plan.added_lines) < SAMPLE_LINES:
                        plan.added_lines.append(item.line)
                    if apply:
                        to_insert.append(_entry_values(
                            cycle_id, districts[item.district], item.district, item, hasher,
                            identities, key_hash, details_hash, number_key_hash))
                        if batches is None and len(to_insert) >= BATCH_ROWS:
                            flush_inserts()
                    continue
                seen.add(stored.id)
                if apply and number_key_hash and not stored.number_key_hash:
                    # entries imported before roll numbers were hashed under the cycle's key
                    to_backfill.append({"id": stored.id, "roll_number_key_hash": number_key_hash})
                if stored.details_hash == details_hash:
                    plan.unchanged += 1
                elif stored.identity_hash in voted:
                    plan.kept_voted += 1
                    if len(plan.kept_voted_lines) < SAMPLE_LINES:
                        plan.kept_voted_lines.append(item.line)
                else:
                    if _in_page(plan, "changed", plan.changed):
                        changed_on_page.append((stored.id, item))
                    plan.changed += 1
                    if len(plan.changed_lines) < SAMPLE_LINES:
                        plan.changed_lines.append(item.line)
                    if apply:
                        values = dict(zip(INSERT_COLUMNS, _entry_values(
                            cycle_id, districts[item.district], item.district, item, hasher,
                            identities, key_hash, details_hash, number_key_hash), strict=True))
                        del values["cycle_id"]
                        values["birth_date"] = item.birth_date
                        to_update.append({"id": stored.id, **values})
        except UnicodeDecodeError:
            note_error(RowError(0, "file", _("The file is not UTF-8 text; save it from the "
                                             "spreadsheet as “CSV UTF-8” and upload it again.")))
    plan.file_sha256 = sha.hexdigest()
    plan.rows = summary.rows
    plan.duplicates = summary.duplicates
    plan.before = len(by_key) + len(legacy)
    if plan.error_count:
        return plan
    if batches is not None:
        write_batch()
        plan.applied = True
        return plan

    removable: list[int] = []
    for stored in (*by_key.values(), *legacy.values()):
        if stored.id in seen:
            continue
        if stored.identity_hash in voted:
            plan.kept_voted += 1
            plan.kept_voted_unlisted += 1
        else:
            plan.removed += 1
            removable.append(stored.id)
    removable.sort()  # the removed list pages in a stable order
    plan.removable_ids = removable
    start = (plan.pages["removed"] - 1) * PAGE_SIZE
    plan.people["removed"] = removed_people(removable[start:start + PAGE_SIZE], names)
    plan.people["changed"] = changed_people(changed_on_page, names, hasher)
    if apply:
        flush_inserts()
        # Removals first, so a changed row can take an identity a removed one held.
        for start in range(0, len(removable), BATCH_ROWS):
            batch = removable[start:start + BATCH_ROWS]
            plan.codes_voided += _release_codes_of_removed(batch)
            db.session.execute(delete(RollEntry).where(RollEntry.id.in_(batch)))
        for start in range(0, len(to_update), BATCH_ROWS):
            batch = to_update[start:start + BATCH_ROWS]
            plan.codes_voided += _void_codes_of_moving(batch)
            db.session.execute(update(RollEntry), batch)
        for partial in (to_backfill, to_rekey_voted):
            for start in range(0, len(partial), BATCH_ROWS):
                db.session.execute(update(RollEntry), partial[start:start + BATCH_ROWS])
        if rekey:
            # every code's hash was made with the old key, so none can be found any more:
            # void the unused ones, so the count of codes out there stays true
            plan.codes_voided += void_unused_codes(cycle)
            cycle.identity_key_fingerprint = identity_key_fingerprint()
        if rebuild_indexes:
            for index in lookup_indexes:
                index.create(connection)
        plan.applied = True
    return plan


def void_unused_codes(cycle: Cycle) -> int:
    """After a re-key: every code's hash was made with the old key, so none can be found any
    more; void the unused ones, so the count of codes out there stays true."""
    return db.session.execute(
        update(AccessCode).where(AccessCode.cycle_id == cycle.id, AccessCode.status == "unused")
        .values(status="voided").execution_options(synchronize_session=False)).rowcount


# Both helpers change access codes before the roll entries they belong to: casting with a
# code locks the code and then its entry, so taking them in the same order cannot deadlock.
def _release_codes_of_removed(entry_ids: list[int]) -> int:
    """Void the unused codes of entries about to be removed and unlink every code from them.
    Returns how many were voided. (No code of theirs is used: a used code means a vote, and
    an entry that voted is never removed.)"""
    voided = db.session.execute(
        update(AccessCode).where(AccessCode.roll_entry_id.in_(entry_ids),
                                 AccessCode.status == "unused")
        .values(status="voided", roll_entry_id=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.execute(
        update(AccessCode).where(AccessCode.roll_entry_id.in_(entry_ids))
        .values(roll_entry_id=None).execution_options(synchronize_session=False))
    return voided


def _void_codes_of_moving(changes: list[dict]) -> int:
    """Void the unused codes of entries about to move to another district: the letter names
    the old one. Returns how many were voided."""
    by_district: dict[int, list[int]] = {}
    for change in changes:
        by_district.setdefault(change["district_id"], []).append(change["id"])
    voided = 0
    for district_id, entry_ids in by_district.items():
        voided += db.session.execute(
            update(AccessCode).where(AccessCode.roll_entry_id.in_(entry_ids),
                                     AccessCode.status == "unused",
                                     AccessCode.district_id != district_id)
            .values(status="voided").execution_options(synchronize_session=False)).rowcount
    return voided


def plan_import(cycle: Cycle, path: Path, mapping: Mapping[str, str] | None = None,
                progress: Progress | None = None,
                pages: Mapping[str, int] | None = None,
                refuse_closed: bool = True) -> RollPlan:
    """Read and check the file and compare it with the stored roll; changes nothing.
    `pages` picks the page ({"added"|"changed"|"removed": n}) of each list of people.
    Raises RollClosed once voting has closed, unless `refuse_closed` is False (an import
    job resumed after its check passed, which finishes even after the close)."""
    if refuse_closed:
        refuse_if_closed(cycle)
    return _run(cycle, Path(path), mapping, apply=False, progress=progress, pages=pages)


def apply_in_batches(cycle: Cycle, path: Path, mapping: Mapping[str, str] | None,
                     batches: RowBatches, progress: Progress | None = None) -> RollPlan:
    """Hand the file's added, changed and re-keyed rows to `batches` (the import job, which
    has checked the file and made the removals); see roll_import_batches."""
    return _run_unbuffered(cycle, Path(path), mapping, apply=True, progress=progress,
                           batches=batches)


def apply_import(cycle: Cycle, path: Path, actor: str, mapping: Mapping[str, str] | None = None,
                 expected_fingerprint: str | None = None,
                 progress: Progress | None = None,
                 confirmed_removals: int | None = None) -> RollPlan:
    """Apply the file's difference and log it. Raises RollClosed once voting has closed,
    RollFileInvalid when the file has errors, RollChangedSincePreview when the result
    differs from the confirmed preview and RemovalNotConfirmed when it removes more than a
    tenth of the roll and `confirmed_removals` is not the number it removes; the caller then
    rolls back."""
    refuse_if_closed(cycle)
    started = time.perf_counter()
    # codes.issue_codes_for_roll takes the same lock: an import between its reading of the
    # roll and its writing would leave new codes pointing at removed entries.
    db.session.scalar(for_update(select(Cycle.id).where(Cycle.id == cycle.id)))
    from pbvote.services.roll_import_batches import refuse_if_running  # imports this module

    refuse_if_running(cycle)
    before = roll_size(cycle)
    try:
        plan = _run(cycle, Path(path), mapping, apply=True, progress=progress)
    except IntegrityError as error:
        raise DomainError(_("A row of the file has the identity of another stored roll entry; "
                            "nothing was imported."), 409) from error
    if not plan.ok:
        raise RollFileInvalid(plan)
    if expected_fingerprint is not None and plan.fingerprint() != expected_fingerprint:
        raise RollChangedSincePreview()
    if plan.removal_needs_confirmation and confirmed_removals != plan.removed:
        raise RemovalNotConfirmed(plan.removed, plan.before)
    db.session.flush()
    log.record_action(cycle.chain_id, "roll.imported", actor, {
        "cycle": cycle.slug, "file_sha256": plan.file_sha256,
        "mapping": dict(sorted((mapping or {}).items())), **plan.counts(),
        "access_codes_voided": plan.codes_voided,
        "before": {"entries": before}, "after": {"entries": roll_size(cycle)},
        "seconds": round(time.perf_counter() - started, 1)})
    return plan


def roll_size(cycle: Cycle) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(RollEntry)
                             .where(RollEntry.cycle_id == cycle.id)) or 0
