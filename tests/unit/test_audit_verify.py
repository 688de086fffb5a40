"""The standalone verifier on bundles built in memory: no Flask, no database."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pbvote.audit import bundle as bundle_format
from pbvote.audit import suppression, verify
from pbvote.audit.chain import GENESIS_HASH, canonical_json, entry_hash, receipt_from_entry_hash
from pbvote.tally import run_rule
from pbvote.tally.analysis import analyse

REPO_ROOT = Path(__file__).resolve().parents[2]

MANIFEST = {
    "cycle": {"slug": "c1", "name": "Cycle one", "city": "Town", "currency": "USD",
              "total_budget": 200, "timezone": "UTC", "tie_break_seed": "seed-1"},
    "eligibility": {"minimum_age": 16, "methods": ["roll"], "self_declared_residence": False},
    "phases": [],
    "districts": [
        {"slug": "north", "name": "North", "budget": 100,
         "ballot": {"kind": "approval", "max_choices": 2, "min_choices": 0,
                    "min_spend_percent": 0, "points": None, "max_points_per_project": None},
         "tally": {"rule": "greedy", "params": {}},
         "projects": [{"id": "N-A", "title": "A", "cost": 60, "category": ""},
                      {"id": "N-B", "title": "B", "cost": 40, "category": ""},
                      {"id": "N-C", "title": "C", "cost": 30, "category": ""}]},
        {"slug": "south", "name": "South", "budget": 100,
         "ballot": {"kind": "ranked", "max_choices": 2, "min_choices": 0,
                    "min_spend_percent": 0, "points": None, "max_points_per_project": None},
         "tally": {"rule": "greedy", "params": {"scoring_fn": "borda"}},
         "projects": [{"id": "S-A", "title": "A", "cost": 70, "category": ""},
                      {"id": "S-B", "title": "B", "cost": 50, "category": ""},
                      {"id": "S-C", "title": "C", "cost": 20, "category": ""}]},
        {"slug": "west", "name": "West", "budget": 100,
         "ballot": {"kind": "cumulative", "max_choices": None, "min_choices": 0,
                    "min_spend_percent": 0, "points": 5, "max_points_per_project": 5},
         "tally": {"rule": "equalshares/add1", "params": {}},
         "projects": [{"id": "W-A", "title": "A", "cost": 60, "category": ""},
                      {"id": "W-B", "title": "B", "cost": 50, "category": ""}]},
    ],
}
CAST = [  # (district, channel, selections) in casting order
    ("north", "online", ["N-A", "N-B"]), ("north", "online", ["N-A"]),
    ("north", "kiosk", ["N-B", "N-C"]), ("north", "online", ["N-A"]),
    ("south", "online", ["S-B", "S-A"]), ("south", "online", ["S-C"]),
    ("south", "kiosk", ["S-A", "S-C"]),
    ("west", "online", {"W-A": 3, "W-B": 2}), ("west", "online", {"W-B": 5}),
]


def make_chain(cast=CAST, cycle="c1") -> list[dict]:
    entries, previous = [], GENESIS_HASH

    def add(kind, data):
        nonlocal previous
        position = len(entries) + 1
        text = canonical_json({"position": position, "kind": kind, "data": data})
        digest = entry_hash(previous, text)
        entries.append({"position": position, "kind": kind, "entry_json": text,
                        "previous_hash": previous, "entry_hash": digest})
        previous = digest

    add("voting.opened", {"actor": "demo", "manifest_hash": verify.manifest_digest(MANIFEST)})
    for number, (district, channel, selections) in enumerate(cast):
        add("ballot", {"ballot_id": f"{number:032x}", "cycle": cycle, "district": district,
                       "channel": channel, "selections": selections})
    add("voting.closed", {"actor": "staff@example.org"})
    return entries


def turnout_tables_for(participation: dict) -> dict:
    """results.json's public turnout tables from participations per district and channel
    (one day; every age unknown), as services.turnout.public_tables writes them."""
    rows = [d["slug"] for d in MANIFEST["districts"]]
    tables = {"threshold": suppression.THRESHOLD, "reference_day": "2027-05-01"}
    channels = sorted({c for counts in participation.values() for c in counts})
    for kind, columns, cells in (
            ("channel", channels, {(s, c): n for s, counts in participation.items()
                                   for c, n in counts.items()}),
            ("day", ["2027-05-01"], {(s, "2027-05-01"): sum(c.values())
                                     for s, c in participation.items()}),
            ("age", ["unknown"], {(s, "unknown"): sum(c.values())
                                  for s, c in participation.items()})):
        tables[kind] = suppression.suppress(suppression.build(rows, columns, cells)).published()
    return tables


def results_for(ballots_by_district: dict, participation: dict, chain: list[dict]) -> dict:
    """The parts of pbvote.services.publication's results document (format 1) the verifier
    reads, computed here from plain data."""
    districts = []
    for district in MANIFEST["districts"]:
        slug = district["slug"]
        instance = verify.district_instance(district)
        ballots = ballots_by_district[slug]
        profile = verify.district_profile(district, instance, ballots)
        outcome = run_rule(instance, profile, district["tally"]["rule"],
                           verify.tally_params(MANIFEST, district))
        scoring_fn = district["tally"]["params"].get("scoring_fn")
        supporters = profile.supporters()
        districts.append({
            "slug": slug, "outcome": outcome.to_dict(), "ballots": len(ballots),
            "analysis": analyse(instance, profile, outcome),
            "ballots_by_channel": dict(participation[slug]),
            "participations": {"total": sum(participation[slug].values()),
                               "by_channel": dict(participation[slug])},
            "projects": [{"id": p["id"], "supporters": supporters[p["id"]]}
                         for p in district["projects"]],
            "scores": {pid: verify.exact_json(v) for pid, v in profile.scores(scoring_fn).items()},
        })
    counted = [e for e in chain if e["kind"] != "voting.closed"]
    tables = turnout_tables_for(participation)
    return {"format": 1, "turnout_tables": tables,
            "manifest_hash": verify.manifest_digest(MANIFEST),
            "tie_break_seed": MANIFEST["cycle"]["tie_break_seed"],
            "chain": {"length": len(counted), "head": counted[-1]["entry_hash"]},
            "districts": districts}


def district_entry(results: dict, slug: str) -> dict:
    return next(d for d in results["districts"] if d["slug"] == slug)


def make_bundle(chain: list[dict]) -> dict[str, bytes]:
    ballots: dict[str, list] = {d["slug"]: [] for d in MANIFEST["districts"]}
    receipts: dict[str, list] = {d["slug"]: [] for d in MANIFEST["districts"]}
    participation: dict[str, dict] = {d["slug"]: {} for d in MANIFEST["districts"]}
    for entry in chain:
        if entry["kind"] != "ballot":
            continue
        data = json.loads(entry["entry_json"])["data"]
        ballots[data["district"]].append(data["selections"])
        receipts[data["district"]].append(receipt_from_entry_hash(entry["entry_hash"]))
        channels = participation[data["district"]]
        channels[data["channel"]] = channels.get(data["channel"], 0) + 1
    results = results_for(ballots, participation, chain)
    return bundle_format.build_bundle(bundle_format.BundleInput(
        manifest=MANIFEST, manifest_hash=verify.manifest_digest(MANIFEST), ballots=ballots,
        receipts=receipts, participation=participation, results_json=canonical_json(results),
        selected={d["slug"]: d["outcome"]["selected"] for d in results["districts"]},
        chain_head=chain[-1]["entry_hash"], chain_length=len(chain)))


def resum(files: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute SHA256SUMS after an edit, as a careful forger would."""
    files = {name: data for name, data in files.items() if name != verify.SUMS_FILE}
    files[verify.SUMS_FILE] = verify.render_sums(files).encode()
    return files


