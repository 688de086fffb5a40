"""The turnout and equity dashboard: live for staff during voting, suppressed for the public
after voting closes (with a CSV). Reads participation only, through services.turnout."""
from __future__ import annotations

from fractions import Fraction

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale, gettext
from markupsafe import Markup

from pbvote.audit.suppression import THRESHOLD, TOTAL
from pbvote.i18n_hook import format_number, translate
from pbvote.rules import charts
from pbvote.rules import turnout as rules
from pbvote.rules.csv_safe import csv_text
from pbvote.services import publication
from pbvote.services import turnout as service
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import NotFound
from pbvote.tally.exact import fmt_approx
from pbvote.web.guards import allow_anyone, require_roles, set_policy

staff_bp = Blueprint("staff_turnout", __name__, url_prefix="/staff/cycles/<slug>/turnout")
set_policy(staff_bp.name, require_roles("staff", "admin", "auditor"))
public_bp = Blueprint("turnout", __name__, url_prefix="/cycles/<slug>")
set_policy(public_bp.name, allow_anyone)

#: (cycle id, public?, language, script root) → (the figures, their charts and tables as HTML)
_SECTIONS: dict[tuple, tuple[dict, Markup]] = {}


def column_label(kind: str, key: str) -> str:
    if kind == "channel":
        return {"online": gettext("online"), "desk": gettext("at a desk"),
                "paper": gettext("on paper"), "kiosk": gettext("at a kiosk"),
                "self-declared": gettext("self-declared at a desk"),
                "self-declared-online": gettext("self-declared online")}.get(key, key)
    if kind == "age":
        return translate(rules.AGE_LABELS[key]) if key in rules.AGE_LABELS else key
    return key


