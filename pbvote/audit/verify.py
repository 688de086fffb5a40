"""The standalone verifier: ``python -m pbvote.audit.verify BUNDLE_DIR_OR_ZIP [--chain CHAIN]``.

It imports only the standard library, :mod:`pbvote.tally` and :mod:`pbvote.audit.chain`
(pure): no Flask, no database. It re-derives what the bundle claims and stops at the first
check that fails, naming it. Exit status: 0 when every check holds, 1 when one fails,
2 when the input cannot be read at all.

Checks, in order (a later check relies on the earlier ones):

bundle only
  files            every file named in SHA256SUMS is there, and no other file is
  sha256           every file's SHA-256 equals its line in SHA256SUMS
  manifest-hash    the manifest's hash equals the SHA-256 of its canonical JSON, and the
                   hash results.json was counted under
  ballot-files     ballots.json, ballots.csv and each ballots-<district>.pb hold the same
                   ballots (as a multiset), and every ballot names only the district's projects;
                   each .pb file's 'votes' column matches its ballots
  counts           per district: ballots = receipts = participations (less the desk
                   check-ins that cast nothing, when paper_audit.json lists them), and both
                   equal what results.json counted (participations also per channel)
  scores           per district: every project's supporters and score (votes, points or
                   ranking points), re-counted from the published ballots, equal results.json
                   (so changing a ballot after the count shows even where the winners stay)
  tally            per district: a fresh count of the published ballots with the manifest's
                   rule, parameters and tie-break seed equals results.json (selection, cost,
                   parameters, the round-by-round trace and every tie), and each .pb file's
                   'selected' column marks that selection
with --chain
  chain-integrity  positions, links and hashes of every entry; the head equals
                   chain_head.txt; the entry results.json was counted at is in the chain with
                   that hash, and no ballot was logged after it
  chain-receipts   the receipts re-derived from the chain's ballot entries equal receipts.txt
  chain-ballots    the chain's ballots equal the published ballots as a multiset, per district
  chain-channels   the chain's ballots per district and channel equal what results.json
                   counted, and per channel group (online; in person: desk, paper, kiosk)
                   equal the participations
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pbvote.audit.chain import ChainEntry, canonical_json, receipt_from_entry_hash, verify_chain
from pbvote.tally import Instance, Profile, TallyInputError, parse_pabulib, run_rule
from pbvote.tally.exact import json_exact
from pbvote.tally.pabulib import PabulibError
from pbvote.tally.registry import RULES, resolve_params

# ----- the bundle format (the exporter writes exactly these names) ---------------------
MANIFEST_FILE = "manifest.json"
BALLOTS_JSON_FILE = "ballots.json"
BALLOTS_CSV_FILE = "ballots.csv"
RECEIPTS_FILE = "receipts.txt"
RESULTS_FILE = "results.json"
PARTICIPATION_FILE = "participation.json"
CHAIN_HEAD_FILE = "chain_head.txt"
SUMS_FILE = "SHA256SUMS"
#: optional: in-person counts per district, among them "not_cast", the desk check-ins that
#: ended without a counted ballot (kiosk pass not used, paper spoiled, invalid or unreturned)
PAPER_AUDIT_FILE = "paper_audit.json"
REQUIRED_FILES = (MANIFEST_FILE, BALLOTS_JSON_FILE, BALLOTS_CSV_FILE, RECEIPTS_FILE,
                  RESULTS_FILE, PARTICIPATION_FILE, CHAIN_HEAD_FILE)
CSV_HEADER = ["district", "ballot"]
#: Channels that record that a person voted and what was voted are matched by group: online
#: voting writes both at once; in person, a desk check-in (participation "desk") leads to a
#: paper or kiosk ballot, and a kiosk vote without a check-in records its own participation.
CHANNEL_GROUPS = {"online": "online", "desk": "in person", "paper": "in person",
                  "kiosk": "in person"}


def pabulib_file_name(district_slug: str) -> str:
    return f"ballots-{district_slug}.pb"


# ----- shared pure definitions (the exporter uses these too) ---------------------------
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_digest(manifest: Any) -> str:
    return sha256_hex(canonical_json(manifest).encode("utf-8"))


def ballot_text(selections: Any) -> str:
    """One ballot's canonical text: the selections exactly as the chain stores them."""
    return canonical_json(selections)