@pytest.fixture
def chain():
    return make_chain()


@pytest.fixture
def files(chain):
    return make_bundle(chain)


def failed_check(report: verify.Report) -> str | None:
    failure = report.first_failure
    return None if failure is None else failure.name


def test_an_honest_bundle_and_chain_pass(files, chain):
    report = verify.verify_files(files)
    assert report.ok, report.text()
    assert [c.name for c in report.checks] == ["files", "sha256", "manifest-hash", "ballot-files",
                                               "counts", "scores", "tally", "explanations",
                                               "turnout-tables"]
    full = verify.verify_files(files, chain)
    assert full.ok, full.text()
    assert len(full.checks) == 13
    assert "ALL CHECKS PASSED for the bundle and chain export." in full.text()


def test_the_bundle_holds_no_receipt_beside_a_ballot_and_shuffles(files):
    ballots = json.loads(files[verify.BALLOTS_JSON_FILE])
    receipts = verify.parse_receipts(files[verify.RECEIPTS_FILE].decode())
    for name, data in files.items():
        if name == verify.RECEIPTS_FILE:
            continue
        for codes in receipts.values():
            for code in codes:
                assert code not in data.decode(), f"{code} appears in {name}"
    assert sorted(receipts["north"]) == receipts["north"]
    assert len(ballots["districts"]["north"]) == 4
    orders = {canonical_json(json.loads(make_bundle(make_chain())[verify.BALLOTS_JSON_FILE])
                             ["districts"]["north"]) for _ in range(30)}
    assert len(orders) > 1, "ballot order never changes: it is not shuffled"


