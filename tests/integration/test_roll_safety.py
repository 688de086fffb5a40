"""Roll changes that cannot destroy data (issue #15, defect 4), on both engines.

A header-only file imported after voting closed used to remove the whole roll and void its
codes behind the same plain "apply" button; the preview named nobody."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from pbvote.cli.setup import import_roll
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, LogEntry, RollEntry
from pbvote.services import roll_import
from pbvote.services.cycles import get_cycle
from tests.factories import make_cycle

HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"


def write(tmp_path, text, name="roll.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def roll_count(cycle_id) -> int:
    return db.session.scalar(select(func.count()).select_from(RollEntry)
                             .where(RollEntry.cycle_id == cycle_id))


def unused_codes(cycle_id) -> int:
    return db.session.scalar(select(func.count()).select_from(AccessCode)
                             .where(AccessCode.cycle_id == cycle_id,
                                    AccessCode.status == "unused"))


def people_rows(count: int, district: str = "approval", start: int = 0) -> str:
    return "".join(f"Person{i},1970-01-01,P{i},{district},N{i},Person {i}\n"
                   for i in range(start, start + count))


@pytest.fixture
def made(app_context):
    with write_intent():
        result = make_cycle("safety", codes_per_district=1)
        db.session.commit()
    return result


def test_no_import_after_voting_closed_and_the_cli_says_why(app_context, tmp_path, runner):
    with write_intent():
        made = make_cycle("closed-roll", voting="closed", codes_per_district=1)
        db.session.commit()
    cycle = get_cycle(made.slug)
    entries, codes = roll_count(cycle.id), unused_codes(cycle.id)
    header_only = write(tmp_path, HEADER)
    with pytest.raises(roll_import.RollClosed) as refused:
        roll_import.plan_import(cycle, header_only)
    assert refused.value.status == 409 and "Voting has closed" in refused.value.message
    with pytest.raises(roll_import.RollClosed):
        roll_import.apply_import(cycle, header_only, "staff", confirmed_removals=entries)
    db.session.rollback()
    result = runner.invoke(import_roll, [made.slug, str(header_only), "--yes",
                                         "--confirm-removals", str(entries)])
    assert result.exit_code == 1 and "Voting has closed" in result.output
    db.session.expire_all()
    assert (roll_count(cycle.id), unused_codes(cycle.id)) == (entries, codes)
    assert not db.session.scalar(select(LogEntry.id).where(LogEntry.kind == "roll.imported"))


def test_a_large_removal_needs_the_number_confirmed(made, tmp_path, runner):
    cycle = get_cycle(made.slug)
    entries, codes = roll_count(cycle.id), unused_codes(cycle.id)
    header_only = write(tmp_path, HEADER)
    plan = roll_import.plan_import(cycle, header_only)
    assert (plan.removed, plan.before) == (entries, entries)
    assert plan.removal_needs_confirmation and plan.removed_percent == 100
    for confirmed in (None, entries - 1):
        with pytest.raises(roll_import.RemovalNotConfirmed) as refused:
            roll_import.apply_import(cycle, header_only, "staff",
                                     expected_fingerprint=plan.fingerprint(),
                                     confirmed_removals=confirmed)
        assert refused.value.status == 409 and str(entries) in refused.value.message
        db.session.rollback()
        cycle = get_cycle(made.slug)
        assert (roll_count(cycle.id), unused_codes(cycle.id)) == (entries, codes)
    # the command line: --yes alone is refused with the number to confirm, exit 1
    refused = runner.invoke(import_roll, [made.slug, str(header_only), "--yes"])
    assert refused.exit_code == 1
    assert f"--confirm-removals {entries}" in refused.output
    # at the prompt, a wrong number declines with exit 1
    wrong = runner.invoke(import_roll, [made.slug, str(header_only)], input="y\n3\n")
    assert wrong.exit_code == 1 and "REMOVES 5 of the 5 entries" in wrong.output
    db.session.expire_all()
    assert (roll_count(cycle.id), unused_codes(cycle.id)) == (entries, codes)
    done = runner.invoke(import_roll, [made.slug, str(header_only), "--yes",
                                       "--confirm-removals", str(entries)])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert roll_count(cycle.id) == 0


def test_removing_a_tenth_or_less_needs_no_second_confirmation(made, tmp_path):
    cycle = get_cycle(made.slug)
    # 45 entries: make_cycle's 5 plus 40; then drop 4 of them (under a tenth) and 5 (over)
    keep = HEADER + people_rows(40)
    roll_import.apply_import(cycle, write(tmp_path, keep), "staff", confirmed_removals=5)
    db.session.commit()
    cycle = get_cycle(made.slug)
    assert roll_count(cycle.id) == 40
    small = roll_import.plan_import(cycle, write(tmp_path, HEADER + people_rows(36)))
    assert small.removed == 4 and not small.removal_needs_confirmation
    large = roll_import.plan_import(cycle, write(tmp_path, HEADER + people_rows(35)))
    assert large.removed == 5 and large.removal_needs_confirmation
    roll_import.apply_import(cycle, write(tmp_path, HEADER + people_rows(36)), "staff")
    db.session.commit()
    assert roll_count(cycle.id) == 36


def test_the_preview_names_who_is_added_changed_and_removed_a_page_at_a_time(made, tmp_path):
    cycle = get_cycle(made.slug)
    first = HEADER + people_rows(3) + "Lee,1980-01-01,AB1,approval,R1,Sam Lee\n"
    roll_import.apply_import(cycle, write(tmp_path, first), "staff", confirmed_removals=5)
    db.session.commit()
    cycle = get_cycle(made.slug)
    second = (HEADER
              + "Person0,1970-01-01,P0,ranked,N0,Person 0\n"      # moves district
              + "Person1,1970-01-01,ZZ9,approval,N1,Person 1\n"   # new postcode
              + "Lee,1980-01-01,AB1,approval,R1,Samuel Lee\n"     # new display name
              + people_rows(120, start=100))                      # added; Person2 removed
    plan = roll_import.plan_import(cycle, write(tmp_path, second))
    assert (plan.added, plan.changed, plan.removed) == (120, 3, 1)
    removed = plan.people["removed"]
    assert [(p.name, p.birth_date, p.district) for p in removed] == \
        [("Person 2", "1970-01-01", "Approval")]
    changes = {p.name: p.changes for p in plan.people["changed"]}
    assert changes["Person 0"] == [("district", "Approval", "Ranked")]
    assert changes["Person 1"] == [("postcode", None, "ZZ9")]
    assert changes["Samuel Lee"] == [("display name", "Sam Lee", "Samuel Lee")]
    assert {p.roll_number for p in plan.people["changed"]} == {"N0", "N1", "R1"}
    added = plan.people["added"]
    assert len(added) == roll_import.PAGE_SIZE and plan.page_count("added") == 3
    assert (added[0].name, added[0].roll_number, added[0].line) == ("Person 100", "N100", 5)
    last = roll_import.plan_import(cycle, write(tmp_path, second), pages={"added": 3})
    assert [p.roll_number for p in last.people["added"]] == [f"N{i}" for i in range(200, 220)]
    assert last.fingerprint() == plan.fingerprint()  # paging is not a different preview


def test_districts_match_by_web_name_or_name_in_any_case(made, tmp_path):
    cycle = get_cycle(made.slug)
    cycle.district_by_slug("ranked").name = "Old Town"
    db.session.commit()
    cycle = get_cycle(made.slug)
    text = (HEADER + "Lee,1980-01-01,AB1,APPROVAL,R1,\n" + "Kim,1981-01-01,AB2,old town,R2,\n"
            + "Ng,1982-01-01,AB3,  Old   Town ,R3,\n" + "Ox,1983-01-01,AB4,Nowhere,R4,\n")
    plan = roll_import.plan_import(cycle, write(tmp_path, text))
    assert [(e.line, e.field) for e in plan.errors] == [(5, "district")]
    fixed = text.replace("Nowhere", "Knapsack")
    plan = roll_import.plan_import(cycle, write(tmp_path, fixed))
    assert plan.ok and plan.added == 4
    assert sorted(p.district for p in plan.people["added"]) == \
        ["Approval", "Knapsack", "Old Town", "Old Town"]


def test_duplicates_are_reported_in_the_first_preview(made, tmp_path):
    cycle = get_cycle(made.slug)
    text = (HEADER + "Lee,1980-01-01,AB1,approval,R1,\n" + "Kim,1981-01-01,AB2,ranked,,\n"
            + "LEE,1990-01-01,ZZ,approval,r1,\n" + "kim,1981-01-01,ab 2,Ranked,,\n")
    plan = roll_import.plan_import(cycle, write(tmp_path, text))
    assert plan.duplicates == 2
    assert [e.message for e in plan.errors if e.field == "duplicate"] == [
        "line 4: duplicate of line 2 (same roll number).",
        "line 5: duplicate of line 3 (same last name, date of birth and postcode)."]


def test_import_while_voting_is_open_still_works(made, tmp_path):
    cycle = get_cycle(made.slug)
    assert cycle.voting_open(utcnow())
    plan = roll_import.plan_import(cycle, write(tmp_path, HEADER + people_rows(2)))
    assert plan.ok and plan.added == 2
    assert dt.date(1970, 1, 1).isoformat() == plan.people["added"][0].birth_date
