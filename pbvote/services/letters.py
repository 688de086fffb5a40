"""Access-code letters for a whole roll, as a job ("letters.roll") with progress.

The job issues a code for every roll entry of a district (or of the cycle) that has none
yet, as `codes.issue_codes_for_roll` does, in steps of BATCH entries, and streams each step's
letters into print-ready HTML files, one per district, plus one CSV for a mail merge, in
the job's folder. Nothing is held in memory beyond one step, so memory stays flat for a
roll of any size.

Each step is one transaction: lock the cycle (so two issuers never give an entry two
codes), pick the next entries without a code, insert their codes, append their letters to
the files (flushed to disk), record the step on the chain, and commit the codes together
with the job's progress and the files' lengths (the checkpoint). A worker that dies
mid-step loses nothing: its job is taken over, the files are cut back to the checkpoint,
and the entries whose codes never committed are picked again.

Letters are rendered by the same template as the on-screen letter page
(templates/staff/setup/_letter.html), once per district, and the name and code of each
resident are put into that rendered text: rendering a template per letter would cost
about 1.7 ms a letter, a million letters half an hour.
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from flask import render_template
from sqlalchemy import exists, func, select

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, District, Participation, RollEntry
from pbvote.rules import eligibility
from pbvote.services import jobs, log
from pbvote.services.codes import (
    CodesRefused,
    IssuedCode,
    _last_voting_day,
    _refuse_unless_codes_allowed,
    _spreadsheet_safe,
    refuse_while_importing,
)
from pbvote.services.keys import keyed_hasher
from pbvote.services.voting import ACCESS_CODE_PURPOSE

KIND = "letters.roll"
#: entries per step (one transaction, one chain entry, one fsync of each file): 10,000 make
#: a million letters 100 steps instead of 200, and a step's letters about 9 MB of text
BATCH = 10_000
CSV_NAME = "access-codes.csv"
CSV_HEADER = ["cycle", "district", "district_name", "display_name", "birth_date",
              "access_code"]
_NAME, _CODE = "\x01NAME\x01", "\x01CODE\x01"
_FOOT = "</body>\n</html>\n"


def enqueue_roll_letters(cycle: Cycle, district: District | None, actor: str, *,
                         vote_url: str, locale: str) -> str:
    """Check now what can be checked now (so the staff member hears it at once), then
    enqueue the job; returns its id."""
    _refuse_unless_codes_allowed(cycle, None)
    refuse_while_importing(cycle)
    districts = [district] if district is not None else list(cycle.districts)
    oldest = _birth_cutoff(cycle)
    if not any(_pending_count(cycle, d, oldest) for d in districts):
        raise CodesRefused(_nobody_left(district))
    return jobs.enqueue(KIND, {"cycle_id": cycle.id,
                               "district_id": district.id if district else None,
                               "vote_url": vote_url, "locale": locale, "actor": actor},
                        created_by=actor, cycle_id=cycle.id)


# ---------------------------------------------------------------------------
# Rendering


class LetterPrinter:
    """Letters of one district as text: the template rendered once, names and codes put
    in (escaped) for each resident."""

    def __init__(self, cycle: Cycle, district_name: str, vote_url: str) -> None:
        voting = cycle.phase_window("voting")

        def render(display_name: str) -> list[str]:
            issued = IssuedCode("", district_name, _CODE, display_name)
            text = render_template("staff/setup/_letter.html", cycle=cycle, issued=issued,
                                   voting=voting, vote_url=vote_url)
            return text.replace(_NAME, "\x02").replace(_CODE, "\x02").split("\x02")

        self._named = render(_NAME)   # [before name, between name and code, after code]
        self._unnamed = render("")    # [before code, after code]
        if len(self._named) != 3 or len(self._unnamed) != 2:
            raise RuntimeError("the letter template must show the name once and the code once")

    def letter(self, display_name: str, code: str) -> str:
        if display_name:
            first, middle, last = self._named
            return f"{first}{html.escape(display_name)}{middle}{code}{last}\n"
        first, last = self._unnamed
        return f"{first}{code}{last}\n"

    def letters(self, names_and_codes) -> str:
        """Many letters at once: `letter` for each (display name, code), with the pieces
        looked up once."""
        first, middle, last = self._named
        plain_first, plain_last = self._unnamed
        last, plain_last = last + "\n", plain_last + "\n"  # each letter ends its line
        escape = html.escape
        # one join of the step's letters: no slicing or adding to the joined text, which
        # would copy a step's tens of megabytes again
        return "".join([f"{first}{escape(name)}{middle}{code}{last}" if name
                        else f"{plain_first}{code}{plain_last}"
                        for name, code in names_and_codes])


def print_head(cycle: Cycle, district_name: str, lang: str) -> str:
    return render_template("staff/setup/letters_print_head.html", cycle=cycle,
                           district_name=district_name, lang=lang)


# ---------------------------------------------------------------------------
# The job


@dataclass
class _Files:
    folder: Path
    offsets: dict

    def open(self, name: str, head: str):
        """Open for appending, cut back to the committed length; a new file gets `head`."""
        path = self.folder / name
        if name in self.offsets:
            handle = open(path, "r+", encoding="utf-8", newline="")  # noqa: SIM115
            handle.truncate(self.offsets[name])
            handle.seek(self.offsets[name])
        else:
            handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            os.chmod(path, 0o600)
            handle.write(head)
        return handle

    def mark(self, name: str, handle) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        self.offsets[name] = handle.tell()


@jobs.register(KIND)
def roll_letters(ctx: jobs.JobContext) -> str:
    payload = ctx.payload
    with jobs.in_requesters_language(payload):
        return _roll_letters(ctx, payload)


def _roll_letters(ctx: jobs.JobContext, payload: dict) -> str:
    cycle = jobs.cycle_of(payload)
    only = payload.get("district_id")
    districts = sorted(cycle.districts, key=lambda d: d.id)
    if only is not None:
        districts = [d for d in districts if d.id == only]
        if not districts:
            raise jobs.JobFailed(_("There is no such district in this cycle."))
    oldest = _birth_cutoff(cycle)
    if not ctx.checkpoint:
        _refuse_unless_codes_allowed(cycle, None)
        total = sum(_pending_count(cycle, d, oldest) for d in districts)
        if total == 0:
            raise jobs.JobFailed(_nobody_left(districts[0] if only is not None else None))
        ctx.set_total(total)
        ctx.step(0, {"offsets": {}, "counts": {}, "last_id": {}})
    state = ctx.checkpoint
    files = _Files(ctx.folder, state["offsets"])
    done = ctx.done
    out_csv = files.open(CSV_NAME, _csv_line(CSV_HEADER))
    try:
        for district in districts:
            done = _district_letters(ctx, cycle, district, oldest, files, out_csv, state, done,
                                     payload)
        files.mark(CSV_NAME, out_csv)
    finally:
        out_csv.close()
    # labels are shown in each viewer's language by the job page: the file's kind and the
    # district's name are stored, not text in the language of whoever started the job
    ctx.add_file(CSV_NAME, "")
    ctx.step(done, state)
    return ""


def _district_letters(ctx, cycle, district, oldest, files, out_csv, state, done,
                      payload) -> int:
    name = f"letters-{district.slug}.html"
    step = _Step(cycle, district, LetterPrinter(cycle, district.name, payload.get("vote_url", "")))
    counts, last_ids = state["counts"], state["last_id"]
    out = files.open(name, print_head(cycle, district.name, payload.get("locale") or "en"))
    try:
        while True:
            db.session.scalar(for_update(select(Cycle.id).where(Cycle.id == cycle.id)))
            refuse_while_importing(cycle)  # an import started since: the job fails here
            rows = _pending(cycle, district, oldest, last_ids.get(district.slug, 0), BATCH)
            if not rows:
                break
            step.issue_and_print(rows, out, out_csv)
            files.mark(name, out)
            files.mark(CSV_NAME, out_csv)
            done += len(rows)
            counts[district.slug] = counts.get(district.slug, 0) + len(rows)
            last_ids[district.slug] = rows[-1][0]
            log.record_action(cycle.chain_id, "access_codes.issued_for_roll",
                              payload.get("actor", ""), {
                                  "cycle": cycle.slug, "district": district.slug,
                                  "count": len(rows), "by_district": {district.slug: len(rows)},
                                  "job": ctx.job_id})
            ctx.step(done, state)
        out.write(_FOOT)
        files.mark(name, out)
    finally:
        out.close()
    count = counts.get(district.slug, 0)
    if count:
        ctx.add_file(name, district.name, count)
    ctx.step(done, state)
    return done


class _Step:
    """One step's codes, letters and CSV lines, with everything per district looked up once
    (a million letters make every attribute read in the loop count)."""

    def __init__(self, cycle: Cycle, district: District, printer: LetterPrinter) -> None:
        self.ids = (cycle.id, district.id)
        self.csv_prefix = [cycle.slug, district.slug, district.name]
        self.csv_head = _csv_line(self.csv_prefix)[:-1] + ","
        self.printer = printer
        self.code_hash = keyed_hasher(ACCESS_CODE_PURPOSE)
        self.insert_sql = _insert_code_sql()

    def issue_and_print(self, rows, out, out_csv) -> None:
        cycle_id, district_id = self.ids
        code_hash, letters, prefix = self.code_hash, self.printer.letters, self.csv_prefix
        plain = eligibility.generate_access_codes(len(rows))
        # the driver's executemany: SQLAlchemy's per-row parameter handling would cost more
        # than the insert itself
        db.session.connection().exec_driver_sql(self.insert_sql, [
            (cycle_id, district_id, code_hash(code), row[0]) for row, code in zip(rows, plain)])
        codes = [f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in plain]  # eligibility.format_access_code
        names = [row[1] or "" for row in rows]
        out.write(letters(zip(names, codes)))
        # CSV lines by hand where nothing needs quoting (the date and the code never do, the
        # cycle and district part is written once); the csv module for names that need it
        head, needs_csv = self.csv_head, _NEEDS_CSV.search
        out_csv.write("".join([
            f"{head}{name},{row[2].isoformat()},{code}\n"
            if not needs_csv(name) and name[:1] not in _FORMULA_START
            else _csv_line([*prefix, _spreadsheet_safe(name), row[2].isoformat(), code])
            for row, name, code in zip(rows, names, codes)]))


#: a display name with one of these needs the csv module's quoting
_NEEDS_CSV = re.compile(r'[,"\r\n]')
#: a display name starting with one of these is made safe for spreadsheets (codes._spreadsheet_safe)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _insert_code_sql() -> str:
    if db.session.get_bind().dialect.paramstyle == "qmark":  # sqlite3
        return _INSERT_CODE.replace("%s", "?")
    return _INSERT_CODE  # psycopg


# English: SQL, not a message
_INSERT_CODE = ("INSERT INTO access_code (cycle_id, district_id, code_hash, status, roll_entry_id) "
                "VALUES (%s, %s, %s, 'unused', %s)")


def _nobody_left(district: District | None) -> str:
    if district is not None:
        return _("Every roll entry in %(district)s already has an access code (or has voted, "
                 "or is too young); there is nobody to issue one for.", district=district.name)
    return _("Every roll entry in this cycle already has an access code (or has voted, or is "
             "too young); there is nobody to issue one for.")


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _pending_query(cycle: Cycle, district: District, oldest: dt.date | None):
    has_code = exists().where(AccessCode.roll_entry_id == RollEntry.id,
                              AccessCode.status != "voided")
    voted = exists().where(Participation.cycle_id == RollEntry.cycle_id,
                           Participation.district_id == RollEntry.district_id,
                           Participation.identity_hash == RollEntry.identity_hash)
    conditions = [RollEntry.cycle_id == cycle.id, RollEntry.district_id == district.id,
                  ~has_code, ~voted]
    if oldest is not None:
        conditions.append(RollEntry.birth_date <= oldest)
    return conditions


def _pending(cycle, district, oldest, after_id: int, limit: int) -> list:
    conditions = _pending_query(cycle, district, oldest)
    return db.session.execute(
        select(RollEntry.id, RollEntry.display_name, RollEntry.birth_date)
        .where(*conditions, RollEntry.id > after_id).order_by(RollEntry.id).limit(limit)).all()


def _pending_count(cycle, district, oldest) -> int:
    # Before any code or vote in the district (a first run over the whole roll), every entry
    # old enough is pending: a plain count on the index, not two look-ups per entry.
    anything = db.session.scalar(select(
        exists().where(AccessCode.district_id == district.id,
                       AccessCode.roll_entry_id.is_not(None))
        | exists().where(Participation.district_id == district.id)))
    conditions = _pending_query(cycle, district, oldest) if anything else [
        RollEntry.cycle_id == cycle.id, RollEntry.district_id == district.id,
        *([RollEntry.birth_date <= oldest] if oldest is not None else [])]
    return db.session.scalar(select(func.count()).select_from(RollEntry).where(
        *conditions)) or 0


def _birth_cutoff(cycle: Cycle) -> dt.date | None:
    """The latest birth date old enough by the last day of voting (the rule of
    codes.issue_codes_for_roll, as one comparison the database can do)."""
    voting = cycle.phase_window("voting")
    if voting is None:
        return None
    last_day = _last_voting_day(cycle, voting)

    def old_enough(birth: dt.date) -> bool:
        return birth <= last_day and eligibility.age_on(birth, last_day) >= cycle.minimum_age

    try:
        candidate = last_day.replace(year=last_day.year - cycle.minimum_age)
    except ValueError:  # 29 February
        candidate = dt.date(last_day.year - cycle.minimum_age, 3, 1)
    candidate = min(candidate + dt.timedelta(days=3), last_day)
    while not old_enough(candidate):
        candidate -= dt.timedelta(days=1)
    return candidate