@pytest.mark.parametrize("name", ["manifest.json", "ballots.json", "ballots.csv", "receipts.txt",
                                  "results.json", "participation.json", "chain_head.txt",
                                  "SHA256SUMS", "ballots-north.pb", "ballots-south.pb",
                                  "ballots-west.pb"])
def test_editing_any_file_fails(files, chain, name):
    edited = dict(files)
    edited[name] = files[name] + b"\n "
    report = verify.verify_files(edited, chain)
    assert not report.ok
    assert failed_check(report) in ("sha256", "files")
    assert name in report.first_failure.detail or "SHA256SUMS" in report.first_failure.detail


def test_a_missing_or_extra_file_fails(files):
    fewer = dict(files)
    del fewer["ballots-west.pb"]
    report = verify.verify_files(fewer)
    assert failed_check(report) == "files" and "ballots-west.pb" in report.first_failure.detail
    more = dict(files, **{"notes.txt": b"hello"})
    assert failed_check(verify.verify_files(more)) == "files"


def _edit_json(files, name, change):
    document = json.loads(files[name])
    change(document)
    edited = dict(files)
    edited[name] = json.dumps(document).encode()
    return resum(edited)


# A forger who also rewrites SHA256SUMS is caught by what the files say to each other.
def test_resummed_manifest_edit_fails_the_manifest_hash(files):
    def cheaper(doc):
        doc["manifest"]["districts"][0]["projects"][0]["cost"] = 10
    report = verify.verify_files(_edit_json(files, "manifest.json", cheaper))
    assert failed_check(report) == "manifest-hash"


def test_resummed_ballot_swap_fails_the_ballot_files_check(files):
    def swap(doc):
        doc["districts"]["north"][0] = ["N-C"]
    report = verify.verify_files(_edit_json(files, "ballots.json", swap))
    assert failed_check(report) == "ballot-files"
    assert "ballots.csv and ballots.json, district north differ" in report.first_failure.detail


@pytest.mark.parametrize("slug,old,new", [
    ("north", ["N-A"], ["N-C"]),
    ("south", ["S-B", "S-A"], ["S-A", "S-B"]),  # same projects, other order
    ("west", {"W-B": 5}, {"W-A": 1, "W-B": 4}),
])
def test_resummed_consistent_ballot_edit_fails_the_scores(files, slug, old, new):
    """Change one ballot in all three ballot files: the re-counted scores show it, even when
    the winners stay the same."""
    ballots = json.loads(files["ballots.json"])["districts"][slug]
    ballots[ballots.index(old)] = new
    report = verify.verify_files(make_forged_ballots(files, slug, ballots))
    assert failed_check(report) == "scores"
    assert f"district {slug}, project" in report.first_failure.detail


def make_forged_ballots(files, slug, new_ballots):
    document = json.loads(files["ballots.json"])
    document["districts"][slug] = new_ballots
    district = next(d for d in MANIFEST["districts"] if d["slug"] == slug)
    edited = dict(files)
    edited["ballots.json"] = json.dumps(document).encode()
    edited["ballots.csv"] = bundle_format._ballots_csv(document["districts"])
    edited[verify.pabulib_file_name(slug)] = bundle_format._pabulib(
        MANIFEST, district, new_ballots, None).encode()
    return resum(edited)


def test_resummed_extra_receipt_fails_the_counts(files):
    edited = dict(files)
    edited["receipts.txt"] = files["receipts.txt"] + b"north ABCDE-12345\n"
    report = verify.verify_files(resum(edited))
    assert failed_check(report) == "counts"
    assert "district north: 4 ballots, 5 receipts, 4 participations" in report.first_failure.detail


def test_resummed_participation_edit_fails_the_counts(files):
    def more(doc):
        doc["districts"]["south"]["online"] += 1
    report = verify.verify_files(_edit_json(files, "participation.json", more))
    assert failed_check(report) == "counts"


