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
