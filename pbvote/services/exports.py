"""Exports a council can read: results as XLSX, ideas as CSV/XLSX, roll status as CSV.

Every text cell is neutralised against formula injection (:mod:`pbvote.rules.csv_safe`); in
XLSX files text cells are also stored as text, never as formulas. Ideas carry no personal
data of their authors; the roll status has counts only, never who voted how.
"""
from __future__ import annotations

import io
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from pbvote.infra.extensions import db
from pbvote.models import (
    AccessCode,
    Cycle,
    District,
    Participation,
    Project,
    Proposal,
    RollEntry,
)
from pbvote.models.proposal import ProposalEvent, ProposalProjectLink, ProposalSupport
from pbvote.rules.csv_safe import neutralise
from pbvote.rules.results_reading import exact, trace_lines

IDEA_COLUMNS = ["id", "title", "status", "district", "category", "supports", "messages",
                "project", "cost_estimate", "staff_cost_estimate", "public_reasons", "hidden"]
ROLL_STATUS_COLUMNS = ["district", "on_roll", "voted", "not_voted", "codes_issued",
                       "codes_used", "codes_voided"]


def _cell_value(value):
    """A value for an XLSX cell: numbers stay numbers (fractions become decimals for reading,
    the exact value is in results.json), text is neutralised."""
    if isinstance(value, bool) or value is None:
        return neutralise(value) if value is not None else None
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return float(value)  # display only: the exact value is in results.json
    return neutralise(value)


def _write(sheet, rows, bold_first: bool = True) -> None:
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            cell = sheet.cell(row=r, column=c, value=_cell_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"   # text stays text, even if it looks like a formula
            if bold_first and r == 1:
                cell.font = Font(bold=True)


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join(ch for ch in text if ch not in '[]:*?/\\')[:31] or "sheet"
    base, n = name, 2
    while name in used:
        suffix = f" {n}"
        name = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def results_workbook(results: dict, results_hash: str = "") -> bytes:
    """One sheet per district (projects, costs, votes or points, funded or not, rule and
    parameters, turnout) and one with its count round by round."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    cycle = results["cycle"]
    for district in results["districts"]:
        outcome = district["outcome"]
        selected = outcome["selected"]
        turnout = district.get("turnout") or {}
        head = [
            ["cycle", cycle["name"]], ["district", district["name"]],
            ["currency", cycle["currency"]], ["budget", district["budget"]],
            ["rule", district["rule"]],
            ["parameters", ", ".join(f"{k}={v}" for k, v in sorted(district["params"].items()))],
            ["ballots", district["ballots"]],
            ["participations", district["participations"]["total"]],
            ["eligible", district.get("eligible")],
            ["turnout_percent", turnout.get("percent")],
            ["spent", exact(outcome["total_cost"])],
            ["left_over", exact(outcome["leftover_budget"])],
            ["results_sha256", results_hash],
            ["manifest_sha256", results.get("manifest_hash")],
            ["chain_head", results["chain"]["head"]],
            [],
            ["project", "title", "cost", "supporters", district["score_label"], "funded",
             "chosen"],
        ]
        for project in district["projects"]:
            pid = project["id"]
            head.append([pid, project["title"], project["cost"], project["supporters"],
                         exact(district["scores"][pid]), "yes" if pid in selected else "no",
                         selected.index(pid) + 1 if pid in selected else None])
        sheet = book.create_sheet(_sheet_name(district["name"], used))
        _write(sheet, head, bold_first=False)
        sheet.column_dimensions["B"].width = 48
        rounds = book.create_sheet(_sheet_name(f"{district['name']} rounds", used))
        _write(rounds, [["step", "round by round"]]
               + [[i, line] for i, line in enumerate(trace_lines(district), 1)])
        rounds.column_dimensions["B"].width = 120
    return _bytes(book)


def idea_rows(cycle: Cycle) -> list[list]:
    """Every idea of the cycle with its status, district, supports, messages, the project it
    became and the public reasons; nothing about its author."""
    district_names = dict(db.session.execute(
        select(District.id, District.slug).where(District.cycle_id == cycle.id)).all())
    supports = dict(db.session.execute(
        select(ProposalSupport.proposal_id, func.count()).join(Proposal)
        .where(Proposal.cycle_id == cycle.id).group_by(ProposalSupport.proposal_id)).all())
    messages: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for proposal_id, kind, role, text in db.session.execute(
            select(ProposalEvent.proposal_id, ProposalEvent.kind, ProposalEvent.actor_role,
                   ProposalEvent.message).join(Proposal)
            .where(Proposal.cycle_id == cycle.id, ProposalEvent.message != "")
            .order_by(ProposalEvent.proposal_id, ProposalEvent.at, ProposalEvent.id)):
        counts[proposal_id] = counts.get(proposal_id, 0) + 1
        # reasons staff gave for a decision are public; what moderation told the author is not
        if role == "staff" and kind in ("status", "merged", "promoted"):
            messages.setdefault(proposal_id, []).append(text)
    projects = dict(db.session.execute(
        select(ProposalProjectLink.proposal_id, Project.code).join(Project)
        .where(Project.cycle_id == cycle.id)).all())
    rows = [IDEA_COLUMNS]
    for idea in db.session.scalars(select(Proposal).where(Proposal.cycle_id == cycle.id)
                                   .order_by(Proposal.id)):
        reasons = ([idea.feasibility_note] if idea.feasibility_note else []) + \
            messages.get(idea.id, [])
        rows.append([idea.id, idea.title, idea.status, district_names.get(idea.district_id, ""),
                     idea.category, supports.get(idea.id, 0), counts.get(idea.id, 0),
                     projects.get(idea.id, ""), idea.cost_estimate, idea.staff_cost_estimate,
                     " | ".join(reasons), "yes" if idea.hidden else "no"])
    return rows


def ideas_workbook(cycle: Cycle) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "ideas"
    _write(sheet, idea_rows(cycle))
    return _bytes(book)


def roll_status_rows(cycle: Cycle) -> list[list]:
    """Per district: people on the roll, how many of them voted (any channel) and not, and
    access codes issued, used and voided. Counts only."""
    districts = db.session.execute(select(District.id, District.slug).where(
        District.cycle_id == cycle.id).order_by(District.position, District.id)).all()
    on_roll = dict(db.session.execute(
        select(RollEntry.district_id, func.count()).where(RollEntry.cycle_id == cycle.id)
        .group_by(RollEntry.district_id)).all())
    voted = dict(db.session.execute(
        select(RollEntry.district_id, func.count()).join(
            Participation, (Participation.cycle_id == RollEntry.cycle_id)
            & (Participation.identity_hash == RollEntry.identity_hash))
        .where(RollEntry.cycle_id == cycle.id).group_by(RollEntry.district_id)).all())
    codes: dict[tuple[int, str], int] = {
        (d, s): n for d, s, n in db.session.execute(
            select(AccessCode.district_id, AccessCode.status, func.count())
            .where(AccessCode.cycle_id == cycle.id)
            .group_by(AccessCode.district_id, AccessCode.status)).all()}
    rows = [ROLL_STATUS_COLUMNS]
    for district_id, slug in districts:
        n, v = on_roll.get(district_id, 0), voted.get(district_id, 0)
        issued = sum(c for (d, _), c in codes.items() if d == district_id)
        rows.append([slug, n, v, n - v, issued, codes.get((district_id, "used"), 0),
                     codes.get((district_id, "voided"), 0)])
    return rows
