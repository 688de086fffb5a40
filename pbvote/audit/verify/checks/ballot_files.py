"""ballot-files: ballots.json, ballots.csv and each district's Pabulib file hold the same
ballots, and the Pabulib files' own claims (budget, costs, votes) hold."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import (
    BALLOTS_CSV_FILE,
    BALLOTS_JSON_FILE,
    CSV_HEADER,
    pabulib_file_name,
)
from pbvote.audit.verify.reading import read_json, read_text
from pbvote.audit.verify.report import CheckFailed, multiset_difference
from pbvote.audit.verify.shared import (
    ballot_text,
    ballot_text_counts,
    district_instance,
    district_profile,
)
from pbvote.tally import TallyInputError, parse_pabulib
from pbvote.tally.pabulib import PabulibError


def check_ballot_files(state: State) -> str:
    document = read_json(state.files, BALLOTS_JSON_FILE)
    state.ballots = {slug: list(document["districts"].get(slug, []))
                    for slug in state.districts}
    unknown = sorted(set(document["districts"]) - set(state.districts))
    if unknown:
        raise CheckFailed(f"{BALLOTS_JSON_FILE} has ballots for unknown districts {unknown}")
    expected = {slug: ballot_text_counts(ballots) for slug, ballots in state.ballots.items()}
    state.ballot_texts = expected
    for slug, ballots in state.ballots.items():
        district = state.districts[slug]
        try:
            district_profile(district, district_instance(district), ballots)
        except (TallyInputError, TypeError, ValueError, AttributeError) as exc:
            raise CheckFailed(f"{BALLOTS_JSON_FILE}, district {slug}: {exc}") from None
    from_csv = _csv_ballots(state)
    for slug in state.districts:
        if from_csv.get(slug, Counter()) != expected[slug]:
            raise CheckFailed(multiset_difference(
                f"{BALLOTS_CSV_FILE} and {BALLOTS_JSON_FILE}, district {slug}",
                from_csv.get(slug, Counter()), expected[slug]))
    for slug, district in state.districts.items():
        name = pabulib_file_name(slug)
        if name not in state.files:
            raise CheckFailed(f"{name} is missing")
        from_pb = _pabulib_ballots(state, name, district)
        if from_pb != expected[slug]:
            raise CheckFailed(multiset_difference(f"{name} and {BALLOTS_JSON_FILE}",
                                                   from_pb, expected[slug]))
    total = sum(len(b) for b in state.ballots.values())
    return f"{total} ballots; JSON, CSV and {len(state.districts)} Pabulib files agree"

def _csv_ballots(state: State) -> dict[str, Counter]:
    reader = csv.reader(io.StringIO(read_text(state.files, BALLOTS_CSV_FILE)))
    rows = list(reader)
    if not rows or rows[0] != CSV_HEADER:
        raise CheckFailed(f"{BALLOTS_CSV_FILE}: the header must be {','.join(CSV_HEADER)}")
    found: dict[str, Counter] = {}
    texts: dict[str, str] = {}  # as written → canonical: each distinct ballot decoded once
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise CheckFailed(f"{BALLOTS_CSV_FILE}, line {number}: expected 2 fields")
        text = texts.get(row[1])
        if text is None:
            try:
                text = texts[row[1]] = ballot_text(json.loads(row[1]))
            except ValueError:
                raise CheckFailed(
                    f"{BALLOTS_CSV_FILE}, line {number}: the ballot is not JSON") from None
        found.setdefault(row[0], Counter())[text] += 1
    unknown = sorted(set(found) - set(state.districts))
    if unknown:
        raise CheckFailed(f"{BALLOTS_CSV_FILE} has ballots for unknown districts {unknown}")
    return found

def _pabulib_ballots(state: State, name: str, district: dict) -> Counter:
    try:
        pb = parse_pabulib(read_text(state.files, name), name)
    except PabulibError as exc:
        raise CheckFailed(str(exc)) from None
    kind = district["ballot"]["kind"]
    as_written: Counter = Counter(
        (row["vote"], row.get("points") if kind == "cumulative" else None) for row in pb.votes)
    found: Counter = Counter()  # each distinct vote (and points) read once
    for (vote, points_text), count in as_written.items():
        ids = [x.strip() for x in vote.split(",")] if vote.strip() else []
        if kind == "cumulative":
            if ids and points_text is None:
                raise KeyError("points")
            points = [int(x) for x in points_text.split(",")] if ids else []
            selections: Any = dict(zip(ids, points))
        elif kind == "ranked":
            selections = ids
        else:
            selections = sorted(ids)
        found[ballot_text(selections)] += count
    if pb.meta.get("budget") != str(district["budget"]):
        raise CheckFailed(f"{name}: budget {pb.meta.get('budget')} differs from the manifest's "
                          f"{district['budget']}")
    costs = {row["project_id"]: row["cost"] for row in pb.projects}
    manifest_costs = {p["id"]: str(p["cost"]) for p in district["projects"]}
    if costs != manifest_costs:
        raise CheckFailed(f"{name}: projects and costs differ from the manifest")
    _check_pabulib_claims(state, name, district, pb)
    return found

def _check_pabulib_claims(state: State, name: str, district: dict, pb) -> None:
    """The PROJECTS table's 'votes' and 'selected' columns are claims a reader may take at
    face value: they must match the file's own votes and the published selection."""
    supporters: Counter = Counter()
    for row in pb.votes:
        supporters.update({x.strip() for x in row["vote"].split(",") if x.strip()})
    for row in pb.projects:
        if "votes" in row and row["votes"] != str(supporters[row["project_id"]]):
            raise CheckFailed(f"{name}: project {row['project_id']} claims {row['votes']} "
                              f"votes, but {supporters[row['project_id']]} ballots name it")
    if any("selected" in row for row in pb.projects):  # compared in check_tally
        state.pb_selected[district["slug"]] = (name, {
            row["project_id"] for row in pb.projects if row.get("selected") == "1"})
