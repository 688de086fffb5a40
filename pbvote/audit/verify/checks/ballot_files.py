"""ballot-files: ballots.json, ballots.csv and each district's Pabulib file hold the same
ballots, and the Pabulib files' own claims (budget, costs, votes) hold."""
from __future__ import annotations

from collections import Counter
from typing import Any

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.counting import (
    count_ballots,
    csv_ballot_counts,
    parse_pabulib_counted,
)
from pbvote.audit.verify.layout import BALLOTS_CSV_FILE, BALLOTS_JSON_FILE, pabulib_file_name
from pbvote.audit.verify.reading import read_json, read_text
from pbvote.audit.verify.report import CheckFailed, multiset_difference
from pbvote.audit.verify.shared import ballot_text, district_instance, district_profile_counted
from pbvote.tally import TallyInputError
from pbvote.tally.pabulib import PabulibError


def check_ballot_files(state: State) -> str:
    document = read_json(state.files, BALLOTS_JSON_FILE)
    published = {slug: list(document["districts"].get(slug, [])) for slug in state.districts}
    unknown = sorted(set(document["districts"]) - set(state.districts))
    del document
    if unknown:
        raise CheckFailed(f"{BALLOTS_JSON_FILE} has ballots for unknown districts {unknown}")
    # the counts are all that is kept of a city's ballots
    state.ballots = {slug: count_ballots(published.pop(slug)) for slug in state.districts}
    expected = {slug: counts.texts for slug, counts in state.ballots.items()}
    state.ballot_texts = expected
    for slug, counts in state.ballots.items():
        district = state.districts[slug]
        try:
            state.profiles[slug] = district_profile_counted(
                district, district_instance(district), counts.distinct)
        except (TallyInputError, TypeError, ValueError, AttributeError) as exc:
            raise CheckFailed(f"{BALLOTS_JSON_FILE}, district {slug}: {exc}") from None
    read_text(state.files, BALLOTS_CSV_FILE)  # UTF-8 throughout, before any row is read
    from_csv = csv_ballot_counts(state.files[BALLOTS_CSV_FILE])
    unknown = sorted(set(from_csv) - set(state.districts))
    if unknown:
        raise CheckFailed(f"{BALLOTS_CSV_FILE} has ballots for unknown districts {unknown}")
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
    total = sum(counts.total for counts in state.ballots.values())
    return f"{total} ballots; JSON, CSV and {len(state.districts)} Pabulib files agree"

def _pabulib_ballots(state: State, name: str, district: dict) -> Counter:
    try:
        pb, voters = parse_pabulib_counted(read_text(state.files, name), name)
    except PabulibError as exc:
        raise CheckFailed(str(exc)) from None
    kind = district["ballot"]["kind"]
    as_written: Counter = Counter()
    for row, times in zip(pb.votes, voters):
        as_written[(row["vote"], row.get("points") if kind == "cumulative" else None)] += times
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
    _check_pabulib_claims(state, name, district, pb, voters)
    return found

def _check_pabulib_claims(state: State, name: str, district: dict, pb,
                          voters: list[int]) -> None:
    """The PROJECTS table's 'votes' and 'selected' columns are claims a reader may take at
    face value: they must match the file's own votes and the published selection."""
    supporters: Counter = Counter()
    for row, times in zip(pb.votes, voters):
        for project in {x.strip() for x in row["vote"].split(",") if x.strip()}:
            supporters[project] += times
    for row in pb.projects:
        if "votes" in row and row["votes"] != str(supporters[row["project_id"]]):
            raise CheckFailed(f"{name}: project {row['project_id']} claims {row['votes']} "
                              f"votes, but {supporters[row['project_id']]} ballots name it")
    if any("selected" in row for row in pb.projects):  # compared in check_tally
        state.pb_selected[district["slug"]] = (name, {
            row["project_id"] for row in pb.projects if row.get("selected") == "1"})
