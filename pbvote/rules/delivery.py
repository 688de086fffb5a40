"""Checking a delivery change before it is appended: pure, with reasons in the reader's
language. The fold that turns the appended entries into what the public sees is
:mod:`pbvote.audit.delivery` (shared with the verifier); these checks refuse, field by field,
anything that fold would refuse, so a valid change always folds."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from pbvote.i18n_hook import N_, _

STATUSES = ("planned", "in_progress", "delivered", "delayed", "cancelled")
STATUS_LABELS = {"planned": N_("Planned"), "in_progress": N_("In progress"),
                 "delivered": N_("Delivered"), "delayed": N_("Delayed"),
                 "cancelled": N_("Cancelled")}
TRANSITIONS = {
    "planned": ("in_progress", "delayed", "cancelled"),
    "in_progress": ("delivered", "delayed", "cancelled"),
    "delayed": ("in_progress", "delivered", "cancelled"),
    "delivered": (),
    "cancelled": (),
}
REASON_NEEDED = ("delayed", "cancelled")
DECIMAL = re.compile(r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$")
PERIOD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z ._/-]{0,39}$")
MAX_TEXT = 2000
#: indicator values CSV: these columns, in any order, with a header row
VALUE_COLUMNS = ("indicator", "period", "value", "source")
MAX_CSV_BYTES = 1024 * 1024

Reasons = list[tuple[str, str]]


def check_status(current: str, status: str, reason: str, correcting: bool) -> Reasons:
    if status not in STATUSES:
        return [("status", _("Choose one of the listed statuses."))]
    reasons: Reasons = []
    if not correcting and status not in TRANSITIONS[current]:
        if TRANSITIONS[current]:
            reasons.append(("status", _("A project that is “%(current)s” can only become: "
                                        "%(allowed)s.", current=_(STATUS_LABELS[current]),
                                        allowed=", ".join(_(STATUS_LABELS[s])
                                                          for s in TRANSITIONS[current]))))
        else:
            reasons.append(("status", _("A project that is “%(current)s” does not change "
                                        "status any more; correct the last status entry if it "
                                        "was wrong.", current=_(STATUS_LABELS[current]))))
    if status in REASON_NEEDED and not reason.strip():
        reasons.append(("reason", _("Say publicly why the project is delayed or cancelled.")))
    if len(reason) > MAX_TEXT:
        reasons.append(("reason", _("Keep the reason under %(n)s characters.", n=MAX_TEXT)))
    return reasons


def parse_amount(text: str, field_name: str, reasons: Reasons) -> int | None:
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        reasons.append((field_name, _("Enter an amount in whole units, such as 12000.")))
        return None
    if not cleaned.isdigit():
        reasons.append((field_name, _("Enter a whole, non-negative amount (digits only), "
                                      "such as 12000.")))
        return None
    if len(cleaned) > 15:
        reasons.append((field_name, _("This amount is too large.")))
        return None
    return int(cleaned)


def check_money(cost: int, committed: int, spent: int, reason: str) -> Reasons:
    if max(committed, spent) > cost and not reason.strip():
        return [("reason", _("Money committed or spent is over the project's cost: say "
                             "publicly why."))]
    return []


def parse_percent(text: str) -> tuple[int | None, Reasons]:
    cleaned = (text or "").strip().rstrip("%")
    if not cleaned.isdigit() or int(cleaned) > 100:
        return None, [("percent", _("Enter a whole percentage from 0 to 100."))]
    return int(cleaned), []


def parse_day(text: str, field_name: str, reasons: Reasons, required: bool = True) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            reasons.append((field_name, _("Enter a date as YYYY-MM-DD.")))
        return None
    try:
        return dt.date.fromisoformat(cleaned).isoformat()
    except ValueError:
        reasons.append((field_name, _("Enter a real date as YYYY-MM-DD.")))
        return None


def check_text(value: str, field_name: str, required: bool = True,
               limit: int = MAX_TEXT) -> Reasons:
    if required and not (value or "").strip():
        return [(field_name, _("This field is required."))]
    if len(value or "") > limit:
        return [(field_name, _("Keep this under %(n)s characters.", n=limit))]
    return []


def parse_decimal(text: str, field_name: str, reasons: Reasons) -> str | None:
    cleaned = (text or "").strip()
    if cleaned.startswith("-"):
        reasons.append((field_name, _("Values cannot be negative.")))
        return None
    if not DECIMAL.match(cleaned):
        reasons.append((field_name, _("Enter a number such as 42 or 3.5.")))
        return None
    return cleaned


def parse_periods(text: str, baseline: str, reasons: Reasons) -> list[str]:
    periods = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not periods:
        reasons.append(("followup_periods", _("Name at least one follow-up period, such as "
                                              "2027-Q4.")))
    elif any(not PERIOD.match(p) for p in periods) or len(set(periods)) != len(periods):
        reasons.append(("followup_periods", _("Periods are short names such as 2027-Q4, "
                                              "separated by commas, each once.")))
    elif baseline in periods:
        reasons.append(("followup_periods", _("A follow-up period cannot be the baseline "
                                              "period.")))
    return periods


def check_period(text: str, field_name: str, reasons: Reasons) -> str:
    cleaned = (text or "").strip()
    if not PERIOD.match(cleaned):
        reasons.append((field_name, _("Name the period briefly, such as 2026-Q4.")))
    return cleaned


@dataclass
class ValueRow:
    line: int
    indicator: str
    period: str
    value: str
    source: str


@dataclass
class ValuesFile:
    rows: list[ValueRow] = field(default_factory=list)
    #: (line number, message); nothing is stored while any remain
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_values_csv(data: bytes, indicators: dict[str, list[str]]) -> ValuesFile:
    """Indicator values from CSV bytes. `indicators`: key → its follow-up periods."""
    result = ValuesFile()
    if len(data) > MAX_CSV_BYTES:
        result.errors.append((0, _("The file is larger than 1 MB.")))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, _("The file is not UTF-8 text. Save it as “CSV UTF-8” and "
                                   "upload it again.")))
        return result
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in VALUE_COLUMNS if c not in header]
    unknown = [c for c in header if c not in VALUE_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        result.errors.append((1, _("The header row must name exactly these columns: "
                                   "%(columns)s.", columns=", ".join(VALUE_COLUMNS))))
        return result
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.errors.append((line, _("This row has %(found)s cells; the header has "
                                          "%(expected)s.", found=len(row), expected=len(header))))
            continue
        cells = {name: cell.strip() for name, cell in zip(header, row)}
        reasons: Reasons = []
        key, period = cells["indicator"], cells["period"]
        if key not in indicators:
            reasons.append(("indicator", _("unknown indicator “%(key)s”", key=key)))
        elif period not in indicators[key]:
            reasons.append(("period", _("“%(period)s” is not a follow-up period of this "
                                        "indicator", period=period)))
        value = parse_decimal(cells["value"], "value", reasons)
        reasons += check_text(cells["source"], "source", limit=300)
        if (key, period) in seen:
            reasons.append(("period", _("this indicator and period appear twice")))
        seen.add((key, period))
        if reasons:
            result.errors.extend((line, message) for _field, message in reasons)
        else:
            result.rows.append(ValueRow(line, key, period, value or "", cells["source"]))
    if not result.rows and not result.errors:
        result.errors.append((2, _("The file has no rows of values.")))
    return result


SURVEY_LABELS = {1: N_("Very unsafe"), 2: N_("Unsafe"), 3: N_("Neither safe nor unsafe"),
                 4: N_("Safe"), 5: N_("Very safe")}


def check_survey_answer(answer: str, comment: str) -> tuple[int | None, Reasons]:
    if answer not in ("1", "2", "3", "4", "5"):
        return None, [("answer", _("Choose one answer from “very unsafe” to “very safe”."))]
    return int(answer), check_text(comment, "comment", required=False, limit=1000)
