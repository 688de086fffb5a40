"""ASVS 4.0.3 V5.1.x (input validation), V7.4.1 (errors are generic and handled), V12.2.1:
hypothesis fuzzing of the parsers that take files from outside.

Nothing but clean errors: the Pabulib parser raises only PabulibError (or the engine's
TallyInputError) with the line when there is one; the voter-roll CSV reader yields rows and
RowErrors and never raises; the bundle verifier turns any mutated bundle into a failure report,
never an exception. Ballot validation is fuzzed in tests/unit/test_ballots_fuzz.py.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.audit import verify
from pbvote.rules.roll_csv import RollRow, RowError, read_roll_text
from pbvote.tally import TallyInputError
from pbvote.tally.pabulib import PabulibError, parse_pabulib
from tests.unit.test_audit_verify import make_bundle, make_chain, resum

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: as tests/unit/tally/tally_testdata.py finds the elections
PABULIB_DIR = Path(os.environ.get("PBVOTE_PABULIB_DIR") or
                   Path(__file__).resolve().parents[3] / "shared" / "pabulib")
SMALL_PB = PABULIB_DIR / "Netherlands_Assen_2024.pb"

#: characters that matter to a Pabulib or CSV reader, mixed with anything
SYNTAX = st.sampled_from(["META", "PROJECTS", "VOTES", "key;value", "project_id;cost;name",
                          "voter_id;vote", "budget;100", "vote_type;approval", "vote_type;ordinal",
                          "vote_type;cumulative", "voter_id;vote;points", ";", '"', "\n", "\r\n",
                          ",", "1", "-5", "1e999", "NaN", "1/0", "0x10", "\x00", "é", " "])
PB_TEXT = st.lists(st.one_of(SYNTAX, st.text(max_size=12)), max_size=60).map("".join)


def _parse_cleanly(text: str) -> None:
    try:
        parse_pabulib(text, "fuzz.pb")
    except PabulibError as error:
        assert str(error).startswith("fuzz.pb"), str(error)
        if error.line is not None:
            assert f"fuzz.pb:{error.line}:" in str(error)
    except TallyInputError as error:
        assert str(error)


@FUZZ
@given(PB_TEXT)
def test_pabulib_parser_on_arbitrary_text(text):
    _parse_cleanly(text)


def _valid_skeleton() -> str:
    return ("META\nkey;value\nbudget;100\nvote_type;approval\nnum_projects;2\nnum_votes;2\n"
            "PROJECTS\nproject_id;cost;name\n1;60;A\n2;40;B\n"
            "VOTES\nvoter_id;vote\nv1;1,2\nv2;2\n")


MUTATIONS = st.lists(st.tuples(
    st.sampled_from(["delete_line", "duplicate_line", "replace_char", "insert", "truncate",
                     "swap_separator"]),
    st.integers(min_value=0, max_value=10**9), st.text(max_size=8)), min_size=1, max_size=4)


def _mutate(text: str, mutations) -> str:
    for kind, position, insert in mutations:
        lines = text.split("\n")
        if kind == "delete_line" and lines:
            del lines[position % len(lines)]
            text = "\n".join(lines)
        elif kind == "duplicate_line" and lines:
            index = position % len(lines)
            lines.insert(index, lines[index])
            text = "\n".join(lines)
        elif kind == "replace_char" and text:
            index = position % len(text)
            text = text[:index] + (insert[:1] or ";") + text[index + 1:]
        elif kind == "insert":
            index = position % (len(text) + 1)
            text = text[:index] + insert + text[index:]
        elif kind == "truncate":
            text = text[:position % (len(text) + 1)]
        elif kind == "swap_separator":
            text = text.replace(";", ",", 1 + position % 3)
    return text


@FUZZ
@given(MUTATIONS)
def test_pabulib_parser_on_mutated_files(mutations):
    _parse_cleanly(_mutate(_valid_skeleton(), mutations))


@pytest.fixture(scope="module")
def real_pabulib_text() -> str:
    if not SMALL_PB.exists():
        pytest.fail(f"{SMALL_PB} not found (set PBVOTE_PABULIB_DIR)", pytrace=False)
    return SMALL_PB.read_text(encoding="utf-8")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(MUTATIONS)
def test_pabulib_parser_on_mutated_real_files(real_pabulib_text, mutations):
    parse_pabulib(real_pabulib_text, "fuzz.pb")  # the untouched file parses
    _parse_cleanly(_mutate(real_pabulib_text, mutations))


CSV_TEXT = st.lists(st.one_of(
    st.sampled_from(["last_name,birth_date,postcode,district,roll_number\n",
                     "Surname,DOB,Postcode,Ward\n", "Lee,1980-01-01,AB1,north,R1\n",
                     "Kim,31/12/1999,AB 2,south,\n", ",", '"', "\n", "\r", "\ufeff", "\x00",
                     "2024-02-30", "0000-00-00", "99999-01-01", "é", "north", ";"]),
    st.text(max_size=10)), max_size=40).map("".join)


@FUZZ
@given(CSV_TEXT, st.dictionaries(st.text(max_size=12), st.sampled_from(
    ["last_name", "birth_date", "postcode", "district", "roll_number", "display_name", "",
     "nonsense"]), max_size=4) | st.none())
def test_roll_csv_reader_yields_rows_and_errors_only(text, mapping):
    rows, errors = read_roll_text(text, ["north", "south"], mapping, today=dt.date(2026, 1, 1))
    assert all(isinstance(row, RollRow) for row in rows)
    assert all(isinstance(error, RowError) and error.message for error in errors)
    for row in rows:
        assert row.district in ("north", "south")


@pytest.fixture(scope="module")
def honest_bundle():
    chain = make_chain()
    files = make_bundle(chain)
    assert verify.verify_files(files, chain).ok
    return files, chain


def _mutate_bundle(files: dict[str, bytes], name: str, mutations) -> dict[str, bytes]:
    edited = dict(files)
    edited[name] = _mutate(files[name].decode("utf-8", "replace"), mutations).encode(
        "utf-8", "surrogatepass")
    return edited


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_verifier_reports_any_mutated_bundle_cleanly(honest_bundle, data):
    files, chain = honest_bundle
    name = data.draw(st.sampled_from(sorted(files)))
    mutations = data.draw(MUTATIONS)
    edited = _mutate_bundle(files, name, mutations)
    forged = data.draw(st.booleans())
    if forged:
        edited = resum(edited)  # as a careful forger would: the sums match the edit
    report = verify.verify_files(edited, chain if data.draw(st.booleans()) else None)
    assert isinstance(report, verify.Report) and report.checks
    json.dumps(report.to_dict())
    assert report.text()
    if not forged and edited[name] != files[name]:
        assert not report.ok, "an edit that SHA256SUMS does not list passed"


@pytest.mark.parametrize("before, after, check, problem", [
    (b"N-C;30;1;C;0", b"N-C;30;1;C;1", "tally", "marked selected"),
    (b"N-C;30;1;C;0", b"N-C;30;9;C;0", "ballot-files", "claims 9 votes"),
])
def test_verifier_checks_the_claims_in_pabulib_files(honest_bundle, before, after, check,
                                                     problem):
    """Found by the fuzz test above: a forged .pb file (with SHA256SUMS recomputed) whose
    'selected' or 'votes' column lied used to pass verification."""
    files, chain = honest_bundle
    edited = dict(files)
    edited["ballots-north.pb"] = files["ballots-north.pb"].replace(before, after)
    assert edited["ballots-north.pb"] != files["ballots-north.pb"]
    report = verify.verify_files(resum(edited), chain)
    assert not report.ok and report.first_failure.name == check
    assert problem in report.first_failure.detail
