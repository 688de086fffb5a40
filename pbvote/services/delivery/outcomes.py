"""Outcome indicators and their values (by hand or from a CSV file), appended to the
delivery chain."""
from __future__ import annotations

import datetime as dt
import re

from pbvote.i18n_hook import _
from pbvote.rules import delivery as rules
from pbvote.services.delivery.records import (
    DeliveryRefused,
    _project,
    _refuse,
    append_change,
    require_editor,
    require_state,
)
from pbvote.services.errors import NotFound

KEY = re.compile(r"[^a-z0-9]+")


def define_indicator(cycle, actor, code: str, form: dict,
                     now: dt.datetime | None = None):
    """form: name, unit, area, source, baseline_period, baseline_value, followup_periods."""
    role = require_editor(cycle, actor)
    state = require_state(cycle)
    _project(state, code)
    reasons: list = []
    for name, limit in (("name", 200), ("unit", 60), ("area", 200), ("source", 300)):
        reasons += rules.check_text(form.get(name, ""), name, limit=limit)
    baseline_period = rules.check_period(form.get("baseline_period", ""), "baseline_period",
                                         reasons)
    baseline_value = rules.parse_decimal(form.get("baseline_value", ""), "baseline_value",
                                         reasons)
    periods = rules.parse_periods(form.get("followup_periods", ""), baseline_period, reasons)
    _refuse(reasons)
    base = KEY.sub("-", f"{code}-{form['name']}".lower()).strip("-")[:36]
    key, number = base, 1
    while key in state["indicators"]:
        number += 1
        key = f"{base}-{number}"
    return append_change(cycle, role, "indicator.defined", {
        "project": code, "indicator": key, "name": form["name"].strip(),
        "unit": form["unit"].strip(), "area": form["area"].strip(),
        "source": form["source"].strip(),
        "baseline": {"period": baseline_period, "value": baseline_value},
        "followup_periods": periods}, now)


def _indicator(state: dict, key: str) -> dict:
    indicator = state["indicators"].get(key)
    if indicator is None:
        raise NotFound(_("There is no such outcome indicator."))
    return indicator


def add_value(cycle, actor, key: str, period: str, value: str, source: str,
              now: dt.datetime | None = None):
    role = require_editor(cycle, actor)
    indicator = _indicator(require_state(cycle), key)
    reasons: list = []
    if period not in indicator["followup_periods"]:
        reasons.append(("period", _("Choose one of this indicator's follow-up periods.")))
    number = rules.parse_decimal(value, "value", reasons)
    reasons += rules.check_text(source, "source", limit=300)
    _refuse(reasons)
    return append_change(cycle, role, "indicator.value", {
        "indicator": key, "period": period, "value": number, "source": source.strip()}, now)


def indicator_periods(state: dict) -> dict[str, list[str]]:
    return {key: list(i["followup_periods"]) for key, i in state["indicators"].items()}


def preview_values(cycle, data: bytes) -> rules.ValuesFile:
    """Parse an uploaded CSV of values without storing anything."""
    return rules.parse_values_csv(data, indicator_periods(require_state(cycle)))


def import_values(cycle, actor, data: bytes, now: dt.datetime | None = None) -> int:
    """Append every row of a CSV of values, or nothing when any row is wrong."""
    role = require_editor(cycle, actor)
    parsed = preview_values(cycle, data)
    if parsed.errors:
        raise DeliveryRefused(_("The file has errors; nothing was stored."), 422,
                              [(str(line), message) for line, message in parsed.errors])
    for row in parsed.rows:
        append_change(cycle, role, "indicator.value", {
            "indicator": row.indicator, "period": row.period, "value": row.value,
            "source": row.source}, now)
    return len(parsed.rows)
