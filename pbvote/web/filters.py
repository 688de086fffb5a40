"""Template filters for money, dates and phases, formatted per locale by Babel."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.numbers import get_currency_symbol
from flask_babel import format_currency, format_date, format_time, get_locale, gettext

from pbvote import ballots

PHASE_LABELS = {
    "intake": "Idea collection",
    "review": "Review of ideas",
    "voting": "Voting",
    "tally": "Counting",
    "published": "Results published",
}


def money(amount: int, currency: str = "USD") -> str:
    return format_currency(amount, currency, format="¤#,##0", currency_digits=False)


def local_datetime(moment, timezone: str = "UTC") -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{format_date(local, 'medium')}, {format_time(local, 'short')}"


def phase_label(kind: str | None) -> str:
    return gettext(PHASE_LABELS.get(kind or "", "Between phases"))


def ballot_rules(design: ballots.BallotDesign, currency: str = "USD") -> str:
    return ballots.describe(design, get_currency_symbol(currency, locale=get_locale()))


def register(app) -> None:
    app.add_template_filter(ballot_rules, "ballot_rules")
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(phase_label, "phase_label")