def engine_ballot_type(ballot_kind: str) -> str:
    return {"approval": "approval", "knapsack": "approval", "ranked": "ordinal",
            "cumulative": "cumulative"}[ballot_kind]


def district_instance(district: dict) -> Instance:
    return Instance.from_plain(budget=district["budget"], projects=[
        {"id": p["id"], "cost": p["cost"], "name": p.get("title", "")}
        for p in district["projects"]])


def district_profile(district: dict, instance: Instance, ballots: list) -> Profile:
    """The engine's profile from stored selections: lists of ids, or {id: points}."""
    kind = district["ballot"]["kind"]
    if kind == "ranked":
        return Profile.ordinal(instance, ballots, max_length=district["ballot"].get("max_choices"))
    if kind == "cumulative":
        return Profile.cumulative(instance, [dict(b) for b in ballots])
    return Profile.approval(instance, ballots)


def tally_params(manifest: dict, district: dict) -> dict:
    """The parameters the count used: the cycle's published tie seed, then the district's."""
    return {"tie_seed": manifest["cycle"]["tie_break_seed"], **district["tally"]["params"]}


def exact_json(value: Any) -> Any:
    """Scores as results.json writes them: ints stay ints, fractions become exact strings."""
    if isinstance(value, int):
        return value
    return json_exact(value)


# ----- results.json (pbvote.services.publication, format 1) ----------------------------
RESULTS_FORMATS = (1,)


def results_districts(results: dict) -> dict[str, dict]:
    """District slug → its entry in results.json."""
    if results.get("format") not in RESULTS_FORMATS:
        raise CheckFailed(f"{RESULTS_FILE} has format {results.get('format')!r}; this verifier "
                          f"reads format {', '.join(map(str, RESULTS_FORMATS))}")
    return {entry["slug"]: entry for entry in results["districts"]}


# ----- reading a bundle ------------------------------------------------------------------
class BundleError(Exception):
    """The input cannot be read as a bundle (missing, not a zip, not JSON...)."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


def read_bundle_files(path: str | Path) -> dict[str, bytes]:
    """File name → bytes, from a directory or a zip (with or without one top folder)."""
    path = Path(path)
    if path.is_dir():
        return {str(p.relative_to(path).as_posix()): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    if not path.exists():
        raise BundleError(str(path), "no such file or directory")
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            files = {n: archive.read(n) for n in names}
    except zipfile.BadZipFile:
        raise BundleError(str(path), "is neither a directory nor a zip file") from None
    tops = {PurePosixPath(n).parts[0] for n in files}
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in files):
        prefix = tops.pop() + "/"
        files = {n[len(prefix):]: data for n, data in files.items()}
    return files


def render_sums(files: dict[str, bytes]) -> str:
    """SHA256SUMS in `sha256sum -c` form, one line per file, sorted by name."""
    return "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items()))


def parse_sums(text: str) -> dict[str, str]:
    """Strict: exactly the form render_sums writes, so no byte of it can change unnoticed."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or digest != digest.lower():
            raise BundleError(SUMS_FILE, f"line {number} is not '<sha256>  <file name>'")
        if name in sums:
            raise BundleError(SUMS_FILE, f"line {number} lists {name} twice")
        sums[name] = digest
    rendered = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    if text != rendered:
        raise BundleError(SUMS_FILE, "is not in its exact form (sorted '<sha256>  <name>' lines, "
                                     "each ending in a newline, nothing else)")
    return sums


def parse_receipts(text: str) -> dict[str, list[str]]:
    """receipts.txt: one '<district> <receipt>' per line."""
    receipts: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise BundleError(RECEIPTS_FILE, f"line {number} is not '<district> <receipt>'")
        receipts.setdefault(parts[0], []).append(parts[1])
    return receipts


def parse_chain_head(text: str) -> tuple[str, int]:
    """chain_head.txt: '<head hash> <number of entries>'."""
    parts = text.split()
    if len(parts) != 2 or len(parts[0]) != 64 or not parts[1].isdigit():
        raise BundleError(CHAIN_HEAD_FILE, "is not '<sha256 head> <number of entries>'")
    return parts[0], int(parts[1])


