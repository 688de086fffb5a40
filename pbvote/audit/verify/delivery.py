"""Checks of a delivery bundle (pbvote.services.delivery.export), in order:

  delivery-files     SHA256SUMS lists exactly the files there are, and every hash holds
  delivery-chain     the delivery chain's positions, links and hashes; its head equals
                     delivery_head.txt; it opens with delivery.opened naming the SHA-256 of
                     results.json (so no entry was altered, inserted or removed)
  delivery-records   every project results.json funded has a delivery record, and only those
  delivery-overrun   every money entry over the project's cost carries a public reason
  delivery-values    delivery.json and delivery.csv equal a fresh fold of the chain: every
                     value shown has its chain entry
  delivery-photos    every update photo is in the bundle with the SHA-256 its entry records
  survey-counts      the stored survey answers (survey-responses.csv) equal the counts each
                     closed round's chain entry records

Pure: the standard library and pbvote.audit only.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json

from pbvote.audit import delivery as rules
from pbvote.audit.chain import ChainEntry, verify_chain
from pbvote.audit.verify.reading import parse_sums, read_json, read_text
from pbvote.audit.verify.report import CheckFailed, Report
from pbvote.audit.verify.run import run_checks

REQUIRED = ("delivery.json", "delivery.csv", "delivery-chain.jsonl", "delivery_head.txt",
            "results.json", "survey-responses.csv")


class DeliveryState:
    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.sums: dict[str, str] = {}
        self.entries: list[tuple[int, str, dict]] = []
        self.results: dict = {}
        self.folded: dict = {}


def is_delivery_bundle(files: dict[str, bytes]) -> bool:
    return "delivery.json" in files


def check_files(state: DeliveryState) -> str:
    if "SHA256SUMS" not in state.files:
        raise CheckFailed("SHA256SUMS is missing")
    state.sums = parse_sums(read_text(state.files, "SHA256SUMS"))
    for name in REQUIRED:
        if name not in state.sums:
            raise CheckFailed(f"{name} is not listed in SHA256SUMS")
    if set(state.sums) != set(state.files) - {"SHA256SUMS"}:
        diff = sorted(set(state.sums) ^ (set(state.files) - {"SHA256SUMS"}))
        raise CheckFailed(f"files and SHA256SUMS differ: {', '.join(diff)}")
    for name, expected in sorted(state.sums.items()):
        if hashlib.sha256(state.files[name]).hexdigest() != expected:
            raise CheckFailed(f"{name}: SHA-256 differs from SHA256SUMS")
    return f"{len(state.sums)} files listed, present and matching"


def check_chain(state: DeliveryState) -> str:
    lines = read_text(state.files, "delivery-chain.jsonl").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    report = verify_chain(ChainEntry(r["position"], r["entry_json"], r["previous_hash"],
                                     r["entry_hash"]) for r in records)
    if not report.ok:
        raise CheckFailed(f"chain broken after entry {report.verified_length}: {report.problem}")
    head = read_text(state.files, "delivery_head.txt").split()
    if len(head) != 2 or head != [report.head_hash, str(report.verified_length)]:
        raise CheckFailed(f"the chain ends at entry {report.verified_length} with head "
                          f"{report.head_hash}, but delivery_head.txt says {' '.join(head)}")
    state.entries = []
    for record in records:
        entry = json.loads(record["entry_json"])
        if entry["kind"] != record["kind"]:
            raise CheckFailed(f"entry {record['position']}: kind column differs from the "
                              f"hashed entry")
        state.entries.append((entry["position"], entry["kind"], entry["data"]))
    if not state.entries or state.entries[0][1] != "delivery.opened":
        raise CheckFailed("the chain does not open with delivery.opened")
    results_hash = hashlib.sha256(state.files["results.json"]).hexdigest()
    if state.entries[0][2]["results_hash"] != results_hash:
        raise CheckFailed("delivery.opened names other results than results.json")
    state.results = read_json(state.files, "results.json")
    return f"{report.verified_length} entries verified; head {report.head_hash}"


def check_records(state: DeliveryState) -> str:
    funded = {code for district in state.results["districts"]
              for code in district["outcome"]["selected"]}
    opened = {item["project"] for item in state.entries[0][2]["funded"]}
    shown = {p["project"] for p in read_json(state.files, "delivery.json")["projects"]}
    for name, found in (("delivery.opened", opened), ("delivery.json", shown)):
        if found != funded:
            missing, extra = sorted(funded - found), sorted(found - funded)
            raise CheckFailed(f"{name}: funded projects without a record {missing}, records "
                              f"of projects not funded {extra}")
    return f"{len(funded)} funded projects, each with a delivery record"


def check_overrun(state: DeliveryState) -> str:
    costs = {item["project"]: int(item["cost"]) for item in state.entries[0][2]["funded"]}
    count = 0
    for position, kind, data in state.entries:
        if kind == "delivery.money" and \
                max(data["committed"], data["spent"]) > costs.get(data["project"], 0):
            count += 1
            if not str(data.get("reason", "")).strip():
                raise CheckFailed(f"entry {position}: {data['project']} is over its cost "
                                  f"({costs.get(data['project'])}) without a public reason")
    return f"{count} money entries over cost, each with a public reason"


def check_values(state: DeliveryState) -> str:
    try:
        state.folded = rules.fold(state.entries)
    except rules.FoldError as error:
        raise CheckFailed(str(error)) from None
    expected = rules.public_document(state.folded, (len(state.entries),
                                                    read_text(state.files,
                                                              "delivery_head.txt").split()[0]))
    published = read_json(state.files, "delivery.json")
    expected = json.loads(json.dumps(expected))
    if published != expected:
        for key in expected:
            if published.get(key) != expected.get(key):
                raise CheckFailed(f"delivery.json '{key}' differs from the fold of the chain")
        raise CheckFailed("delivery.json has fields the chain does not give")
    if read_text(state.files, "delivery.csv") != rules.csv_text(expected):
        raise CheckFailed("delivery.csv differs from the fold of the chain")
    return f"{len(expected['projects'])} records, {len(expected['indicators'])} indicators " \
           f"and {len(expected['surveys'])} survey rounds re-derived"


def check_photos(state: DeliveryState) -> str:
    count = 0
    for project in state.folded["projects"].values():
        for update in project["updates"]:
            photo = update["photo"]
            if photo is None:
                continue
            name = f"photos/{photo['name']}"
            if name not in state.files:
                raise CheckFailed(f"entry {update['entry']}: photo {name} is missing")
            if hashlib.sha256(state.files[name]).hexdigest() != photo["sha256"]:
                raise CheckFailed(f"entry {update['entry']}: {name} is not the photo logged")
            count += 1
    return f"{count} photos match their entries"


def check_survey(state: DeliveryState) -> str:
    rows = list(csv.reader(io.StringIO(read_text(state.files, "survey-responses.csv"))))
    if not rows or tuple(rows[0]) != rules.SURVEY_CSV_COLUMNS:
        raise CheckFailed("survey-responses.csv has the wrong header")
    stored = {row[0]: row for row in rows[1:]}
    closed = {k: s for k, s in state.folded["surveys"].items() if not s["open"]}
    if set(stored) != set(closed):
        raise CheckFailed(f"survey rounds in survey-responses.csv {sorted(stored)} differ from "
                          f"the closed rounds in the chain {sorted(closed)}")
    for key, survey in sorted(closed.items()):
        row = stored[key]
        answers = None if row[3] == "" else [int(v) for v in row[3:8]]
        if row[1] != survey["district"] or int(row[2]) != survey["responses"] or \
                answers != survey["answers"]:
            raise CheckFailed(f"survey round {key}: the stored answers ({row[2]}) differ from "
                              f"the counts logged when it closed ({survey['responses']})")
    return f"{len(closed)} closed survey rounds match the stored answers"


CHECKS = [("delivery-files", check_files), ("delivery-chain", check_chain),
          ("delivery-records", check_records), ("delivery-overrun", check_overrun),
          ("delivery-values", check_values), ("delivery-photos", check_photos),
          ("survey-counts", check_survey)]


def verify_delivery(files: dict[str, bytes]) -> Report:
    state = DeliveryState(files)
    report = Report()
    return run_checks(CHECKS, state, report)
