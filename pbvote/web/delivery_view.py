"""What the delivery pages show, prepared from the folded delivery state: plain-language
status, progress, money against cost, the milestones timeline and before/after charts."""
from __future__ import annotations

import datetime as dt
from fractions import Fraction

from flask_babel import format_date, gettext

from pbvote.audit.delivery import survey_figures
from pbvote.rules import charts
from pbvote.rules.delivery import STATUS_LABELS, SURVEY_LABELS
from pbvote.web.filters import money


def reasons_list(reasons) -> list[dict]:
    """(field, message) pairs of the delivery services, or Reasons (a control character)."""
    return [{"field": r.field, "message": r.message} if hasattr(r, "field")
            else {"field": r[0], "message": r[1]} for r in reasons or []]


def day_text(day: str | None) -> str:
    return format_date(dt.date.fromisoformat(day), "medium") if day else ""


def status_text(status: str) -> str:
    return gettext(STATUS_LABELS[status])


def _number(text: str) -> Fraction:
    return Fraction(text)


def spend_chart(project: dict, currency: str) -> str:
    bars = [charts.Bar(gettext("Cost approved by the vote"), project["cost"],
                       money(project["cost"], currency)),
            charts.Bar(gettext("Money committed"), project["committed"],
                       money(project["committed"], currency)),
            charts.Bar(gettext("Money spent"), project["spent"], money(project["spent"], currency),
                       highlighted=project["spent"] > project["cost"],
                       tag=gettext("over the cost")),
            ]
    return charts.responsive_bar_chart(
        gettext("Money for %(project)s", project=project["title"]),
        gettext("Cost %(cost)s; committed %(committed)s; spent %(spent)s.",
                cost=money(project["cost"], currency),
                committed=money(project["committed"], currency),
                spent=money(project["spent"], currency)), bars, width=420, label_chars=24)


def indicator_chart(indicator: dict) -> str:
    """Before and after bars; values as numbers (the unit is in the chart's title, so long
    units never crowd the value column)."""
    from pbvote.i18n_hook import format_fixed

    baseline = indicator["baseline"]
    bars = [charts.Bar(gettext("Before (%(period)s)", period=baseline["period"]),
                       _number(baseline["value"]), format_fixed(baseline["value"]))]
    for period in indicator["followup_periods"]:
        value = indicator["values"].get(period)
        if value is not None:
            bars.append(charts.Bar(gettext("After (%(period)s)", period=period),
                                   _number(value["value"]), format_fixed(value["value"])))
    parts = [gettext("%(period)s: %(value)s", period=b.label, value=b.value_text) for b in bars]
    return charts.responsive_bar_chart(
        gettext("%(name)s, before and after", name=indicator["name"]) +
        f" ({indicator['unit']})",
        gettext("Source: %(source)s. Area: %(area)s.", source=indicator["source"],
                area=indicator["area"]) + " " + "; ".join(parts) + ".",
        bars, width=420, label_chars=24)


def project_view(project: dict, state: dict, currency: str,
                 titles: dict[str, str] | None = None) -> dict:
    """`titles`: project code → title in the reader's language, where the city translated it
    (the record keeps the title as funded)."""
    milestones = sorted(project["milestones"].values(),
                        key=lambda m: (m["planned"], m["milestone"]))
    return {
        **project,
        "title": (titles or {}).get(project["project"]) or project["title"],
        "status_text": status_text(project["status"]),
        "over_cost": max(project["committed"], project["spent"]) > project["cost"],
        "milestone_list": [{**m, "planned_text": day_text(m["planned"]),
                            "actual_text": day_text(m["actual"]),
                            "late": bool(m["actual"] and m["actual"] > m["planned"])}
                           for m in milestones],
        "update_list": [{**u, "day_text": day_text(u["day"])}
                        for u in reversed(project["updates"])],
        "spend_chart": spend_chart(project, currency),
        "indicator_list": [{**state["indicators"][k],
                            "chart": indicator_chart(state["indicators"][k])}
                           for k in project["indicators"]],
    }


def survey_question(question: str) -> str:
    """The standard question in the reader's language; a question staff wrote as written."""
    from pbvote.services.delivery.survey import DEFAULT_QUESTION

    return gettext(DEFAULT_QUESTION) if question == DEFAULT_QUESTION else question


def surveys_view(state: dict, district: str | None = None) -> list[dict]:
    shown = []
    for key in sorted(state["surveys"]):
        survey = state["surveys"][key]
        if district and survey["district"] != district:
            continue
        figures = survey_figures(survey)
        figures["question"] = survey_question(figures["question"])
        chart = None
        if figures["shown"]:
            chart = charts.responsive_bar_chart(
                figures["question"], gettext("Answers of %(n)s residents, from very unsafe to "
                                             "very safe.", n=figures["responses"]),
                [charts.Bar(gettext(SURVEY_LABELS[i + 1]), count, str(count))
                 for i, count in enumerate(figures["answers"])], width=420, label_chars=24)
        shown.append({**figures, "chart": chart})
    return shown


def status_counts(projects: list[dict]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for project in projects:
        counts[project["status"]] = counts.get(project["status"], 0) + 1
    return [(status_text(s), n) for s, n in counts.items()]
