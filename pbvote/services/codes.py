"""Access codes: generate N per district, issue one for each roll entry, void one, count
them by status.

A code exists in clear only in the answer to the generation: the letter sheet and one CSV
file kept in the instance folder until it is downloaded once (or for an hour). The
database keeps only the code's HMAC (`voting.access_code_hash`), as issue_access_codes does.

Codes issued for roll entries keep a link to the entry and vote under its identity, so a
resident on the roll who also got a letter votes once (services.voting). Generated codes
without an entry are for people the roll does not list.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, func, select

from pbvote.i18n_hook import _, format_number
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, District, Participation, RollEntry
from pbvote.rules import eligibility
from pbvote.services import log
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.keys import check_identity_key
from pbvote.services.roll import issue_access_codes
from pbvote.services.roll_import_batches import running_import
from pbvote.services.voting import access_code_hash

MAX_CODES_PER_REQUEST = 20_000
EXPORT_FOLDER = "code-exports"
EXPORT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
EXPORT_MAX_AGE_SECONDS = 3600
STATUSES = ("unused", "used", "voided")


class CodesRefused(DomainError):
    def __init__(self, message: str, status: int = 409, about: str | None = None):
        super().__init__(message, status)
        self.about = about  # the form field the refusal is about, if one is


COUNT_FIELD = "count"


@dataclass(frozen=True)
class IssuedCode:
    district_slug: str
    district_name: str
    code: str
    #: for a code issued for a roll entry: what the roll keeps in clear to address the letter
    display_name: str = ""
    birth_date: str = ""


def _refuse_unless_codes_allowed(cycle: Cycle, now) -> None:
    if "code" not in cycle.method_list:
        raise CodesRefused(_("This cycle does not allow voting with an access code; allow the "
                             "method in the cycle's eligibility settings first."))
    voting = cycle.phase_window("voting")
    if voting is not None and voting.ends_at <= (now or utcnow()):
        raise CodesRefused(_("Voting has closed; new access codes would be of no use."))


def refuse_while_importing(cycle: Cycle) -> None:
    """Codes for the roll wait for an import job that holds it (roll_import_batches): the
    roll is half old, half new, and codes would go to entries about to be removed. Called
    with the cycle's row locked, the lock the import's batches take."""
    if running_import(cycle.id) is not None:
        raise CodesRefused(_("A voter-roll import of this cycle is being applied. Issue "
                             "codes for the roll once its progress page says it is done; no "
                             "code was issued."))


def generate_codes(cycle: Cycle, district: District, count: int, actor: str,
                   now=None) -> list[IssuedCode]:
    if district.cycle_id != cycle.id:
        raise NotFound(_("There is no such district in this cycle."))
    if not 1 <= count <= MAX_CODES_PER_REQUEST:
        raise CodesRefused(_("Generate between 1 and %(most)s codes at a time.",
                             most=format_number(MAX_CODES_PER_REQUEST)),
                           422, about=COUNT_FIELD)
    _refuse_unless_codes_allowed(cycle, now)
    check_identity_key(cycle, record=True)
    codes = issue_access_codes(cycle, district, count)
    log.record_action(cycle.chain_id, "access_codes.generated", actor, {
        "cycle": cycle.slug, "district": district.slug, "count": count,
        "before": {"unused": _count(district, "unused") - count},
        "after": {"unused": _count(district, "unused")}})
    return [IssuedCode(district.slug, district.name, code) for code in codes]


@dataclass(frozen=True)
class RollCodes:
    codes: list[IssuedCode]
    #: roll entries that still have no code because of the limit
    remaining: int


def issue_codes_for_roll(cycle: Cycle, district: District | None, actor: str, *,
                         limit: int | None = MAX_CODES_PER_REQUEST, now=None) -> RollCodes:
    """One code for each roll entry of the district (or of the whole cycle) that has no
    unused or used code yet, has not voted, and is old enough by the last day of voting;
    at most `limit` of them, in district and roll order."""
    if district is not None and district.cycle_id != cycle.id:
        raise NotFound(_("There is no such district in this cycle."))
    _refuse_unless_codes_allowed(cycle, now)
    check_identity_key(cycle, record=True)
    # Two staff members issuing at once would each give the same entries a code.
    db.session.scalar(for_update(select(Cycle.id).where(Cycle.id == cycle.id)))
    refuse_while_importing(cycle)
    pending = _entries_without_code(cycle, district)
    if not pending:
        if district is not None:
            raise CodesRefused(_("Every roll entry in %(district)s already has an access code "
                                 "(or has voted, or is too young); there is nobody to issue "
                                 "one for.", district=district.name))
        raise CodesRefused(_("Every roll entry in this cycle already has an access code (or "
                             "has voted, or is too young); there is nobody to issue one for."))
    chosen = pending if limit is None else pending[:limit]
    districts = {d.id: d for d in cycle.districts}
    issued = []
    for entry_id, district_id, display_name, birth_date in chosen:
        entry_district = districts[district_id]
        code = issue_access_codes(cycle, entry_district, 1, roll_entry_id=entry_id,
                                  flush=False)[0]
        issued.append(IssuedCode(entry_district.slug, entry_district.name, code,
                                 display_name or "", birth_date.isoformat()))
    db.session.flush()
    per_district: dict[str, int] = {}
    for item in issued:
        per_district[item.district_slug] = per_district.get(item.district_slug, 0) + 1
    log.record_action(cycle.chain_id, "access_codes.issued_for_roll", actor, {
        "cycle": cycle.slug, "district": district.slug if district is not None else None,
        "count": len(issued), "by_district": per_district,
        "after": {"roll_entries_without_code": len(pending) - len(chosen)}})
    return RollCodes(issued, len(pending) - len(chosen))


def _entries_without_code(cycle: Cycle, district: District | None) -> list:
    has_code = exists().where(AccessCode.roll_entry_id == RollEntry.id,
                              AccessCode.status != "voided")
    voted = exists().where(Participation.cycle_id == RollEntry.cycle_id,
                           Participation.district_id == RollEntry.district_id,
                           Participation.identity_hash == RollEntry.identity_hash)
    query = select(RollEntry.id, RollEntry.district_id, RollEntry.display_name,
                   RollEntry.birth_date).where(RollEntry.cycle_id == cycle.id, ~has_code, ~voted)
    if district is not None:
        query = query.where(RollEntry.district_id == district.id)
    rows = db.session.execute(query.order_by(RollEntry.district_id, RollEntry.id)).all()
    voting = cycle.phase_window("voting")
    if voting is None:
        return rows
    last_day = _last_voting_day(cycle, voting)
    return [row for row in rows if row.birth_date <= last_day
            and eligibility.age_on(row.birth_date, last_day) >= cycle.minimum_age]


def _last_voting_day(cycle: Cycle, voting) -> dt.date:
    from zoneinfo import ZoneInfo

    last_moment = voting.ends_at - dt.timedelta(microseconds=1)
    return last_moment.astimezone(ZoneInfo(cycle.timezone)).date()


def _count(district: District, status: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessCode).where(
        AccessCode.district_id == district.id, AccessCode.status == status)) or 0


def void_code(cycle: Cycle, code_text: str, actor: str) -> AccessCode:
    normalised = eligibility.normalise_access_code(code_text or "")
    if not eligibility.access_code_is_well_formed(normalised):
        raise CodesRefused(_("That is not an access code: codes have 12 letters and digits, such "
                             "as 7K3M-Q9XD-2HPA."), 422)
    row = db.session.scalar(select(AccessCode).where(
        AccessCode.cycle_id == cycle.id, AccessCode.code_hash == access_code_hash(normalised)))
    if row is None:
        raise NotFound(_("No access code of this cycle matches."))
    if row.status == "used":
        raise CodesRefused(_("This code has already been used to vote; a cast ballot cannot be "
                             "taken back."))
    if row.status == "voided":
        raise CodesRefused(_("This code is already void."))
    row.status = "voided"
    db.session.flush()
    log.record_action(cycle.chain_id, "access_code.voided", actor, {
        "cycle": cycle.slug, "district": row.district.slug, "code_id": row.id,
        "before": "unused", "after": "voided"})
    return row


def counts_by_status(cycle: Cycle) -> dict[str, dict[str, int]]:
    """district slug → {unused, used, voided}."""
    table = {d.slug: {status: 0 for status in STATUSES} for d in cycle.districts}
    slugs = {d.id: d.slug for d in cycle.districts}
    rows = db.session.execute(select(AccessCode.district_id, AccessCode.status, func.count())
                              .where(AccessCode.cycle_id == cycle.id)
                              .group_by(AccessCode.district_id, AccessCode.status))
    for district_id, status, count in rows:
        table[slugs[district_id]][status] = count
    return table


# ---------------------------------------------------------------------------
# The one-time CSV


def codes_csv(cycle: Cycle, codes: list[IssuedCode]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cycle", "district", "district_name", "access_code"])
    for issued in codes:
        writer.writerow([cycle.slug, issued.district_slug, issued.district_name, issued.code])
    return out.getvalue()


def roll_codes_csv(cycle: Cycle, codes: list[IssuedCode]) -> str:
    """For a mail merge: the roll keeps no address or roll number in clear, so each row
    carries what it does keep (display name, birth date) next to the district and code."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["cycle", "district", "district_name", "display_name", "birth_date",
                     "access_code"])
    for issued in codes:
        writer.writerow([cycle.slug, issued.district_slug, issued.district_name,
                         _spreadsheet_safe(issued.display_name), issued.birth_date, issued.code])
    return out.getvalue()


def _spreadsheet_safe(text: str) -> str:
    # A display name comes from the imported file; a leading = + - @ would run as a formula.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_folder() -> Path:
    folder = Path(current_app.instance_path) / EXPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def save_export(text: str, scope: str = "") -> str:
    """Keep the CSV for one download; returns its token. Older exports are removed.

    `scope` (the cycle's id) is part of the file name, so the token downloads the file only
    from the cycle it was made for."""
    cutoff = time.time() - EXPORT_MAX_AGE_SECONDS
    for old in _export_folder().glob("*.csv"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    path = _export_file(token, scope)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                   encoding="utf-8") as out:
        out.write(text)
    return token


def _export_file(token: str, scope: str) -> Path:
    return _export_folder() / (f"{scope}-{token}.csv" if scope else f"{token}.csv")


def take_export(token: str, scope: str = "") -> str | None:
    """The CSV's text, deleting the file: it can be downloaded once."""
    if not EXPORT_TOKEN.match(token or "") or not re.fullmatch(r"[0-9]*", scope):
        return None
    path = _export_file(token, scope)
    try:
        if path.stat().st_mtime < time.time() - EXPORT_MAX_AGE_SECONDS:
            path.unlink(missing_ok=True)
            return None
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    return text