def test_resummed_outcome_edit_fails_the_tally(files):
    def other_winner(doc):
        district_entry(doc, "north")["outcome"]["selected"] = ["N-B", "N-C"]
    report = verify.verify_files(_edit_json(files, "results.json", other_winner))
    assert failed_check(report) == "tally"
    assert "district north: the re-count gives selected" in report.first_failure.detail


def test_tampered_chain_entry_fails_integrity(files, chain):
    tampered = [dict(e) for e in chain]
    data = json.loads(tampered[2]["entry_json"])
    data["data"]["selections"] = ["N-C"]
    tampered[2]["entry_json"] = canonical_json(data)
    report = verify.verify_files(files, tampered)
    assert failed_check(report) == "chain-integrity"
    assert "entry 3: hash mismatch" in report.first_failure.detail


def test_a_consistently_rewritten_chain_fails_at_the_published_head(files):
    """Re-hash the whole chain with one ballot changed: the head no longer matches."""
    cast = list(CAST)
    cast[1] = ("north", "online", ["N-C"])
    report = verify.verify_files(files, make_chain(cast))
    assert failed_check(report) == "chain-integrity"
    assert "chain_head.txt publishes" in report.first_failure.detail


def test_a_truncated_chain_fails(files, chain):
    report = verify.verify_files(files, chain[:-1])
    assert failed_check(report) == "chain-integrity"


def test_chain_and_bundle_of_different_ballots_fail_chain_ballots(chain):
    """A bundle made (and signed off) from other ballots than the chain holds."""
    cast = list(CAST)
    cast[1] = ("north", "online", ["N-C"])
    other_chain = make_chain(cast)
    files = make_bundle(other_chain)
    head_line = f"{chain[-1]['entry_hash']} {len(chain)}\n".encode()
    forged = dict(files, **{"chain_head.txt": head_line})
    receipts = {"north": [], "south": [], "west": []}
    for entry in chain:
        if entry["kind"] == "ballot":
            receipts[json.loads(entry["entry_json"])["data"]["district"]].append(
                receipt_from_entry_hash(entry["entry_hash"]))
    forged["receipts.txt"] = bundle_format._receipts_text("c1", receipts)
    results = json.loads(files["results.json"])
    results["chain"] = {"length": len(chain) - 1, "head": chain[-2]["entry_hash"]}
    forged["results.json"] = canonical_json(results).encode()
    report = verify.verify_files(resum(forged), chain)
    assert failed_check(report) == "chain-ballots"
    results["chain"] = {"length": 2, "head": chain[1]["entry_hash"]}
    forged["results.json"] = canonical_json(results).encode()
    report = verify.verify_files(resum(forged), chain)
    assert failed_check(report) == "chain-integrity"
    assert "is a ballot logged after the count (counted up to entry 2)" in \
        report.first_failure.detail


def test_receipts_that_do_not_derive_from_the_chain_fail(files, chain):
    text = files["receipts.txt"].decode().splitlines()
    last = text[-1].split()
    text[-1] = f"{last[0]} ZZZZZ-ZZZZZ"
    edited = dict(files, **{"receipts.txt": ("\n".join(text) + "\n").encode()})
    # re-derived with the cycle's receipt key (here the unkeyed derivation, "")
    report = verify.verify_files(resum(edited), chain, receipt_key="")
    assert failed_check(report) == "chain-receipts"
    # without the key only the numbers can be compared: one receipt fewer fails
    edited = dict(files, **{"receipts.txt": ("\n".join(text[:-1]) + "\n").encode()})
    report = verify.verify_files(resum(edited), chain)
    assert failed_check(report) in ("counts", "chain-receipts")


def test_without_the_receipt_key_receipts_are_compared_by_number(files, chain):
    report = verify.verify_files(files, chain)
    assert report.ok
    detail = next(c.detail for c in report.checks if c.name == "chain-receipts")
    assert "receipt key" in detail


def test_channel_counts_are_reconciled_with_the_chain(chain):
    files = make_bundle(chain)
    results = json.loads(files["results.json"])
    district_entry(results, "north")["participations"]["by_channel"] = {"online": 4}
    participation = json.loads(files["participation.json"])
    participation["districts"]["north"] = {"online": 4}
    forged = dict(files, **{"results.json": canonical_json(results).encode(),
                            "participation.json": json.dumps(participation).encode()})
    forged = resum(forged)
    assert verify.verify_files(forged).ok  # the bundle alone cannot see channels per ballot
    report = verify.verify_files(forged, chain)
    assert failed_check(report) == "chain-channels"