def _percent(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return fmt_approx(Fraction(part * 100, whole), 1)


def _view(cycle, data: dict, public: dict | None) -> dict:
    """Tables (rows of cells) and charts for the template, live or suppressed."""
    names = {d["slug"]: d["name"] for d in data["districts"]}
    tables = []
    for kind, title, columns, counts in (
            ("channel", gettext("Participation by district and channel"), data["channels"],
             data["by_channel"]),
            ("day", gettext("Participation by district and day"), data["days"], data["by_day"]),
            ("age", gettext("Participation by district and age band"), data["bands"],
             data["by_band"])):
        shown = public[kind]["cells"] if public else None

        def cell(slug, key, counts=counts, shown=shown):
            if shown is not None:
                return shown[slug][key]
            if slug == TOTAL and key == TOTAL:
                return sum(sum(c.values()) for c in counts.values())
            if slug == TOTAL:
                return sum(c.get(key, 0) for c in counts.values())
            if key == TOTAL:
                return sum(counts[slug].values())
            return counts[slug].get(key, 0)

        rows = []
        for slug in [*names, TOTAL]:
            rows.append({"name": names.get(slug, gettext("All districts")),
                         "cells": [cell(slug, key) for key in [*columns, TOTAL]]})
        tables.append({"kind": kind, "title": title, "rows": rows,
                       "columns": [column_label(kind, key) for key in columns]})
    eligible_rows = []
    for d in data["districts"]:
        took = sum(data["by_channel"][d["slug"]].values())
        if public:
            took = public["channel"]["cells"][d["slug"]][TOTAL]
        eligible = data["eligible"][d["slug"]]
        eligible_rows.append({"name": d["name"], "took": took, "eligible": eligible,
                              "percent": None if took is None else _percent(took, eligible)})
    band_rows = []
    for band in data["bands"]:
        took = sum(c.get(band, 0) for c in data["by_band"].values())
        eligible = sum(c.get(band, 0) for c in data["eligible_by_band"].values())
        shown_took = public["age"]["cells"][TOTAL][band] if public else took
        band_rows.append({"name": column_label("age", band), "took": shown_took,
                          "eligible": eligible,
                          "percent": _percent(took, eligible) if shown_took is not None else None})
    district_chart = charts.responsive_bar_chart(
        gettext("Share of eligible people who took part, by district"),
        gettext("Horizontal bars, one per district: the share of eligible people who took part."),
        [charts.Bar(r["name"], Fraction(r["percent"]) if r["percent"] else 0,
                    gettext("%(percent)s %%", percent=r["percent"]) if r["percent"] else "–")
         for r in eligible_rows], scale_max=100)
    band_chart = charts.responsive_bar_chart(
        gettext("Turnout by age band"),
        gettext("Horizontal bars, one per age band: the share of eligible people of that age "
                "who took part; hidden where fewer than 10 people are involved."),
        [charts.Bar(r["name"], Fraction(r["percent"]) if r["percent"] else 0,
                    gettext("%(percent)s %%", percent=r["percent"]) if r["percent"]
                    else gettext("hidden") if r["took"] is None else "–")
         for r in band_rows], scale_max=100)
    day_totals = [(day, sum(c.get(day, 0) for c in data["by_day"].values()))
                  for day in data["days"]]
    day_chart = charts.responsive_bar_chart(
        gettext("Participation by day"),
        gettext("Horizontal bars, one per day of voting: how many people took part that day."),
        [charts.Bar(day, n if not public or public["day"]["cells"][TOTAL][day] is not None
                    else 0,
                    format_number(n) if not public or public["day"]["cells"][TOTAL][day]
                    is not None else gettext("hidden"))
         for day, n in day_totals])
    return {"cycle": cycle, "data": data, "tables": tables, "eligible_rows": eligible_rows,
            "band_rows": band_rows, "district_chart": district_chart, "band_chart": band_chart,
            "day_chart": day_chart, "public": public is not None,
            "threshold": THRESHOLD}


def _render(cycle, data: dict, public: bool):
    """The dashboard page. Its charts and tables are rendered once for each minute's
    figures (services.turnout caches them for a minute) and language, then reused until
    the figures change, so a busy page costs a render of the page around them only."""
    key = (cycle.id, public, str(get_locale()), request.script_root)
    hit = _SECTIONS.get(key)
    if hit is not None and hit[0] is data:
        view = {"cycle": cycle, "data": data, "public": public, "threshold": THRESHOLD}
        sections = hit[1]
    else:
        view = _view(cycle, data, service.public_tables(data) if public else None)
        # an autoescaped template's output: already safe HTML
        sections = Markup(render_template("turnout/_sections.html", **view))  # nosec B704
        if len(_SECTIONS) >= 64:
            _SECTIONS.pop(next(iter(_SECTIONS)))
        _SECTIONS[key] = (data, sections)
    return render_template("turnout/dashboard.html", sections=sections, **view)


@staff_bp.get("/")
def dashboard(slug: str):
    cycle = get_cycle(slug)
    return _render(cycle, service.figures(cycle), public=False)


def _closed(slug: str):
    cycle = get_cycle(slug)
    if publication.voting_state(cycle) != "closed":
        raise NotFound(gettext("Turnout figures are published once voting has closed."))
    return cycle


@public_bp.get("/turnout")
def page(slug: str):
    cycle = _closed(slug)
    return _render(cycle, service.figures(cycle), public=True)


@public_bp.get("/turnout.csv")
def csv_download(slug: str):
    cycle = _closed(slug)
    data = service.figures(cycle)
    public = service.public_tables(data)
    names = {d["slug"]: d["name"] for d in data["districts"]}
    lines = [["table", "district", "column", "participations"]]
    for kind in ("channel", "day", "age"):
        table = public[kind]
        for row in [*table["rows"], TOTAL]:
            for column in [*table["columns"], TOTAL]:
                value = table["cells"][row][column]
                lines.append([kind, names.get(row, row), column,
                              "suppressed" if value is None else value])
    response = Response(csv_text(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{cycle.slug}-turnout.csv"'
    return response
