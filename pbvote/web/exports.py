"""Council exports for staff: ideas (CSV, XLSX) and roll status (CSV, counts only).
The results workbook and the printable report are public with the results (web.results)."""
from __future__ import annotations

from flask import Blueprint, Response

from pbvote.rules.csv_safe import csv_text
from pbvote.services import exports
from pbvote.services.cycles import get_cycle
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("exports", __name__, url_prefix="/staff/cycles/<slug>/exports")
set_policy(bp.name, require_roles("staff", "admin"))

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/ideas.csv")
def ideas_csv(slug: str):
    cycle = get_cycle(slug)
    return download(csv_text(exports.idea_rows(cycle)), "text/csv", f"{slug}-ideas.csv")


@bp.get("/ideas.xlsx")
def ideas_xlsx(slug: str):
    cycle = get_cycle(slug)
    return download(exports.ideas_workbook(cycle), XLSX, f"{slug}-ideas.xlsx")


@bp.get("/roll-status.csv")
def roll_status_csv(slug: str):
    cycle = get_cycle(slug)
    return download(csv_text(exports.roll_status_rows(cycle)), "text/csv",
                    f"{slug}-roll-status.csv")
