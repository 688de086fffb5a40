"""Access codes: generate N per district, void one, count them by status.

A code exists in clear only in the answer to the generation: the letter sheet and one CSV
file kept in the instance folder until it is downloaded once (or for an hour). The
database keeps only the code's HMAC (`voting.access_code_hash`), as issue_access_codes does.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from pbvote import eligibility
from pbvote.db import utcnow
from pbvote.extensions import db
from pbvote.i18n_hook import _, format_number
from pbvote.models import AccessCode, Cycle, District
from pbvote.services import log
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.roll import issue_access_codes
from pbvote.services.voting import access_code_hash

MAX_CODES_PER_REQUEST = 20_000
EXPORT_FOLDER = "code-exports"
EXPORT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
EXPORT_MAX_AGE_SECONDS = 3600
STATUSES = ("unused", "used", "voided")


class CodesRefused(DomainError):
    def __init__(self, message: str, status: int = 409):
        super().__init__(message, status)


@dataclass(frozen=True)
class IssuedCode:
    district_slug: str
    district_name: str
    code: str


def generate_codes(cycle: Cycle, district: District, count: int, actor: str,
                   now=None) -> list[IssuedCode]:
    if district.cycle_id != cycle.id:
        raise NotFound(_("There is no such district in this cycle."))
    if not 1 <= count <= MAX_CODES_PER_REQUEST:
        raise CodesRefused(_("Generate between 1 and %(most)s codes at a time.",
                             most=format_number(MAX_CODES_PER_REQUEST)),
                           422)
    if "code" not in cycle.method_list:
        raise CodesRefused(_("This cycle does not allow voting with an access code; allow the "
                             "method in the cycle's eligibility settings first."))
    voting = cycle.phase_window("voting")
    if voting is not None and voting.ends_at <= (now or utcnow()):
        raise CodesRefused(_("Voting has closed; new access codes would be of no use."))
    codes = issue_access_codes(cycle, district, count)
    log.record_action(cycle.chain_id, "access_codes.generated", actor, {
        "cycle": cycle.slug, "district": district.slug, "count": count,
        "before": {"unused": _count(district, "unused") - count},
        "after": {"unused": _count(district, "unused")}})
    return [IssuedCode(district.slug, district.name, code) for code in codes]


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
