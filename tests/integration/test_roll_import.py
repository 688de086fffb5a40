"""Voter-roll import on both engines: diff, apply, voters never removed, CLI."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from pbvote.cli.setup import import_roll
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import LogEntry, RollEntry
from pbvote.services import roll_import, voting
from pbvote.services.cycles import get_cycle
from pbvote.services.roll import RollPerson, add_roll_entry, roll_identity_hash
from tests.factories import make_cycle

HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"
FIRST = HEADER + ("Lee,1980-01-01,AB1 2CD,approval,R1,Sam Lee\n"
                  "Kim,1981-02-02,AB1 2CD,knapsack,R2,\n"
                  "Okafor,1982-03-03,XY9,ranked,,\n")


@pytest.fixture
def made(app_context):
    with write_intent():
        result = make_cycle("roll-cycle", codes_per_district=0)
        db.session.commit()
    return result


def write(tmp_path, text, name="roll.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def imported_entries(cycle):
    return db.session.scalars(select(RollEntry).where(RollEntry.cycle_id == cycle.id,
                                                      RollEntry.roll_key_hash.is_not(None))).all()


def test_first_import_adds_rows_that_the_resident_path_finds(made, tmp_path):
    cycle = get_cycle(made.slug)
    plan = roll_import.plan_import(cycle, write(tmp_path, FIRST))
    # the five make_cycle entries are not in the file, so they would be removed
    assert plan.ok and (plan.added, plan.changed, plan.removed) == (3, 0, 5)
    assert plan.kept_voted == 0 and plan.unchanged == 0
    applied = roll_import.apply_import(cycle, write(tmp_path, FIRST), "staff:ana",
                                       confirmed_removals=5)
    db.session.commit()
    assert applied.applied and applied.removed == 5
    entries = imported_entries(cycle)
    assert len(entries) == 3
    assert {e.display_name for e in entries} == {"Sam Lee", None}
    # the same hashes as services.roll makes, so the resident can verify
    person = RollPerson("Lee", dt.date(1980, 1, 1), "AB1 2CD", "R1")
    district = cycle.district_by_slug("approval")
    assert any(e.identity_hash == roll_identity_hash(cycle, district, person) for e in entries)
    found = voting.verify_by_roll(cycle, district, "LEE", dt.date(1980, 1, 1), "ab12cd")
    assert found.method == "roll"
    by_number = voting.verify_by_roll(cycle, district, "lee", dt.date(1980, 1, 1), "r 1")
    assert by_number.identity_hash == found.identity_hash
    logged = db.session.scalars(select(LogEntry).where(LogEntry.kind == "roll.imported")).all()
    assert len(logged) == 1 and '"added":3' in logged[0].entry_json
    assert '"actor":"staff:ana"' in logged[0].entry_json and "Lee" not in logged[0].entry_json


def test_reimport_shows_added_changed_removed_and_never_removes_a_voter(made, tmp_path):
    cycle = get_cycle(made.slug)
    roll_import.apply_import(cycle, write(tmp_path, FIRST), "staff", confirmed_removals=5)
    db.session.commit()
    # Okafor votes
    okafor = voting.verify_by_roll(cycle, cycle.district_by_slug("ranked"), "Okafor",
                                   dt.date(1982, 3, 3), "XY9")
    voting.cast_ballot(okafor, ["RA-A"])
    db.session.commit()
    second = HEADER + ("Lee,1980-01-01,ZZ1,approval,R1,Sam Lee\n"   # changed postcode
                       "Novak,1990-05-05,QQ2,cumulative,R3,\n")       # added
    # Kim removed; Okafor missing but voted → kept
    plan = roll_import.plan_import(cycle, write(tmp_path, second))
    assert (plan.added, plan.changed, plan.removed, plan.unchanged, plan.kept_voted) == \
        (1, 1, 1, 0, 1)
    assert plan.added_lines == [3] and plan.changed_lines == [2]
    roll_import.apply_import(cycle, write(tmp_path, second), "staff",
                             expected_fingerprint=plan.fingerprint(), confirmed_removals=1)
    db.session.commit()
    entries = imported_entries(cycle)
    assert len(entries) == 3  # Lee (changed), Novak, Okafor (kept)
    assert okafor.identity_hash in {e.identity_hash for e in entries}
    lee = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), "Lee",
                                dt.date(1980, 1, 1), "ZZ1")
    assert lee.method == "roll"
    # a voter whose details change is kept as they were
    moved = HEADER + ("Lee,1980-01-01,ZZ1,approval,R1,Sam Lee\n"
                      "Novak,1990-05-05,QQ2,cumulative,R3,\n"
                      "Okafor,1982-03-03,XY9,approval,,\n")
    plan = roll_import.plan_import(cycle, write(tmp_path, moved))
    assert (plan.added, plan.changed, plan.removed, plan.unchanged, plan.kept_voted) == \
        (0, 0, 0, 2, 1)
    assert plan.kept_voted_lines == [4]


def test_a_stale_preview_is_refused_and_nothing_changes(made, tmp_path):
    cycle = get_cycle(made.slug)
    plan = roll_import.plan_import(cycle, write(tmp_path, FIRST))
    add_roll_entry(cycle, cycle.districts[0], RollPerson("New", dt.date(1970, 1, 1), "1"))
    db.session.commit()
    with pytest.raises(roll_import.RollChangedSincePreview):
        roll_import.apply_import(cycle, write(tmp_path, FIRST), "staff",
                                 expected_fingerprint=plan.fingerprint())
    db.session.rollback()
    assert imported_entries(cycle) == []


def test_a_file_with_errors_imports_nothing(made, tmp_path):
    cycle = get_cycle(made.slug)
    bad = FIRST + "Lee,1980-01-01,AB1 2CD,approval,R1,\nZed,1/1/1990,1,approval,,\n"
    with pytest.raises(roll_import.RollFileInvalid) as refused:
        roll_import.apply_import(cycle, write(tmp_path, bad), "staff")
    db.session.rollback()
    assert [(e.line, e.field) for e in refused.value.plan.errors] == \
        [(5, "duplicate"), (6, "birth_date")]
    assert imported_entries(cycle) == []
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "Müller,1980-01-01,1,approval,,\n".encode("latin-1"))
    plan = roll_import.plan_import(cycle, latin)
    assert not plan.ok and "UTF-8" in plan.errors[0].message


def test_fast_hmac_equals_keyed_hash(app_context):
    from pbvote.services.keys import keyed_hash

    assert roll_import._Hasher()("roll-key", "number|R1") == keyed_hash("roll-key", "number|R1")
    app_context.config["IDENTITY_HMAC_KEY"] = "k" * 100  # longer than a SHA-256 block
    assert roll_import._Hasher()("identity", "Ü") == keyed_hash("identity", "Ü")


@pytest.mark.parametrize("person", [
    RollPerson("Ødegård-Nuñez", dt.date(1950, 5, 6), 'A"1\\', None),
    RollPerson("O'Brien", dt.date(1950, 5, 6), "sw1a 1aa", "n-7"),
    RollPerson("Chen", dt.date(1950, 5, 6), "東京1", "R\u00e9"),
])
def test_imported_identities_equal_the_roll_service(made, tmp_path, person):
    cycle = get_cycle(made.slug)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        [person.last_name, person.birth_date, person.postcode, "ranked", person.roll_number or "",
         ""])
    text = HEADER + out.getvalue()
    roll_import.apply_import(cycle, write(tmp_path, text), "staff", confirmed_removals=5)
    entry = imported_entries(cycle)[0]
    assert entry.identity_hash == roll_identity_hash(cycle, cycle.district_by_slug("ranked"),
                                                     person)
    expected = add_roll_entry(cycle, cycle.district_by_slug("ranked"), person)
    assert (entry.postcode_match_hash, entry.roll_number_match_hash) == \
        (expected.postcode_match_hash, expected.roll_number_match_hash)
    db.session.rollback()


def test_cli_reports_errors_with_lines_and_exits_non_zero(made, tmp_path, runner):
    bad = write(tmp_path, FIRST + "Lee,1980-01-01,AB1 2CD,approval,R1,\n,1980-01-01,1,x,,\n")
    result = runner.invoke(import_roll, [made.slug, str(bad), "--yes"])
    assert result.exit_code == 1
    assert "line 5: duplicate of line 2" in result.output
    assert "line 6: last name is empty" in result.output
    assert "line 6: district 'x' is not one of" in result.output
    assert runner.invoke(import_roll, ["no-such-cycle", str(bad)]).exit_code == 2
    assert runner.invoke(import_roll, [made.slug, str(bad), "--map", "oops"]).exit_code == 2
    assert db.session.scalar(select(func.count()).select_from(RollEntry)
                             .where(RollEntry.roll_key_hash.is_not(None))) == 0


def test_cli_prompts_unless_yes_and_maps_columns(made, tmp_path, runner):
    text = "Surname,DOB,Zip,Ward\nLee,1980-01-01,AB1,approval\nKim,1981-01-01,AB2,ranked\n"
    path = write(tmp_path, text)
    options = ["--map", "Surname=last_name", "--map", "DOB=birth_date", "--map", "Zip=postcode",
               "--map", "Ward=district"]
    declined = runner.invoke(import_roll, [made.slug, str(path), *options], input="n\n")
    assert declined.exit_code == 0 and "added:     2" in declined.output
    assert "Nothing changed." in declined.output
    cycle = get_cycle(made.slug)
    assert imported_entries(cycle) == []
    accepted = runner.invoke(import_roll, [made.slug, str(path), *options], input="y\n5\n")
    assert accepted.exit_code == 0, accepted.output
    db.session.expire_all()
    assert len(imported_entries(cycle)) == 2
    again = runner.invoke(import_roll, [made.slug, str(path), *options, "--yes"])
    assert again.exit_code == 0 and "unchanged: 2" in again.output


def test_large_sqlite_imports_rebuild_the_lookup_indexes(made, tmp_path, monkeypatch):
    from sqlalchemy import inspect

    monkeypatch.setattr(roll_import, "SQLITE_REBUILD_INDEXES_FROM", 2)
    monkeypatch.setattr(roll_import, "BATCH_ROWS", 2)
    cycle = get_cycle(made.slug)
    bad = FIRST + "Zed,1990-13-01,1,approval,,\n"
    with pytest.raises(roll_import.RollFileInvalid):
        roll_import.apply_import(cycle, write(tmp_path, bad), "staff")
    db.session.rollback()
    roll_import.apply_import(get_cycle(made.slug), write(tmp_path, FIRST), "staff",
                             confirmed_removals=5)
    db.session.commit()
    names = {i["name"] for i in inspect(db.engine).get_indexes("roll_entry")}
    assert {"ix_roll_entry_postcode_match_hash", "ix_roll_entry_roll_number_match_hash"} <= names
    assert len(imported_entries(get_cycle(made.slug))) == 3
