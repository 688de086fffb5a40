"""CSV for spreadsheets, safe from formula injection.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some treat a leading tab or carriage return the same way), so a text cell that starts with
one of them gets a leading apostrophe, as OWASP advises: the spreadsheet shows the text, not
a result. Numbers are written as numbers (a negative number stays a number).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from fractions import Fraction

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """The text of one cell: ints and Fractions as numbers, text with a risky first character
    behind an apostrophe, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Fraction)):
        return str(value)
    text = str(value)
    if text.startswith(DANGEROUS_STARTS):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows of cells as CSV text (RFC 4180 quoting, CRLF line ends), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()
