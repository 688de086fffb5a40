"""The ballot files read as counts of distinct ballots, so that a city's ballots (hundreds of
thousands) are never held as one object per voter, and each distinct ballot is decoded once.

Each reader gives exactly what reading the file row by row gives, errors included: it counts
rows at C speed where the file has the plain form the exporter writes, and where it strays
from that form (a quoted Pabulib cell in VOTES, a ballot of mixed types...) it reads the file
row by row as before."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter, methodcaller
from typing import Any

from pbvote.audit.verify.layout import BALLOTS_CSV_FILE, CSV_HEADER
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import ballot_key, ballot_text
from pbvote.tally import PabulibError, PabulibFile, parse_pabulib
from pbvote.tally.pabulib import SECTIONS


@dataclass
class BallotCounts:
    """One district's published ballots, each distinct ballot once."""

    #: (ballot as published, number of voters), in the order of its first appearance
    distinct: list[tuple[Any, int]]
    #: ballot_text → number of voters
    texts: Counter

    @property
    def total(self) -> int:
        return sum(voters for _, voters in self.distinct)


def count_ballots(ballots: list) -> BallotCounts:
    """The ballots of one district, grouped; ballots group as ballot_key groups them (so
    True and 1, which write differently, stay apart)."""
    distinct = _plain_groups(ballots)
    if distinct is None:
        first: dict = {}
        keyed: Counter = Counter()
        for ballot in ballots:
            key = ballot_key(ballot)
            keyed[key] += 1
            first.setdefault(key, ballot)
        distinct = [(first[key], voters) for key, voters in keyed.items()]
    texts: Counter = Counter()
    for ballot, voters in distinct:
        texts[ballot_text(ballot)] += voters
    return BallotCounts(distinct, texts)


def _plain_groups(ballots: list) -> list[tuple[Any, int]] | None:
    """Lists of strings, or objects of strings to whole numbers, counted at C speed; None
    for anything else (read one by one)."""
    kinds = set(map(type, ballots))
    try:
        if kinds <= {list}:
            keyed = Counter(map(tuple, ballots))
            if all(type(x) is str for key in keyed for x in key):
                return [(list(key), voters) for key, voters in keyed.items()]
        elif kinds == {dict}:
            keyed = Counter(map(tuple, map(dict.items, ballots)))
            if all(type(k) is str and type(v) is int for key in keyed for k, v in key):
                return [(dict(key), voters) for key, voters in keyed.items()]
    except TypeError:  # an unhashable value inside a ballot
        pass
    return None


# ----- ballots.csv ----------------------------------------------------------------------
def csv_ballot_counts(data: bytes) -> dict[str, Counter]:
    """District → Counter of ballot_text, from ballots.csv (UTF-8, already checked): its rows
    counted as they stream, each distinct row decoded once."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="\n")
    reader = csv.reader(stream)
    if next(reader, None) != CSV_HEADER:
        raise CheckFailed(f"{BALLOTS_CSV_FILE}: the header must be {','.join(CSV_HEADER)}")
    rows = Counter(map(tuple, reader))
    found: dict[str, Counter] = {}
    for row, times in rows.items():  # in the order of first appearance: the first bad row first
        if len(row) != 2:
            raise CheckFailed(f"{BALLOTS_CSV_FILE}, line {_row_number(data, row)}: "
                              f"expected 2 fields")
        try:
            text = ballot_text(json.loads(row[1]))
        except ValueError:
            raise CheckFailed(f"{BALLOTS_CSV_FILE}, line {_row_number(data, row)}: the ballot is "
                              f"not JSON") from None
        found.setdefault(row[0], Counter())[text] += times
    return found


def _row_number(data: bytes, wanted: tuple) -> int:
    """The number (the header is 1) of the first row equal to `wanted`, for a message."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="\n")
    for number, row in enumerate(csv.reader(stream), start=1):
        if tuple(row) == wanted:
            return number
    return 0


# ----- Pabulib files --------------------------------------------------------------------
_SPLIT_VOTER = methodcaller("partition", ";")


def parse_pabulib_counted(text: str, source: str) -> tuple[PabulibFile, list[int]]:
    """parse_pabulib(text, source) with its VOTES grouped: the file, whose votes are its
    distinct rows (less the voter id) each once, and each such row's number of voters.

    Where VOTES is plain (no quote, no carriage return, every voter id present and once),
    the file is parsed with each distinct row once, under a voter id of its own: every check
    the parser makes of a row but the voter id's (unique, not empty, not a section name,
    checked here) depends on the row alone. Anything else, and any error (to name its
    line), is parsed from the file itself."""
    grouped = _grouped_votes(text)
    if grouped is not None:
        reduced, voters = grouped
        try:
            return parse_pabulib(reduced, source), voters
        except PabulibError:
            pass  # the file itself names the line below
    pb = parse_pabulib(text, source)
    return pb, [1] * len(pb.votes)


def _grouped_votes(text: str) -> tuple[str, list[int]] | None:
    if "\r" in text:
        return None
    body_start = _votes_body_start(text)
    if body_start is None:
        return None
    body = text[body_start:]
    if '"' in body:
        return None
    lines = body.split("\n")
    if lines and lines[-1] == "":  # the newline that ends the file
        lines.pop()
    parts = list(map(_SPLIT_VOTER, lines))
    ids = set(map(str.strip, map(itemgetter(0), parts)))
    if len(ids) != len(parts) or "" in ids or set(map(str.upper, ids)) & set(SECTIONS):
        return None
    rows = Counter(zip(map(itemgetter(1), parts), map(itemgetter(2), parts)))
    del parts, lines
    reduced = [text[:body_start]]
    for number, (separator, rest) in enumerate(rows, start=1):
        reduced.append(f"{number}{separator}{rest}\n")
    return "".join(reduced), list(rows.values())


def _votes_body_start(text: str) -> int | None:
    """The offset of the first line after the VOTES section's header row, or None when the
    section marker or its header (right after it) is not found as a plain line."""
    for line, end in _lines_with_ends(text):
        cells = line.split(";")
        if cells[0].strip().upper() == "VOTES" and not any(c.strip() for c in cells[1:]):
            header_end = text.find("\n", end + 1)
            header = text[end + 1:] if header_end < 0 else text[end + 1:header_end]
            if header_end < 0 or not header.replace(";", "").strip():
                return None
            return header_end + 1
    return None


def _lines_with_ends(text: str) -> Iterator[tuple[str, int]]:
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:], len(text)
            return
        yield text[start:end], end
        start = end + 1
