"""Council exports: the results workbook, ideas (CSV/XLSX, no personal data) and the roll
status (counts only); every text cell neutralised against formula injection."""
from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, Project, Proposal
from pbvote.rules.csv_safe import csv_text
from pbvote.services import exports, proposals, publication
from tests.proposal_helpers import make_intake_cycle
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account

FORMULA = '=HYPERLINK("http://evil.example","click")'


def test_results_workbook_per_district_with_rounds_and_no_formulas(app_context):
    with write_intent():
        made = cycle_with_ballots("closed")
        project = db.session.scalar(select(Project).where(Project.cycle_id == made.cycle_id)
                                    .order_by(Project.id))
        project.title = FORMULA
        db.session.commit()
    staff = make_account("staff")[0]
    with write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        run = publication.run_tally(cycle, db.session.get(Account, staff))
        results = json.loads(run.results_json)
        db.session.rollback()
    book = load_workbook(io.BytesIO(exports.results_workbook(results, "abc123")))
    names = [d["name"] for d in results["districts"]]
    assert book.sheetnames == [n for name in names for n in (name, f"{name} rounds")]
    first = results["districts"][0]
    sheet = book[first["name"]]
    rows = list(sheet.iter_rows(values_only=True))
    facts = {row[0]: row[1] for row in rows if row and row[0]}
    assert facts["rule"] == first["rule"] and facts["budget"] == first["budget"]
    assert facts["results_sha256"] == "abc123"
    header = rows.index(("project", "title", "cost", "supporters", first["score_label"],
                         "funded", "chosen"))
    listed = rows[header + 1: header + 1 + len(first["projects"])]
    assert [r[0] for r in listed] == [p["id"] for p in first["projects"]]
    assert {r[0] for r in listed if r[5] == "yes"} == set(first["outcome"]["selected"])
    # the formula-like title is text behind an apostrophe, never a formula
    cells = [c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and c.value == "'" + FORMULA for c in cells)
    rounds = list(book[f"{first['name']} rounds"].iter_rows(values_only=True))
    assert rounds[0] == ("step", "round by round") and len(rounds) > 3


def test_ideas_export_has_no_personal_data_and_neutralises_formulas(app_context):
    cycle_id = make_intake_cycle()
    author = make_account("resident", email="someone.private@example.org")[0]
    with write_intent():
        cycle, account = db.session.get(Cycle, cycle_id), db.session.get(Account, author)
        proposals.submit(cycle, account, {"title": FORMULA, "description": "Lights please",
                                          "category": "Street lighting",
                                          "district": "approval",
                                          "location": "@corner of A and B",
                                          "cost_estimate": "15000"})
        db.session.commit()
        rows = exports.idea_rows(db.session.get(Cycle, cycle_id))
        xlsx = exports.ideas_workbook(db.session.get(Cycle, cycle_id))
    assert rows[0] == exports.IDEA_COLUMNS and len(rows) == 2
    text = csv_text(rows)
    assert "someone.private" not in text and "@corner" not in text   # no author, no location
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1][1] == "'" + FORMULA and parsed[1][2] == "submitted"
    assert parsed[1][5] == "0"   # supports
    sheet = load_workbook(io.BytesIO(xlsx))["ideas"]
    title = sheet.cell(row=2, column=2)
    assert title.data_type == "s" and title.value == "'" + FORMULA
    idea = db.session.scalar(select(Proposal).where(Proposal.cycle_id == cycle_id))
    assert idea is not None


def test_roll_status_counts_only(app_context):
    with write_intent():
        made = cycle_with_ballots("closed")
        db.session.commit()
    rows = exports.roll_status_rows(db.session.get(Cycle, made.cycle_id))
    assert rows[0] == exports.ROLL_STATUS_COLUMNS
    for _slug, on_roll, voted, not_voted, issued, used, voided in rows[1:]:
        assert on_roll == voted + not_voted and used + voided <= issued
    cycle = db.session.get(Cycle, made.cycle_id)
    assert [r[0] for r in rows[1:]] == [d.slug for d in cycle.districts]
    # people voted (with roll details or codes): it shows, as numbers only
    assert sum(r[2] for r in rows[1:]) + sum(r[5] for r in rows[1:]) > 0
    assert all(isinstance(v, int) for r in rows[1:] for v in r[1:])
