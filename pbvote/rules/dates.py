"""Dates as residents type them: the ISO form everywhere, and the reader's own order.

Pure. A browser's date control shows each reader a different pattern (mm/dd/yyyy in US
English), so the form uses a text box whose hint and placeholder say what it accepts; this
parser accepts exactly that, with or without JavaScript.
"""
from __future__ import annotations

import datetime as dt
import re

#: the order of day, month and year when a reader writes a date with slashes or dots
ORDERS = {"en": "mdy", "es": "dmy", "zh_Hans": "ymd"}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_CJK = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_PARTS = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")


def parse_typed_date(text: str, locale: str) -> dt.date | None:
    """The date in `text` (ISO, or the locale's order with / . or -), or None."""
    text = re.sub(r"\s+", "", text or "").replace("／", "/").translate(_FULLWIDTH)
    for pattern in (_ISO, _CJK):
        if match := pattern.match(text):
            return _date(int(match[1]), int(match[2]), int(match[3]))
    match = _PARTS.match(text)
    if not match:
        return None
    a, b, c = (int(part) for part in match.groups())
    order = ORDERS.get(locale, "mdy")
    if order == "ymd" or len(match[1]) == 4:
        year, month, day = a, b, c
    elif order == "dmy":
        day, month, year = a, b, c
    else:
        month, day, year = a, b, c
    if len(str(year)) != 4:
        return None
    return _date(year, month, day)


_FULLWIDTH = str.maketrans("０１２３４５６７８９－．", "0123456789-.")


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
