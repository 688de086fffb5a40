"""Delivery after the vote, as pure functions over the delivery chain's entries.

A cycle's delivery record lives only in its **delivery chain** (``delivery:<slug>``), a hash
chain linked to the cycle's own: its first entry, ``delivery.opened``, names the published
results (their SHA-256) and the cycle chain's head when tracking began, and lists every funded
project; the cycle chain logs the same opening. Nothing is ever edited: each change is one
more entry, and what the public sees is :func:`fold` of the entries in order. The app, the
open-data export and the standalone verifier all call this one fold, so a value shown on the
site, in ``delivery.json`` or re-derived by an auditor cannot differ.

Every entry's data carries ``role`` (the editor's role, never the person) and ``day``
(``YYYY-MM-DD``); a correction carries ``corrects``, the position of the entry it corrects
(same kind, same project). Money is in whole currency units (ints); indicator values are
exact decimal strings; no floats anywhere.

Problems found while folding are :class:`FoldError` with English text (the verifier and the
logs are English); the app checks each change with :mod:`pbvote.rules.delivery` first, in the
reader's language, so a valid change never fails here.
"""
from __future__ import annotations

import csv
import io
import re
from fractions import Fraction
from typing import Any

STATUSES = ("planned", "in_progress", "delivered", "delayed", "cancelled")
#: status → the statuses a plain change may move to (a correction may set any status)
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"in_progress", "delayed", "cancelled"}),
    "in_progress": frozenset({"delivered", "delayed", "cancelled"}),
    "delayed": frozenset({"in_progress", "delivered", "cancelled"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
}
#: statuses that need a public reason
REASON_NEEDED = frozenset({"delayed", "cancelled"})
DECIMAL = re.compile(r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$")
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PERIOD = re.compile(r"^[0-9A-Za-z][0-9A-Za-z ._/-]{0,39}$")
SURVEY_SCALE = (1, 2, 3, 4, 5)
#: survey results are shown only for a district round with at least this many answers
SURVEY_MIN_CELL = 10

PROJECT_KINDS = ("delivery.status", "delivery.progress", "delivery.money",
                 "delivery.responsible", "delivery.milestone", "delivery.update",
                 "indicator.defined")
KINDS = ("delivery.opened", *PROJECT_KINDS, "indicator.value", "survey.opened",
         "survey.closed", "survey.comment")
CSV_COLUMNS = ("district", "project", "title", "cost", "status", "status_reason",
               "progress_percent", "committed", "spent", "overrun_reason", "responsible",
               "milestones_done", "milestones_total", "updates", "last_entry")


class FoldError(ValueError):
    """An entry the delivery rules do not allow, at its chain position."""

    def __init__(self, position: int, problem: str):
        super().__init__(f"entry {position}: {problem}")
        self.position, self.problem = position, problem


def decimal_value(text: str) -> Fraction:
    """An exact non-negative decimal such as "12" or "3.75"."""
    if not isinstance(text, str) or not DECIMAL.match(text):
        raise ValueError(f"not a non-negative decimal: {text!r}")
    return Fraction(text)


def _new_project(item: dict, position: int) -> dict:
    return {"project": item["project"], "district": item["district"], "title": item["title"],
            "cost": int(item["cost"]), "status": "planned", "status_reason": "",
            "progress": 0, "committed": 0, "spent": 0, "overrun_reason": "",
            "responsible": "", "milestones": {}, "updates": [], "indicators": [],
            "entries": {"record": position}}


def fold(entries: list[tuple[int, str, dict]]) -> dict:
    """The public state of delivery from (position, kind, data) in chain order.

    Raises FoldError at the first entry the rules refuse.
    """
    state: dict[str, Any] = {"opened": None, "projects": {}, "indicators": {}, "surveys": {}}
    kinds_at: dict[int, tuple[str, str]] = {}  # position → (kind, subject) for corrections
    for position, kind, data in entries:
        if kind not in KINDS:
            raise FoldError(position, f"unknown kind {kind!r}")
        if kind == "delivery.opened":
            if state["opened"] is not None:
                raise FoldError(position, "delivery was already opened")
            state["opened"] = {"cycle": data["cycle"], "results_hash": data["results_hash"],
                               "cycle_chain": data["cycle_chain"], "position": position}
            for item in data["funded"]:
                state["projects"][item["project"]] = _new_project(item, position)
            continue
        if state["opened"] is None:
            raise FoldError(position, "an entry before delivery.opened")
        if not DAY.match(str(data.get("day", ""))):
            raise FoldError(position, "no day")
        subject = _apply(state, position, kind, data)
        corrects = data.get("corrects")
        if corrects is not None:
            if kinds_at.get(int(corrects)) != (kind, subject):
                raise FoldError(position, f"corrects entry {corrects}, which is not a "
                                          f"{kind} entry of {subject}")
            if kind == "delivery.update":
                _replace_update(state["projects"][subject], int(corrects), position)
        kinds_at[position] = (kind, subject)
    return state


def _project(state: dict, position: int, data: dict) -> dict:
    project = state["projects"].get(data.get("project"))
    if project is None:
        raise FoldError(position, f"project {data.get('project')!r} has no delivery record")
    return project


def _apply(state: dict, position: int, kind: str, data: dict) -> str:
    """Apply one entry; returns its subject (project code, indicator or survey round)."""
    if kind.startswith("delivery."):
        project = _project(state, position, data)
        _apply_delivery(project, position, kind, data)
        return project["project"]
    if kind == "indicator.defined":
        project = _project(state, position, data)
        key = data["indicator"]
        if key in state["indicators"] and data.get("corrects") is None:
            raise FoldError(position, f"indicator {key!r} is already defined")
        decimal_value(data["baseline"]["value"])
        periods = list(data["followup_periods"])
        if not periods or len(set(periods)) != len(periods) or \
                data["baseline"]["period"] in periods:
            raise FoldError(position, "follow-up periods must be distinct and differ from the "
                                      "baseline period")
        old = state["indicators"].get(key, {})
        state["indicators"][key] = {
            "indicator": key, "project": project["project"], "name": data["name"],
            "unit": data["unit"], "area": data["area"], "source": data["source"],
            "baseline": {"period": data["baseline"]["period"],
                         "value": data["baseline"]["value"]},
            "followup_periods": periods, "values": old.get("values", {}),
            "entries": {"definition": position}}
        if key not in project["indicators"]:
            project["indicators"].append(key)
        return key
    if kind == "indicator.value":
        indicator = state["indicators"].get(data.get("indicator"))
        if indicator is None:
            raise FoldError(position, f"unknown indicator {data.get('indicator')!r}")
        if data["period"] not in indicator["followup_periods"]:
            raise FoldError(position, f"period {data['period']!r} is not a follow-up period")
        decimal_value(data["value"])
        indicator["values"][data["period"]] = {"value": data["value"], "source": data["source"],
                                              "entry": position}
        return f"{indicator['indicator']}@{data['period']}"
    return _apply_survey(state, position, kind, data)


def _apply_delivery(project: dict, position: int, kind: str, data: dict) -> None:
    field = kind.split(".", 1)[1]
    if field == "status":
        status, reason = data["status"], data.get("reason", "")
        if status not in STATUSES:
            raise FoldError(position, f"unknown status {status!r}")
        if data.get("corrects") is None and status not in TRANSITIONS[project["status"]]:
            raise FoldError(position, f"{project['project']}: {project['status']} cannot "
                                      f"become {status}")
        if status in REASON_NEEDED and not reason.strip():
            raise FoldError(position, f"{project['project']}: {status} needs a public reason")
        project["status"], project["status_reason"] = status, reason
        if status == "delivered":
            project["progress"] = 100
    elif field == "progress":
        percent = data["percent"]
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100:
            raise FoldError(position, "progress must be a whole percentage from 0 to 100")
        project["progress"] = percent
    elif field == "money":
        committed, spent, reason = data["committed"], data["spent"], data.get("reason", "")
        for value in (committed, spent):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise FoldError(position, "money must be whole, non-negative amounts")
        if max(committed, spent) > project["cost"] and not reason.strip():
            raise FoldError(position, f"{project['project']}: spending over the cost "
                                      f"({project['cost']}) without a public reason")
        project.update(committed=committed, spent=spent, overrun_reason=reason)
    elif field == "responsible":
        project["responsible"] = data["responsible"]
    elif field == "milestone":
        for key in ("planned", "actual"):
            if data.get(key) is not None and not DAY.match(str(data[key])):
                raise FoldError(position, f"milestone {key} date is not YYYY-MM-DD")
        if data.get("planned") is None:
            raise FoldError(position, "a milestone needs a planned date")
        project["milestones"][data["milestone"]] = {
            "milestone": data["milestone"], "title": data["title"], "planned": data["planned"],
            "actual": data.get("actual"), "entry": position}
    elif field == "update":
        photo = data.get("photo")
        if photo is not None and not re.match(r"^[0-9a-f]{64}$", str(photo.get("sha256"))):
            raise FoldError(position, "a photo needs its SHA-256")
        project["updates"].append({"text": data["text"], "photo": photo, "day": data["day"],
                                   "entry": position, "corrected_by": None})
    project["entries"][field if field != "milestone" else f"milestone:{data['milestone']}"] = \
        position


def _replace_update(project: dict, corrected: int, position: int) -> None:
    new = project["updates"].pop()
    for update in project["updates"]:
        if update["entry"] == corrected:
            update["corrected_by"] = position
    new["corrects"] = corrected
    project["updates"].append(new)


def _apply_survey(state: dict, position: int, kind: str, data: dict) -> str:
    key = data.get("round")
    surveys = state["surveys"]
    if kind == "survey.opened":
        if key in surveys:
            raise FoldError(position, f"survey round {key!r} already exists")
        surveys[key] = {"round": key, "district": data["district"], "label": data["label"],
                        "question": data["question"], "open": True, "responses": None,
                        "answers": None, "comments": [], "entry": position}
        return key
    survey = surveys.get(key)
    if survey is None:
        raise FoldError(position, f"unknown survey round {key!r}")
    if kind == "survey.closed":
        if not survey["open"]:
            raise FoldError(position, f"survey round {key!r} is already closed")
        total, answers = data["responses"], data["answers"]
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise FoldError(position, "the number of responses is a whole number")
        if (total >= SURVEY_MIN_CELL) != (answers is not None) or (
                answers is not None and (len(answers) != len(SURVEY_SCALE) or
                                         sum(answers) != total or min(answers) < 0)):
            raise FoldError(position, f"survey round {key!r}: the answers must add up to the "
                                      f"responses, and be given only from {SURVEY_MIN_CELL}")
        survey.update(open=False, responses=total, answers=answers, closed_entry=position)
    elif kind == "survey.comment":
        survey["comments"].append({"text": data["text"], "entry": position})
    return key


# ----- what is published: delivery.json, delivery.csv, survey figures ----------------------
def survey_figures(survey: dict) -> dict:
    """What the public sees of one round: nothing while it is open; once closed, the number
    of responses, and the distribution and comments only from SURVEY_MIN_CELL answers."""
    shown = survey["answers"] is not None
    return {"round": survey["round"], "district": survey["district"], "label": survey["label"],
            "question": survey["question"], "open": survey["open"],
            "responses": survey["responses"], "answers": survey["answers"],
            "comments": [c["text"] for c in survey["comments"]] if shown else [],
            "shown": shown}


def public_document(state: dict, head: tuple[int, str]) -> dict:
    """delivery.json: the fold, with each value's chain position, and the head it came from."""
    opened = state["opened"] or {}
    projects = []
    for code in sorted(state["projects"]):
        project = dict(state["projects"][code])
        project["milestones"] = sorted(project["milestones"].values(),
                                       key=lambda m: (m["planned"], m["milestone"]))
        projects.append(project)
    return {"format": 1, "cycle": opened.get("cycle"),
            "results_hash": opened.get("results_hash"),
            "cycle_chain": opened.get("cycle_chain"),
            "delivery_chain": {"length": head[0], "head": head[1]},
            "projects": projects,
            "indicators": [state["indicators"][k] for k in sorted(state["indicators"])],
            "surveys": [survey_figures(state["surveys"][k]) for k in sorted(state["surveys"])]}


def overruns(state: dict) -> list[dict]:
    return [p for p in state["projects"].values() if max(p["committed"], p["spent"]) > p["cost"]]


def csv_text(document: dict) -> str:
    """delivery.csv: one row per funded project."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in document["projects"]:
        done = sum(1 for m in p["milestones"] if m["actual"])
        writer.writerow([p["district"], p["project"], p["title"], p["cost"], p["status"],
                         p["status_reason"], p["progress"], p["committed"], p["spent"],
                         p["overrun_reason"], p["responsible"], done, len(p["milestones"]),
                         len(p["updates"]), max(p["entries"].values())])
    return out.getvalue()


SURVEY_CSV_COLUMNS = ("round", "district", "responses", "answer_1", "answer_2", "answer_3",
                      "answer_4", "answer_5")


def survey_counts(rows: list[tuple[str, str, int]]) -> dict[str, dict]:
    """Stored responses (round, district, answer) → round → {district, responses, answers}."""
    counts: dict[str, dict] = {}
    for key, district, answer in rows:
        cell = counts.setdefault(key, {"district": district, "responses": 0, "answers": [0] * 5})
        cell["responses"] += 1
        cell["answers"][answer - 1] += 1
    return counts


def survey_csv_text(counts: dict[str, dict], closed: dict[str, str]) -> str:
    """survey-responses.csv: the stored responses of each closed round, counted; the answers
    only where at least SURVEY_MIN_CELL people answered (smaller cells show only the total)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SURVEY_CSV_COLUMNS)
    for key in sorted(closed):  # round → district
        cell = counts.get(key, {"responses": 0, "answers": [0] * 5})
        shown = cell["responses"] >= SURVEY_MIN_CELL
        writer.writerow([key, closed[key], cell["responses"],
                         *(cell["answers"] if shown else [""] * 5)])
    return out.getvalue()
