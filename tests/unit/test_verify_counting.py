"""The verifier's ballot-file readers (pbvote.audit.verify.counting) give what reading every
row gives: the same counts, or the same error, on plain and on odd files."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.audit.verify.counting import (
    _grouped_votes,
    count_ballots,
    csv_ballot_counts,
    parse_pabulib_counted,
)
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import ballot_key, ballot_text, ballot_text_counts
from pbvote.tally import PabulibError, parse_pabulib

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDS = ["A", "B", "C", "é;", 'q"']
ODD = [1, True, 1.0, None, "1", ["A"], {"A": 1}]


# ----- ballots.json --------------------------------------------------------------------
ballots = st.lists(st.one_of(
    st.lists(st.sampled_from(IDS), max_size=3),
    st.dictionaries(st.sampled_from(IDS), st.integers(0, 3), max_size=3),
    st.lists(st.sampled_from(IDS + ODD), max_size=2)), max_size=30)


@SETTINGS
@given(ballots)
def test_json_ballots_count_as_ballot_key_groups_them(published):
    counts = count_ballots(published)
    assert counts.texts == ballot_text_counts(published)
    assert counts.total == len(published)
    firsts = {}
    for ballot in published:
        firsts.setdefault(ballot_key(ballot), ballot)
    assert [ballot_key(b) for b, _ in counts.distinct] == list(firsts)
    assert Counter({ballot_key(b): n for b, n in counts.distinct}) == Counter(
        map(ballot_key, published))


def test_true_and_1_stay_apart():
    counts = count_ballots([[1], [True], ["1"], [True]])
    assert counts.texts == Counter({"[1]": 1, "[true]": 2, '["1"]': 1})


# ----- ballots.csv -----------------------------------------------------------------------
def row_by_row(text: str) -> dict[str, Counter] | str:
    """What the verifier read before: every row, in order (or the error it named)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != ["district", "ballot"]:
        return "header"
    found: dict[str, Counter] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            return f"line {number}: expected 2 fields"
        try:
            text_ = ballot_text(json.loads(row[1]))
        except ValueError:
            return f"line {number}: the ballot is not JSON"
        found.setdefault(row[0], Counter())[text_] += 1
    return found


def counted_csv(text: str) -> dict[str, Counter] | str:
    try:
        return csv_ballot_counts(text.encode("utf-8"))
    except CheckFailed as failure:
        detail = failure.detail
        return "header" if "header" in detail else detail.split(", ", 1)[1]


csv_rows = st.lists(st.one_of(
    st.tuples(st.sampled_from(["north", "south", ""]),
              st.lists(st.sampled_from(IDS), max_size=3).map(json.dumps)),
    st.tuples(st.sampled_from(["north"]), st.sampled_from(["[", "x", '"a"', "[1,true]"])),
    st.lists(st.sampled_from(["north", "[]", ""]), max_size=3).map(tuple)), max_size=20)


@SETTINGS
@given(csv_rows, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_csv_counts_equal_reading_every_row(rows, ending, header):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=ending)
    if header:
        writer.writerow(["district", "ballot"])
    writer.writerows(rows)
    assert counted_csv(out.getvalue()) == row_by_row(out.getvalue())


def test_a_quoted_line_break_in_the_csv_is_one_row():
    text = 'district,ballot\nnorth,"[""A"",\n""B""]"\nnorth,"[""A"",""B""]"\n'
    assert counted_csv(text) == row_by_row(text) == {"north": Counter({'["A","B"]': 2})}


# ----- Pabulib files ---------------------------------------------------------------------
HEAD = ("META\nkey;value\nbudget;100\nvote_type;{kind}\nnum_votes;3\n"
        "PROJECTS\nproject_id;cost;votes;name\nA;10;2;Park\nB;20;1;\"Library;\n big\"\nC;5;0;x\n")


def pb_text(kind: str, lines: list[str], header: str | None = None) -> str:
    header = header or ("voter_id;vote;points" if kind == "cumulative" else "voter_id;vote")
    return HEAD.format(kind=kind) + "VOTES\n" + header + "\n" + "".join(f"{x}\n" for x in lines)


def outcome(parse, text):
    try:
        pb, voters = parse(text)
    except PabulibError as error:
        return str(error)
    rows: Counter = Counter()
    for row, n in zip(pb.votes, voters):
        rows[tuple((k, v) for k, v in row.items() if k not in ("voter_id", "_line"))] += n
    return pb.meta, pb.projects, rows


def read_all(text):
    pb = parse_pabulib(text, "x.pb")
    return pb, [1] * len(pb.votes)


vote_cells = st.sampled_from(["A", "A,B", "B,A", " A ", "", "A,A", "Z", "C,B,A", "A;", "A;B;C",
                              '"A,B"', "A,B;2,1", "A;3", "VOTES", "meta"])
voter_ids = st.sampled_from(["1", "2", "3", " 4", "", "x y"])


@SETTINGS
@given(st.sampled_from(["approval", "ordinal", "cumulative"]),
       st.lists(st.tuples(voter_ids, vote_cells), max_size=12), st.booleans())
def test_pabulib_grouped_equals_reading_every_vote(kind, votes, number_them):
    lines = [f"{n if number_them else voter};{cell}" for n, (voter, cell) in enumerate(votes)]
    if kind == "cumulative":
        lines = [line + (";1" if line.count(";") == 1 else "") for line in lines]
    text = pb_text(kind, lines)
    assert outcome(lambda t: parse_pabulib_counted(t, "x.pb"), text) == outcome(read_all, text)


def test_plain_votes_are_grouped_and_odd_ones_read_row_by_row():
    plain = pb_text("approval", [f"{n};{'A,B' if n % 3 else 'C'}" for n in range(1, 301)])
    reduced, voters = _grouped_votes(plain)
    assert sorted(voters) == [100, 200] and reduced.count("\n") < plain.count("\n")
    pb, grouped = parse_pabulib_counted(plain, "x.pb")
    assert len(pb.votes) == 2 and sum(grouped) == 300
    for odd in (plain.replace("\n5;", "\n4;"), plain.replace("\n6;C", '\n6;"C"'),
                plain.replace("\n", "\r\n"), plain + "\n\n", plain + "PROJECTS\n"):
        assert _grouped_votes(odd) is None
    with pytest.raises(PabulibError, match="x.pb:18:1: voter_id '4' appears twice"):
        parse_pabulib_counted(plain.replace("\n5;", "\n4;"), "x.pb")
    with pytest.raises(PabulibError, match=":21:.*'Z', which is not in PROJECTS"):
        parse_pabulib_counted(plain.replace("\n8;A,B", "\n8;Z"), "x.pb")
