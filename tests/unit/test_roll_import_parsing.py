"""The pure roll-file reader: mapping, line-numbered errors, duplicates, stable keys."""
from __future__ import annotations

import datetime as dt

from pbvote.rules.roll_csv import parse_mapping_options, read_roll_text, resolve_columns

TODAY = dt.date(2027, 1, 1)
SLUGS = {"north", "south"}
HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"


def read(text, mapping=None):
    return read_roll_text(text, SLUGS, mapping, TODAY)


def test_valid_rows_keep_their_line_numbers_and_normalised_keys():
    rows, errors = read(HEADER + "Müller,1980-02-03,ab1 2cd,north,r-001,Anna Müller\n"
                                 "\n"
                                 "Smith,1975-12-31,XY9,south,,\n")
    assert errors == []
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].name_key == "muller" and rows[0].postcode_key == "AB12CD"
    assert rows[0].stable_key == "number|R001"
    assert rows[1].roll_number is None and rows[1].display_name is None
    assert rows[1].stable_key == "person|smith|1975-12-31|XY9"


def test_every_bad_field_is_reported_with_its_line():
    rows, errors = read(HEADER + ",1980-02-03,1,north,,\n"
                                 "Lee,03/02/1980,1,north,,\n"
                                 "Lee,2030-01-01,1,north,,\n"
                                 "Lee,1899-12-31,1,north,,\n"
                                 "Lee,1980-01-01,,west,,\n"
                                 "!!!,1980-01-01,1,north,,\n")
    assert rows == []
    found = {(e.line, e.field) for e in errors}
    assert found == {(2, "last_name"), (3, "birth_date"), (4, "birth_date"), (5, "birth_date"),
                     (6, "postcode"), (6, "district"), (7, "last_name")}
    messages = " ".join(e.message for e in errors)
    assert "line 3:" in messages and "YYYY-MM-DD" in messages and "in the future" in messages
    assert "'west' is not one of north, south" in messages


def test_duplicates_name_the_first_line():
    rows, errors = read(HEADER + "Lee,1980-01-01,1,north,R1,\n"
                                 "Kim,1981-01-01,2,south,r 1,\n"
                                 "Lee,1980-01-01,1,north,,\n"
                                 "LEE,1980-01-01,1,south,,\n")
    assert [r.line for r in rows] == [2, 4]
    assert [(e.line, e.field) for e in errors] == [(3, "duplicate"), (5, "duplicate")]
    assert "duplicate of line 2 (same roll number)" in errors[0].message
    assert "duplicate of line 4 (same last name, date of birth and postcode)" in errors[1].message


def test_a_mapping_renames_columns_and_reports_its_own_mistakes():
    text = "Surname,DOB,Zip,Ward,Extra\nLee,1980-01-01,1,north,x\n"
    rows, errors = read(text, {"Surname": "last_name", "DOB": "birth_date", "Zip": "postcode",
                               "Ward": "district"})
    assert errors == [] and rows[0].district == "north"
    _, errors = read(text, {"Surname": "last_name", "Nope": "postcode", "DOB": "birthday"})
    messages = [e.message for e in errors]
    assert all(e.line == 0 for e in errors)
    assert any("no column 'Nope'" in m for m in messages)
    assert any("'birthday' is not a roll field" in m for m in messages)
    assert any("No column is mapped to district" in m for m in messages)


def test_two_columns_for_one_field_and_an_empty_file():
    _, errors = resolve_columns(["last_name", "Surname", "birth_date", "postcode", "district"],
                                {"Surname": "last_name"})
    assert any("Two columns map to last_name" in e.message for e in errors)
    _, errors = read("")
    assert errors[0].field == "file"


def test_details_change_when_any_field_changes_but_the_key_does_not():
    rows, _ = read(HEADER + "Lee,1980-01-01,1,north,R1,\n")
    moved, _ = read(HEADER + "Lee,1980-01-01,2,south,R1,Mr Lee\n")
    assert rows[0].stable_key == moved[0].stable_key
    assert rows[0].details != moved[0].details


def test_mapping_options_from_the_command_line():
    mapping, errors = parse_mapping_options(["Surname=last_name", "bad"])
    assert mapping == {"Surname": "last_name"}
    assert len(errors) == 1 and "COLUMN=FIELD" in errors[0].message


def test_short_rows_are_padded_and_reported_not_crashing():
    rows, errors = read(HEADER + "Lee,1980-01-01\n")
    assert rows == [] and {e.field for e in errors} == {"postcode", "district"}


def test_fast_ascii_keys_equal_the_eligibility_normalisation():
    import random

    from pbvote.rules.eligibility import normalise_name, normalise_postcode
    from pbvote.rules.roll_csv import name_key, postcode_key

    alphabet = [chr(i) for i in range(128)] + ["é", "ß", "Ø", "\u2013", "\uff11"]
    rng = random.Random(4)
    samples = [chr(i) for i in range(128)] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))) for _ in range(5000)]
    for text in samples:
        assert name_key(text) == normalise_name(text), repr(text)
        assert postcode_key(text) == normalise_postcode(text), repr(text)