def test_command_line_on_a_directory_and_a_zip(files, chain, tmp_path):
    directory = tmp_path / "bundle"
    bundle_format.write_directory(files, directory)
    chain_file = tmp_path / "chain.jsonl"
    chain_file.write_text("".join(bundle_format.chain_export_line(**e) for e in chain))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(bundle_format.zip_bytes(files, "c1-results"))
    for target in (directory, archive):
        done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(target),
                               "--chain", str(chain_file)], capture_output=True, text=True,
                              cwd=REPO_ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ALL CHECKS PASSED" in done.stdout
    (directory / "receipts.txt").write_text("north ABCDE-12345\n")
    done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(directory)],
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 1
    assert "VERIFICATION FAILED at check 'sha256': receipts.txt" in done.stdout
    done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(tmp_path / "none")],
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_a_chain_export_checked_by_worker_processes_gives_the_same_report(
        files, chain, tmp_path, monkeypatch):
    """What the command line does with a city's export (workers, started before the bundle's
    checks), on this small one: the same report, honest or tampered, as in one process."""
    from pbvote.audit.verify import chain_scan

    monkeypatch.setattr(chain_scan, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(chain_scan, "_workers", lambda: 3)
    tampered = [dict(e) for e in chain]
    data = json.loads(tampered[5]["entry_json"])
    data["data"]["selections"] = ["S-C"]
    tampered[5]["entry_json"] = canonical_json(data)
    for entries in (chain, tampered, chain[:-1]):
        path = tmp_path / "chain.jsonl"
        path.write_text("".join(bundle_format.chain_export_line(**e) for e in entries))
        in_workers = verify.verify_files(files, verify.read_chain_export(path), parallel=True)
        assert in_workers.to_dict() == verify.verify_files(files, entries).to_dict()
    bad = dict(files, **{"results.json": b"{"})  # a bundle check fails: the workers are stopped
    report = verify.verify_files(bad, verify.read_chain_export(path), parallel=True)
    assert failed_check(report) == "sha256"


def test_the_pabulib_files_recount_with_the_tally_command_line(files, tmp_path):
    results = json.loads(files["results.json"])
    for district in MANIFEST["districts"]:
        path = tmp_path / verify.pabulib_file_name(district["slug"])
        path.write_bytes(files[path.name])
        done = subprocess.run([sys.executable, "-m", "pbvote.tally", str(path), "--json",
                               "--param", "tie_seed=seed-1"],
                              capture_output=True, text=True, cwd=REPO_ROOT)
        assert done.returncode == 0, done.stderr
        outcome = json.loads(done.stdout)
        published = district_entry(results, district["slug"])["outcome"]
        assert outcome["selected"] == published["selected"]


def test_the_verifier_imports_neither_flask_nor_sqlalchemy():
    code = ("import sys, pbvote.audit.verify, pbvote.audit.bundle; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'jinja2')); "
            "print(','.join(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-m", "pbvote.audit.verify",
                                 "--help"], capture_output=True, text=True, cwd=REPO_ROOT)
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in importtime.stderr.splitlines() if "|" in line}
    assert "pbvote" in imported
    assert not imported & {"flask", "sqlalchemy", "werkzeug"}


def _with_unused_check_in(files, paper_audit: dict | None):
    """North gets one more desk check-in that cast nothing (a cancelled kiosk pass)."""
    participation = json.loads(files["participation.json"])
    participation["districts"]["north"]["desk"] = 1
    results = json.loads(files["results.json"])
    district_entry(results, "north")["participations"]["by_channel"]["desk"] = 1
    results["turnout_tables"] = turnout_tables_for(participation["districts"])
    edited = dict(files, **{"participation.json": json.dumps(participation).encode(),
                            "results.json": canonical_json(results).encode()})
    if paper_audit is not None:
        edited[verify.PAPER_AUDIT_FILE] = json.dumps(paper_audit).encode()
    return resum(edited)


def test_check_ins_without_a_ballot_must_be_published(files, chain):
    report = verify.verify_files(_with_unused_check_in(files, None), chain)
    assert failed_check(report) == "counts"
    assert "district north: 4 ballots, 4 receipts, 5 participations" in \
        report.first_failure.detail
    listed = _with_unused_check_in(files, {"districts": {"north": {"not_cast": 1}}})
    report = verify.verify_files(listed, chain)
    assert report.ok, report.text()
    assert "check-ins without a ballot {'north': 1}" in report.text()
    too_many = _with_unused_check_in(files, {"districts": {"north": {"not_cast": 2}}})
    report = verify.verify_files(too_many, chain)
    assert failed_check(report) == "counts" and "not_cast 2 must be" in report.first_failure.detail


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaf_paths(inner, (*path, key))
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            yield from _leaf_paths(inner, (*path, index))
    else:
        yield path


