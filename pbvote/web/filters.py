"""Template filters for money, dates and phases, formatted per locale by Babel."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from flask_babel import get_locale, gettext

from pbvote.i18n_hook import N_
from pbvote.rules import ballots
from pbvote.rules.proposals import DEFAULT_CATEGORIES

PHASE_LABELS = {
    "intake": N_("Idea collection"),
    "review": N_("Review of ideas"),
    "voting": N_("Voting"),
    "tally": N_("Counting"),
    "published": N_("Results published"),
}


def money(amount: int, currency: str = "USD") -> str:
    """Whole currency units in the locale's own pattern: $400,000 / 400.000 US$ / US$400,000."""
    locale = get_locale() or Locale.parse("en")  # outside a request: English
    return _formatted_money(amount, currency, str(locale))


@lru_cache(maxsize=4096)
def _formatted_money(amount: int, currency: str, locale_name: str) -> str:
    # Babel takes longer than the rest of a ballot line, and a page repeats a few amounts
    # (costs, budgets) for every reader: the same inputs always give the same text.
    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"].pattern
    return numbers.format_currency(amount, currency, format=re.sub(r"\.0+", "", pattern),
                                   currency_digits=False, locale=locale)


def money_cents(amount: Fraction, currency: str = "USD") -> str:
    """A share of a unit (an equal-shares payment) to the cent, grouped like whole amounts:
    $39,910.71 / 39.910,71 US$. Exact to Decimal, rounded half-even; never a float."""
    locale = get_locale() or Locale.parse("en")
    cents = (Decimal(amount.numerator) / Decimal(amount.denominator)).quantize(Decimal("0.01"))
    return numbers.format_currency(cents, currency, locale=locale)


def local_datetime(moment, timezone: str = "UTC") -> str:
    # Babel's own functions: Flask-Babel's would convert the local time back to its default
    # zone (UTC), showing UTC clock times under a "times are in <cycle zone>" note.
    if isinstance(moment, str):  # an ISO time as the chain records it
        moment = dt.datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(timezone))
    locale = get_locale() or Locale.parse("en")
    return (f"{dates.format_date(local, 'medium', locale=locale)}, "
            f"{dates.format_time(local, 'short', tzinfo=local.tzinfo, locale=locale)}")


def phase_label(kind: str | None) -> str:
    return gettext(PHASE_LABELS.get(kind or "", N_("Between phases")))


def ballot_rules(design: ballots.BallotDesign, currency: str = "USD") -> str:
    return ballots.describe(design, currency)


def category_label(category: str) -> str:
    """An idea category in the reader's language when it is one of the default list (staff's
    own categories are content and read as entered)."""
    return gettext(category) if category in DEFAULT_CATEGORIES else category


BALLOT_KIND_NAMES = {"approval": N_("approval"), "knapsack": N_("knapsack"),
                     "ranked": N_("ranked"), "cumulative": N_("cumulative")}


def ballot_kind_name(kind: str) -> str:
    return gettext(BALLOT_KIND_NAMES[kind]) if kind in BALLOT_KIND_NAMES else kind


def register(app) -> None:
    from pbvote.rules.counting_choices import rule_title

    app.add_template_filter(rule_title, "rule_title")
    app.add_template_filter(ballot_kind_name, "ballot_kind_name")
    app.add_template_filter(category_label, "category_label")
    app.add_template_filter(ballot_rules, "ballot_rules")
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(phase_label, "phase_label")
