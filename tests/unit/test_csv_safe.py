"""CSV exports neutralise formula injection (pbvote.rules.csv_safe)."""
from __future__ import annotations

import csv
import io
from fractions import Fraction

import pytest

from pbvote.rules.csv_safe import csv_text, neutralise


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd",
                                  "=HYPERLINK(\"http://x\")"])
def test_a_risky_first_character_is_escaped(cell):
    assert neutralise(cell) == "'" + cell
    [row] = list(csv.reader(io.StringIO(csv_text([[cell]]))))
    assert row == ["'" + cell]


@pytest.mark.parametrize("cell,text", [("plain", "plain"), ("a=b", "a=b"), (12, "12"),
                                       (-3, "-3"), (Fraction(1, 3), "1/3"), (None, ""),
                                       ("", "")])
def test_safe_cells_and_numbers_are_kept(cell, text):
    assert neutralise(cell) == text


def test_quotes_and_line_breaks_survive():
    text = csv_text([["a,b", 'say "hi"', "two\nlines"]])
    assert list(csv.reader(io.StringIO(text))) == [["a,b", 'say "hi"', "two\nlines"]]
