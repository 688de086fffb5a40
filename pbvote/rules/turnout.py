"""Turnout figures: age bands and channels (the suppression of public tables is in
:mod:`pbvote.audit.suppression`, which the verifier uses too). Pure."""
from __future__ import annotations

import datetime as dt

from pbvote.i18n_hook import N_

#: age bands: (key, lowest age, highest age or None)
AGE_BANDS = (("under-18", 0, 17), ("18-24", 18, 24), ("25-34", 25, 34), ("35-44", 35, 44),
             ("45-54", 45, 54), ("55-64", 55, 64), ("65-74", 65, 74), ("75+", 75, None))
#: people who voted with an access code not linked to a roll entry: no date of birth known
UNKNOWN_AGE = "unknown"
AGE_LABELS = {"under-18": N_("under 18"), "75+": N_("75 and over"),
              UNKNOWN_AGE: N_("not on the roll (age unknown)")}
CHANNELS = ("online", "desk", "paper", "kiosk", "self-declared", "self-declared-online")
#: participations counted as "online" that confirmed an online self-declaration
SELF_DECLARED_ONLINE = "self-declared-online"


def age_band(born: dt.date | None, on: dt.date) -> str:
    if born is None:
        return UNKNOWN_AGE
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for key, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return key
    return AGE_BANDS[0][0]


def latest_birth_date(age: int, on: dt.date) -> dt.date:
    """The last birth date of someone at least `age` whole years old on `on` (born on 29
    February, one turns a year older on 1 March of a common year, as in
    :func:`pbvote.rules.eligibility.age_on`)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:  # on is 29 February and that year is common
        return dt.date(on.year - age, 2, 28)


def band_cutoffs(on: dt.date) -> list[tuple[str, dt.date]]:
    """(band, latest birth date) from the oldest band down: a date of birth belongs to the
    first band whose latest birth date it does not pass, so a database can band it with one
    CASE over date comparisons; a birth after `on` has no band (:data:`UNKNOWN_AGE`), as in
    the dashboard."""
    return [(key, latest_birth_date(low, on)) for key, low, _ in reversed(AGE_BANDS)]
