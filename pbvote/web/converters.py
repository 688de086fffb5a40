"""URL converters.

Every ``<int:…>`` in a route is a database id. PostgreSQL's INTEGER stops at 2^31 - 1 and
SQLite's at 2^63 - 1; a larger number used to reach the database and fail there with a
500 (NumericValueOutOfRange, OverflowError). Such a URL now matches no route: 404.
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: the largest id any table holds (PostgreSQL INTEGER)
MAX_DATABASE_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    #: at most 19 digits, so no huge number is ever converted (Python refuses past 4300)
    regex = r"\d{1,19}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        bound = MAX_DATABASE_ID if max is None or max > MAX_DATABASE_ID else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)