def read_chain_export(path: str | Path) -> list[dict]:
    """The chain export: JSON lines, one entry each, in order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleError(str(path), f"cannot read the chain export: {exc.strerror}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            entries.append({"position": int(record["position"]), "kind": str(record["kind"]),
                            "entry_json": str(record["entry_json"]),
                            "previous_hash": str(record["previous_hash"]),
                            "entry_hash": str(record["entry_hash"])})
        except (ValueError, KeyError, TypeError):
            raise BundleError(str(path), f"line {number} is not a chain entry") from None
    return entries


# ----- the checks ------------------------------------------------------------------------
@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[CheckResult] = field(default_factory=list)
    chain_checked: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.ok), None)

    def text(self) -> str:
        lines = ["pbvote bundle verification", ""]
        for check in self.checks:
            lines.append(f"  {'PASS' if check.ok else 'FAIL'}  {check.name:<16} {check.detail}")
        lines.append("")
        failure = self.first_failure
        if failure is not None:
            lines.append(f"VERIFICATION FAILED at check '{failure.name}': {failure.detail}")
        else:
            scope = ("bundle and chain export" if self.chain_checked
                     else "bundle (no chain export given)")
            lines.append(f"ALL CHECKS PASSED for the {scope}.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        failure = self.first_failure
        return {"ok": self.ok, "chain_checked": self.chain_checked,
                "first_failure": None if failure is None else failure.name,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks]}


class CheckFailed(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _json(files: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{name} is not valid JSON ({exc})") from None


def _text(files: dict[str, bytes], name: str) -> str:
    try:
        return files[name].decode("utf-8")
    except UnicodeDecodeError:
        raise CheckFailed(f"{name} is not UTF-8 text") from None


class _Verifier:
    def __init__(self, files: dict[str, bytes], chain: list[dict] | None):
        self.files = files
        self.chain = chain
        self.report = Report(chain_checked=chain is not None)
        self.manifest: dict = {}
        self.districts: dict[str, dict] = {}
        self.results: dict = {}
        self.results_by_district: dict[str, dict] = {}
        self.ballots: dict[str, list] = {}
        self.receipts: dict[str, list[str]] = {}
        self.participation: dict[str, dict[str, int]] = {}
        #: district slug → (.pb file name, projects its 'selected' column marks)
        self.pb_selected: dict[str, tuple[str, set[str]]] = {}

    def run(self) -> Report:
        steps = [("files", self.check_files), ("sha256", self.check_sums),
                 ("manifest-hash", self.check_manifest), ("ballot-files", self.check_ballot_files),
                 ("counts", self.check_counts), ("scores", self.check_scores),
                 ("tally", self.check_tally)]
        if self.chain is not None:
            steps += [("chain-integrity", self.check_chain_integrity),
                      ("chain-receipts", self.check_chain_receipts),
                      ("chain-ballots", self.check_chain_ballots),
                      ("chain-channels", self.check_chain_channels)]
        for name, step in steps:
            try:
                detail = step()
            except CheckFailed as failure:
                self.report.checks.append(CheckResult(name, False, failure.detail))
                break
            except BundleError as error:
                self.report.checks.append(CheckResult(name, False, str(error)))
                break
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # Malformed content in a file whose hash matched: still a failure, named.
                self.report.checks.append(CheckResult(
                    name, False, f"malformed bundle content ({type(error).__name__}: {error})"))
                break
            self.report.checks.append(CheckResult(name, True, detail))
        return self.report

    # -- bundle only ---------------------------------------------------------------------
    def check_files(self) -> str:
        if SUMS_FILE not in self.files:
            raise CheckFailed(f"{SUMS_FILE} is missing")
        self.sums = parse_sums(_text(self.files, SUMS_FILE))
        for name in REQUIRED_FILES:
            if name not in self.sums:
                raise CheckFailed(f"{name} is not listed in {SUMS_FILE}")
        missing = sorted(set(self.sums) - set(self.files))
        if missing:
            raise CheckFailed(f"listed in {SUMS_FILE} but missing: {', '.join(missing)}")
        extra = sorted(set(self.files) - set(self.sums) - {SUMS_FILE})
        if extra:
            raise CheckFailed(f"not listed in {SUMS_FILE}: {', '.join(extra)}")
        return f"{len(self.sums)} files listed, all present"

    def check_sums(self) -> str:
        for name, expected in sorted(self.sums.items()):
            actual = sha256_hex(self.files[name])
            if actual != expected:
                raise CheckFailed(f"{name}: SHA-256 is {actual}, {SUMS_FILE} says {expected}")
        return f"{len(self.sums)} files match"

    def check_manifest(self) -> str:
        document = _json(self.files, MANIFEST_FILE)
        self.manifest = document["manifest"]
        claimed = document["manifest_hash"]
        actual = manifest_digest(self.manifest)
        if actual != claimed:
            raise CheckFailed(f"{MANIFEST_FILE}: the manifest hashes to {actual}, "
                              f"but manifest_hash says {claimed}")
        self.districts = {d["slug"]: d for d in self.manifest["districts"]}
        self.results = _json(self.files, RESULTS_FILE)
        counted_under = self.results.get("manifest_hash")
        if counted_under is not None and counted_under != claimed:
            raise CheckFailed(f"{RESULTS_FILE} was counted under manifest {counted_under}, "
                              f"but {MANIFEST_FILE} has {claimed}")
        self.results_by_district = results_districts(self.results)
        seed = self.manifest["cycle"]["tie_break_seed"]
        if self.results.get("tie_break_seed") != seed:
            raise CheckFailed(f"{RESULTS_FILE} used tie-break seed "
                              f"{self.results.get('tie_break_seed')!r}, the manifest has {seed!r}")
        if set(self.results_by_district) != set(self.districts):
            raise CheckFailed(f"{RESULTS_FILE} has districts {sorted(self.results_by_district)}, "
                              f"the manifest has {sorted(self.districts)}")
        counted = ("results.json was counted under it" if counted_under is not None
                   else "results.json records no manifest hash")
        return f"{claimed} ({len(self.districts)} districts; {counted})"

    def check_ballot_files(self) -> str:
        document = _json(self.files, BALLOTS_JSON_FILE)
        self.ballots = {slug: list(document["districts"].get(slug, []))
                        for slug in self.districts}
        unknown = sorted(set(document["districts"]) - set(self.districts))
        if unknown:
            raise CheckFailed(f"{BALLOTS_JSON_FILE} has ballots for unknown districts {unknown}")
        expected = {slug: Counter(ballot_text(b) for b in ballots)
                    for slug, ballots in self.ballots.items()}
        for slug, ballots in self.ballots.items():
            district = self.districts[slug]
            try:
                district_profile(district, district_instance(district), ballots)
            except (TallyInputError, TypeError, ValueError, AttributeError) as exc:
                raise CheckFailed(f"{BALLOTS_JSON_FILE}, district {slug}: {exc}") from None
        from_csv = self._csv_ballots()
        for slug in self.districts:
            if from_csv.get(slug, Counter()) != expected[slug]:
                raise CheckFailed(_multiset_difference(
                    f"{BALLOTS_CSV_FILE} and {BALLOTS_JSON_FILE}, district {slug}",
                    from_csv.get(slug, Counter()), expected[slug]))
        for slug, district in self.districts.items():
            name = pabulib_file_name(slug)
            if name not in self.files:
                raise CheckFailed(f"{name} is missing")
            from_pb = self._pabulib_ballots(name, district)
            if from_pb != expected[slug]:
                raise CheckFailed(_multiset_difference(f"{name} and {BALLOTS_JSON_FILE}",
                                                       from_pb, expected[slug]))
        total = sum(len(b) for b in self.ballots.values())
        return f"{total} ballots; JSON, CSV and {len(self.districts)} Pabulib files agree"

    def _csv_ballots(self) -> dict[str, Counter]:
        reader = csv.reader(io.StringIO(_text(self.files, BALLOTS_CSV_FILE)))
        rows = list(reader)
        if not rows or rows[0] != CSV_HEADER:
            raise CheckFailed(f"{BALLOTS_CSV_FILE}: the header must be {','.join(CSV_HEADER)}")
        found: dict[str, Counter] = {}
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != 2:
                raise CheckFailed(f"{BALLOTS_CSV_FILE}, line {number}: expected 2 fields")
            try:
                selections = json.loads(row[1])
            except ValueError:
                raise CheckFailed(
                    f"{BALLOTS_CSV_FILE}, line {number}: the ballot is not JSON") from None
            found.setdefault(row[0], Counter())[ballot_text(selections)] += 1
        unknown = sorted(set(found) - set(self.districts))
        if unknown:
            raise CheckFailed(f"{BALLOTS_CSV_FILE} has ballots for unknown districts {unknown}")
        return found

    def _pabulib_ballots(self, name: str, district: dict) -> Counter:
        try:
            pb = parse_pabulib(_text(self.files, name), name)
        except PabulibError as exc:
            raise CheckFailed(str(exc)) from None
        kind = district["ballot"]["kind"]
        found: Counter = Counter()
        for row in pb.votes:
            ids = [x.strip() for x in row["vote"].split(",")] if row["vote"].strip() else []
            if kind == "cumulative":
                points = [int(x) for x in row["points"].split(",")] if ids else []
                selections: Any = dict(zip(ids, points))
            elif kind == "ranked":
                selections = ids
            else:
                selections = sorted(ids)
            found[ballot_text(selections)] += 1
        if pb.meta.get("budget") != str(district["budget"]):
            raise CheckFailed(f"{name}: budget {pb.meta.get('budget')} differs from the manifest's "
                              f"{district['budget']}")
        costs = {row["project_id"]: row["cost"] for row in pb.projects}
        manifest_costs = {p["id"]: str(p["cost"]) for p in district["projects"]}
        if costs != manifest_costs:
            raise CheckFailed(f"{name}: projects and costs differ from the manifest")
        self._check_pabulib_claims(name, district, pb)
        return found

    def _check_pabulib_claims(self, name: str, district: dict, pb) -> None:
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
            self.pb_selected[district["slug"]] = (name, {
                row["project_id"] for row in pb.projects if row.get("selected") == "1"})

    def check_counts(self) -> str:
        self.receipts = parse_receipts(_text(self.files, RECEIPTS_FILE))
        unknown = sorted(set(self.receipts) - set(self.districts))
        if unknown:
            raise CheckFailed(f"{RECEIPTS_FILE} has receipts for unknown districts {unknown}")
        for slug, codes in self.receipts.items():
            if len(set(codes)) != len(codes):
                raise CheckFailed(f"{RECEIPTS_FILE}, district {slug}: a receipt appears twice")
        participation = _json(self.files, PARTICIPATION_FILE)["districts"]
        self.participation = {slug: {ch: int(n) for ch, n in participation.get(slug, {}).items()}
                              for slug in self.districts}
        unknown = sorted(set(participation) - set(self.districts))
        if unknown:
            raise CheckFailed(f"{PARTICIPATION_FILE} has unknown districts {unknown}")
        self.not_cast = self._not_cast()
        parts = []
        for slug in self.districts:
            ballots = len(self.ballots[slug])
            receipts = len(self.receipts.get(slug, []))
            voted = sum(self.participation[slug].values())
            not_cast = self.not_cast.get(slug, 0)
            if not ballots == receipts == voted - not_cast:
                without = (f", of which {not_cast} checked in without casting "
                           f"({PAPER_AUDIT_FILE})" if not_cast else "")
                raise CheckFailed(f"district {slug}: {ballots} ballots, {receipts} receipts, "
                                  f"{voted} participations{without} (ballots, receipts and "
                                  f"participations that led to a ballot must be equal)")
            entry = self.results_by_district[slug]
            if entry["ballots"] != ballots:
                raise CheckFailed(f"district {slug}: {ballots} ballots published, but "
                                  f"{RESULTS_FILE} counted {entry['ballots']}")
            counted = _nonzero(entry["participations"]["by_channel"])
            if counted != _nonzero(self.participation[slug]):
                raise CheckFailed(f"district {slug}: participations by channel "
                                  f"{_nonzero(self.participation[slug])} differ from the "
                                  f"{counted} that {RESULTS_FILE} counted")
            parts.append(f"{slug} {ballots}")
        if any(self.not_cast.values()):
            parts.append(f"check-ins without a ballot {_nonzero(self.not_cast)}")
        return "ballots = receipts = participations: " + ", ".join(parts)

    def _not_cast(self) -> dict[str, int]:
        """Desk check-ins that led to no counted ballot, per district (none without the file)."""
        if PAPER_AUDIT_FILE not in self.files:
            return {}
        districts = _json(self.files, PAPER_AUDIT_FILE)["districts"]
        not_cast = {}
        for slug, counts in districts.items():
            if slug not in self.districts:
                raise CheckFailed(f"{PAPER_AUDIT_FILE} has unknown district {slug!r}")
            number = counts["not_cast"]
            desk = self.participation[slug].get("desk", 0)
            if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= desk:
                raise CheckFailed(f"{PAPER_AUDIT_FILE}, district {slug}: not_cast {number!r} "
                                  f"must be a whole number from 0 to the {desk} desk check-ins")
            not_cast[slug] = number
        return not_cast

    def check_scores(self) -> str:
        checked = 0
        for slug, district in self.districts.items():
            entry = self.results_by_district[slug]
            instance = district_instance(district)
            profile = district_profile(district, instance, self.ballots[slug])
            rule = district["tally"]["rule"]
            if rule not in RULES:
                raise CheckFailed(f"district {slug}: unknown rule {rule!r}")
            params = resolve_params(RULES[rule], tally_params(self.manifest, district))
            scoring_fn = params.get("scoring_fn") if profile.ballot_type == "ordinal" else None
            scores = {pid: exact_json(v) for pid, v in profile.scores(scoring_fn).items()}
            supporters = profile.supporters()
            published_supporters = {p["id"]: p["supporters"] for p in entry["projects"]}
            for pid in sorted(set(scores) | set(entry["scores"])):
                if entry["scores"].get(pid) != scores.get(pid):
                    raise CheckFailed(f"district {slug}, project {pid}: the published ballots "
                                      f"give a score of {scores.get(pid)}, {RESULTS_FILE} says "
                                      f"{entry['scores'].get(pid)}")
                if published_supporters.get(pid) != supporters.get(pid):
                    raise CheckFailed(f"district {slug}, project {pid}: the published ballots "
                                      f"give {supporters.get(pid)} supporters, {RESULTS_FILE} "
                                      f"says {published_supporters.get(pid)}")
            checked += len(scores)
        return f"{checked} projects' supporters and scores re-counted"

    def check_tally(self) -> str:
        parts = []
        for slug, district in self.districts.items():
            instance = district_instance(district)
            profile = district_profile(district, instance, self.ballots[slug])
            try:
                outcome = run_rule(instance, profile, district["tally"]["rule"],
                                   tally_params(self.manifest, district)).to_dict()
            except TallyInputError as exc:
                raise CheckFailed(f"district {slug}: the count cannot be repeated: {exc}") from None
            published = self.results_by_district[slug]["outcome"]
            for key in ("rule", "selected", "total_cost", "budget", "params", "trace", "ties"):
                if published[key] != outcome[key]:
                    raise CheckFailed(f"district {slug}: the re-count gives {key} = "
                                      f"{_short(outcome[key])}, {RESULTS_FILE} says "
                                      f"{_short(published[key])}")
            if slug in self.pb_selected and self.pb_selected[slug][1] != set(outcome["selected"]):
                name, flagged = self.pb_selected[slug]
                raise CheckFailed(f"{name}: the projects marked selected {sorted(flagged)} are "
                                  f"not the re-counted selection")
            parts.append(f"{slug} [{', '.join(outcome['selected'])}]")
        return "re-count matches: " + "; ".join(parts)

    # -- with the chain export -------------------------------------------------------------
    def check_chain_integrity(self) -> str:
        head, length = parse_chain_head(_text(self.files, CHAIN_HEAD_FILE))
        report = verify_chain(ChainEntry(e["position"], e["entry_json"], e["previous_hash"],
                                         e["entry_hash"]) for e in self.chain)
        if not report.ok:
            raise CheckFailed(
                f"chain broken after entry {report.verified_length}: {report.problem}")
        if report.verified_length != length or report.head_hash != head:
            raise CheckFailed(f"the chain export ends at entry {report.verified_length} with head "
                              f"{report.head_hash}, but {CHAIN_HEAD_FILE} publishes entry {length} "
                              f"with head {head}")
        for entry in self.chain:
            if json.loads(entry["entry_json"]).get("kind") != entry["kind"]:
                raise CheckFailed(f"chain entry {entry['position']}: kind column differs from the "
                                  f"hashed entry")
        counted_at = self.results["chain"]
        counted_length, counted_head = int(counted_at["length"]), counted_at["head"]
        if counted_length > len(self.chain) or (
                counted_length and self.chain[counted_length - 1]["entry_hash"] != counted_head):
            raise CheckFailed(f"{RESULTS_FILE} was counted at entry {counted_length} with head "
                              f"{counted_head}, which this chain does not contain")
        late = [e["position"] for e in self.chain[counted_length:] if e["kind"] == "ballot"]
        if late:
            raise CheckFailed(f"chain entry {late[0]} is a ballot logged after the count "
                              f"(counted up to entry {counted_length})")
        self.chain_ballots = [(json.loads(e["entry_json"])["data"], e["entry_hash"])
                              for e in self.chain if e["kind"] == "ballot"]
        cycle_slug = self.manifest["cycle"]["slug"]
        for data, _ in self.chain_ballots:
            if data.get("cycle") != cycle_slug:
                raise CheckFailed(f"the chain holds a ballot of cycle {data.get('cycle')!r}, "
                                  f"not {cycle_slug!r}")
        return f"{length} entries verified; head {head}"

    def check_chain_receipts(self) -> str:
        derived: dict[str, Counter] = {}
        for data, digest in self.chain_ballots:
            derived.setdefault(data["district"], Counter())[receipt_from_entry_hash(digest)] += 1
        for slug in sorted(set(derived) | set(self.receipts)):
            published = Counter(self.receipts.get(slug, []))
            if derived.get(slug, Counter()) != published:
                raise CheckFailed(_multiset_difference(
                    f"receipts of district {slug} (chain vs {RECEIPTS_FILE})",
                    derived.get(slug, Counter()), published))
        return f"{sum(map(sum, (c.values() for c in derived.values())))} receipts re-derived"

    def check_chain_ballots(self) -> str:
        from_chain: dict[str, Counter] = {}
        for data, _ in self.chain_ballots:
            from_chain.setdefault(data["district"], Counter())[ballot_text(data["selections"])] += 1
        for slug in sorted(set(from_chain) | set(self.ballots)):
            published = Counter(ballot_text(b) for b in self.ballots.get(slug, []))
            if from_chain.get(slug, Counter()) != published:
                raise CheckFailed(_multiset_difference(
                    f"ballots of district {slug} (chain vs {BALLOTS_JSON_FILE})",
                    from_chain.get(slug, Counter()), published))
        return "the chain's ballots equal the published ballots"

    def check_chain_channels(self) -> str:
        from_chain: dict[str, Counter] = {}
        for data, _ in self.chain_ballots:
            from_chain.setdefault(data["district"], Counter())[data["channel"]] += 1
        for slug in self.districts:
            chain_counts = _nonzero(from_chain.get(slug, Counter()))
            voting = Counter(channel_groups(self.participation[slug]))
            voting[CHANNEL_GROUPS["desk"]] -= self.not_cast.get(slug, 0)
            voted = _nonzero(voting)
            grouped = _nonzero(channel_groups(chain_counts))
            if grouped != voted:
                raise CheckFailed(f"district {slug}: ballots in the chain by channel group "
                                  f"{grouped} differ from participations {voted}")
            counted = _nonzero(self.results_by_district[slug]["ballots_by_channel"])
            if chain_counts != counted:
                raise CheckFailed(f"district {slug}: ballots by channel in the chain "
                                  f"{chain_counts} differ from the {counted} that "
                                  f"{RESULTS_FILE} counted")
        return "ballots per district and channel equal participations"


def channel_groups(counts: dict[str, int]) -> dict[str, int]:
    """Counts per channel (of participations or of ballots) summed per CHANNEL_GROUPS."""
    grouped: Counter = Counter()
    for channel, number in counts.items():
        grouped[CHANNEL_GROUPS.get(channel, channel)] += int(number)
    return dict(grouped)


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {key: int(value) for key, value in sorted(counts.items()) if value}


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def _multiset_difference(what: str, found: Counter, expected: Counter) -> str:
    only_found = found - expected
    only_expected = expected - found
    parts = [f"{what} differ"]
    if only_found:
        parts.append(f"only in the first: {_short(sorted(only_found.elements()))}")
    if only_expected:
        parts.append(f"only in the second: {_short(sorted(only_expected.elements()))}")
    return "; ".join(parts)


# ----- entry points ------------------------------------------------------------------------
def verify_files(files: dict[str, bytes], chain: list[dict] | None = None) -> Report:
    """Verify an in-memory bundle (file name → bytes) and optionally a chain export."""
    return _Verifier(files, chain).run()


def verify_path(bundle: str | Path, chain: str | Path | None = None) -> Report:
    files = read_bundle_files(bundle)
    entries = read_chain_export(chain) if chain is not None else None
    return verify_files(files, entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pbvote.audit.verify",
        description="Verify a published pbvote results bundle, and with --chain the full log.")
    parser.add_argument("bundle", help="the bundle directory or its .zip")
    parser.add_argument("--chain", help="the auditors' chain export (JSON lines)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = verify_path(args.bundle, args.chain)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