def _altered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return 0
    if isinstance(value, list):
        return ["N-A"]
    return f"{value}1" if not value[-1:].isdigit() else f"{value[:-1]}{(int(value[-1]) + 1) % 10}"


def test_every_explanation_figure_altered_fails_the_explanations(files):
    results = json.loads(files["results.json"])
    paths = [(d["slug"], path) for d in results["districts"]
             for path in _leaf_paths(d["analysis"])]
    kinds = {d["slug"]: d["analysis"]["kind"] for d in results["districts"]}
    assert set(kinds.values()) == {"greedy", "mes"}
    assert len(paths) > 40
    for slug, path in paths:
        def change(doc, slug=slug, path=path):
            target = district_entry(doc, slug)["analysis"]
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = _altered(target[path[-1]])
        report = verify.verify_files(_edit_json(files, "results.json", change))
        assert failed_check(report) == "explanations", (slug, path, report.text())
        assert f"district {slug}: analysis/" in report.first_failure.detail


def test_missing_explanations_fail(files):
    def drop(doc):
        del district_entry(doc, "north")["analysis"]
    report = verify.verify_files(_edit_json(files, "results.json", drop))
    assert failed_check(report) == "explanations"


def test_turnout_tables_that_show_a_small_cell_or_disagree_fail(files):
    def small(doc):
        doc["turnout_tables"]["channel"]["cells"]["north"]["online"] = 4
    report = verify.verify_files(_edit_json(files, "results.json", small))
    assert failed_check(report) == "turnout-tables"
    assert "fewer than 10" in report.first_failure.detail

    def unhide_one(doc):   # showing one hidden cell of a cycle lets the rest be worked out
        table = doc["turnout_tables"]["channel"]
        table["cells"]["total"]["total"] = 9
    report = verify.verify_files(_edit_json(files, "results.json", unhide_one))
    assert failed_check(report) == "turnout-tables"

    def missing(doc):
        del doc["turnout_tables"]
    report = verify.verify_files(_edit_json(files, "results.json", missing))
    assert failed_check(report) == "turnout-tables"


def test_a_chain_export_with_a_line_separator_inside_an_entry_verifies(tmp_path):
    """The export is JSON lines split on "\\n" only: U+2028 may stand unescaped in a staff
    note (canonical JSON keeps it), and str.splitlines used to cut the entry there."""
    from pbvote.audit import bundle as bundle_format

    chain = make_chain()
    last = chain[-1]
    # (as the closing entry's kind: results_for counts the chain up to the closing entries)
    text = canonical_json({"position": last["position"] + 1, "kind": "voting.closed",
                           "data": {"actor": "staff", "note": "line\u2028separator\u2029too"}})
    chain.append({"position": last["position"] + 1, "kind": "voting.closed", "entry_json": text,
                  "previous_hash": last["entry_hash"],
                  "entry_hash": entry_hash(last["entry_hash"], text)})
    folder = tmp_path / "bundle"
    bundle_format.write_directory(make_bundle(chain), folder)
    export = tmp_path / "chain.jsonl"
    export.write_text("".join(bundle_format.chain_export_line(
        e["position"], e["kind"], e["entry_json"], e["previous_hash"], e["entry_hash"])
        for e in chain), encoding="utf-8")
    report = verify.verify_path(folder, export)
    assert report.ok, report.text()
    assert len(report.checks) == 13


def test_turnout_tables_may_show_self_declared_online_apart_from_online():
    from types import SimpleNamespace

    from pbvote.audit.verify.checks.turnout_tables import check_turnout_tables
    from pbvote.audit.verify.report import CheckFailed

    participation = {"north": {"online": 30, "desk": 12}, "south": {"online": 25},
                     "west": {"online": 11}}
    shown = {"north": {"online": 18, "self-declared-online": 12, "desk": 12},
             "south": {"online": 25}, "west": {"online": 11}}
    state = SimpleNamespace(results={"turnout_tables": turnout_tables_for(shown)},
                            participation=participation)
    assert "none below" in check_turnout_tables(state)
    wrong = {**shown, "north": {"online": 18, "self-declared-online": 13, "desk": 12}}
    state = SimpleNamespace(results={"turnout_tables": turnout_tables_for(wrong)},
                            participation=participation)
    with pytest.raises(CheckFailed, match="north"):
        check_turnout_tables(state)
