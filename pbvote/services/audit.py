"""Auditability: the public bulletin board, the published bundle, the auditors' chain export,
the reconciliation of participations, ballots and receipts, and running the verifier.

Read-only: nothing here writes to the database.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from sqlalchemy import and_, func, or_, select

from pbvote.audit import bundle as bundle_format
from pbvote.audit import verify
from pbvote.audit.chain import normalise_receipt
from pbvote.i18n_hook import N_, _, translate
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Chain, Cycle, District, LogEntry, Participation
from pbvote.services import log
from pbvote.services.cycles import build_manifest
from pbvote.services.errors import DomainError


class NotPublished(DomainError):
    def __init__(self, message: str = N_("The results of this cycle have not been published yet, "
                                         "so there is no bundle to download or verify.")):
        super().__init__(translate(message), 404)


class Embargoed(DomainError):
    def __init__(self, message: str):
        super().__init__(message, 409)


# ----- voting state (the same rule as publication's embargo) --------------------------------
def voting_closed(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    window = cycle.phase_window("voting")
    return window is not None and (now or utcnow()) >= window.ends_at


def voting_started(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    window = cycle.phase_window("voting")
    return window is not None and (now or utcnow()) >= window.starts_at


# ----- the bulletin board --------------------------------------------------------------------
@dataclass(frozen=True)
class DistrictBoard:
    slug: str
    name: str
    receipts: list[str]

    @property
    def count(self) -> int:
        return len(self.receipts)


@dataclass(frozen=True)
class Board:
    cycle_slug: str
    districts: list[DistrictBoard]
    chain_length: int
    chain_head: str

    @property
    def total(self) -> int:
        return sum(d.count for d in self.districts)

    def district(self, slug: str) -> DistrictBoard | None:
        return next((d for d in self.districts if d.slug == slug), None)


def bulletin_board(cycle: Cycle) -> Board:
    """Every receipt per district, sorted (never in casting order), and the chain head.

    Only receipts: nothing about what any ballot says. The number of receipts is turnout,
    which anyone could count from the list anyway, so it is shown while voting is open too.
    """
    rows = db.session.execute(
        select(Ballot.district_id, Ballot.receipt).where(Ballot.cycle_id == cycle.id)
        .order_by(Ballot.receipt))
    receipts: dict[int, list[str]] = {d.id: [] for d in cycle.districts}
    for district_id, receipt in rows:
        receipts.setdefault(district_id, []).append(receipt)
    chain = db.session.get(Chain, cycle.chain_id)
    return Board(cycle.slug, [DistrictBoard(d.slug, d.name, receipts[d.id])
                              for d in cycle.districts], chain.length, chain.head_hash)


@dataclass(frozen=True)
class ReceiptCheck:
    typed: str
    receipt: str  # normalised; "" when the text cannot be a receipt
    district: District | None

    @property
    def well_formed(self) -> bool:
        return bool(self.receipt)

    @property
    def found(self) -> bool:
        return self.district is not None


def check_receipt(cycle: Cycle, typed: str) -> ReceiptCheck:
    receipt = normalise_receipt(typed or "")
    district = None
    if receipt:
        district = db.session.scalar(
            select(District).join(Ballot, Ballot.district_id == District.id)
            .where(Ballot.cycle_id == cycle.id, Ballot.receipt == receipt))
    return ReceiptCheck(typed or "", receipt, district)


# ----- reconciliation ------------------------------------------------------------------------
@dataclass(frozen=True)
class ReconciliationRow:
    district_slug: str
    district_name: str
    #: "online" or "in person" (verify.CHANNEL_GROUPS)
    channel: str
    participations: int
    ballots: int
    receipts: int  # ballot entries in the chain, each of which yields one receipt
    #: in person, the channels inside the group, e.g. "desk 3 / paper 2, kiosk 1"
    detail: str = ""

    @property
    def balanced(self) -> bool:
        return self.participations == self.ballots == self.receipts


def _counts_by_district(model, cycle: Cycle) -> dict[int, Counter]:
    counts: dict[int, Counter] = {}
    for district_id, channel, count in db.session.execute(
            select(model.district_id, model.channel, func.count())
            .where(model.cycle_id == cycle.id).group_by(model.district_id, model.channel)):
        counts.setdefault(district_id, Counter())[channel] += int(count)
    return counts


def reconciliation(cycle: Cycle) -> list[ReconciliationRow]:
    """Per district and channel group: participations vs ballots vs logged receipts.

    In person, a desk check-in leads to a paper or kiosk ballot, so those channels are
    matched as one group; online voting records both at once.
    """
    participations = _counts_by_district(Participation, cycle)
    ballots = _counts_by_district(Ballot, cycle)
    by_slug = {d.slug: d for d in cycle.districts}
    receipts: dict[int, Counter] = {}
    unknown_districts: Counter = Counter()
    for text in db.session.scalars(select(LogEntry.entry_json).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "ballot")):
        data = json.loads(text)["data"]
        district = by_slug.get(data.get("district"))
        if district is None:
            unknown_districts[str(data.get("district"))] += 1
            continue
        receipts.setdefault(district.id, Counter())[str(data.get("channel"))] += 1
    rows = []
    for district in cycle.districts:
        voted = participations.get(district.id, Counter())
        cast = ballots.get(district.id, Counter())
        logged = receipts.get(district.id, Counter())
        for group in sorted({verify.CHANNEL_GROUPS.get(c, c) for c in [*voted, *cast, *logged]}):
            voted_here, cast_here, logged_here = (
                {c: n for c, n in sorted(counts.items())
                 if verify.CHANNEL_GROUPS.get(c, c) == group}
                for counts in (voted, cast, logged))
            detail = "" if group == "online" else " / ".join(
                ", ".join(f"{c} {n}" for c, n in part.items()) or "-"
                for part in (voted_here, cast_here))
            rows.append(ReconciliationRow(
                district.slug, district.name, group, sum(voted_here.values()),
                sum(cast_here.values()), sum(logged_here.values()), detail))
    for slug, count in sorted(unknown_districts.items()):
        rows.append(ReconciliationRow(slug, f"unknown district {slug!r}", "", 0, 0, count))
    return rows


# ----- the chain -----------------------------------------------------------------------------
def chain_status(cycle: Cycle):
    """verify_stored_chain's report: verified up to entry N, and the first problem if any."""
    return log.verify_stored_chain(cycle.chain_id)


def chain_export_lines(cycle: Cycle) -> Iterator[str]:
    """The auditors' full export: every entry in order, exactly as hashed. It holds ballot
    contents, so it exists only once voting has closed (no partial count during voting)."""
    if not voting_closed(cycle):
        raise Embargoed(_("The full log holds the ballots, so it can be exported only after "
                          "voting has closed; the chain status above is checked meanwhile."))
    # Plain rows, fetched in batches (a server-side cursor on PostgreSQL), never all at once;
    # the kind is the column's, which the verifier checks against the hashed entry.
    # (The option is the statement's: on the connection it would stay for later statements.)
    rows = db.session.connection().execute(
        select(LogEntry.position, LogEntry.kind, LogEntry.entry_json, LogEntry.previous_hash,
               LogEntry.entry_hash).where(LogEntry.chain_id == cycle.chain_id)
        .order_by(LogEntry.position).execution_options(yield_per=5000))
    line = bundle_format.chain_export_line
    for position, kind, entry_json, previous_hash, digest in rows:
        yield line(position, kind, entry_json, previous_hash, digest)


@dataclass
class LogPage:
    entries: list[dict]
    total: int
    page: int
    per_page: int
    kinds: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def browse_log(cycle: Cycle, *, kind: str = "", first: int | None = None,
               last: int | None = None, text: str = "", page: int = 1,
               per_page: int = 50) -> LogPage:
    """Filtered entries of the cycle's chain, in order. While voting is open, ballot entries
    show no selections (they would be a running count)."""
    conditions = [LogEntry.chain_id == cycle.chain_id]
    if kind:
        conditions.append(LogEntry.kind == kind)
    if first is not None:
        conditions.append(LogEntry.position >= first)
    if last is not None:
        conditions.append(LogEntry.position <= last)
    withhold = not voting_closed(cycle)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches_text = LogEntry.entry_json.like(f"%{escaped}%", escape="\\")
        if withhold:
            # Searching inside ballot entries would count the ballots that chose a project
            # (or, with first=last, answer for one ballot): until voting closes a ballot
            # entry is found by its entry hash only.
            matches_text = and_(matches_text, LogEntry.kind != "ballot")
        conditions.append(or_(matches_text, LogEntry.entry_hash == text.lower()))
    total = db.session.scalar(select(func.count()).select_from(LogEntry).where(*conditions))
    page = max(1, page)
    rows = db.session.scalars(select(LogEntry).where(*conditions).order_by(LogEntry.position)
                              .offset((page - 1) * per_page).limit(per_page))
    entries = []
    for row in rows:
        data = json.loads(row.entry_json).get("data", {})
        if row.kind == "ballot" and withhold:
            data = {key: value for key, value in data.items() if key != "selections"}
            data["selections"] = "(withheld until voting closes)"
        entries.append({"position": row.position, "kind": row.kind, "data": data,
                        "entry_hash": row.entry_hash, "previous_hash": row.previous_hash})
    kinds = list(db.session.scalars(select(LogEntry.kind).where(
        LogEntry.chain_id == cycle.chain_id).distinct().order_by(LogEntry.kind)))
    return LogPage(entries, int(total), page, per_page, kinds)


# ----- the published bundle --------------------------------------------------------------------
def published_snapshot(cycle: Cycle):
    """The published results snapshot; NotPublished (404) before publication."""
    from pbvote.services.publication import published_results

    snapshot = published_results(cycle)
    if snapshot is None:
        raise NotPublished()
    return snapshot


def is_published(cycle: Cycle) -> bool:
    from pbvote.services.publication import published_results

    return published_results(cycle) is not None


def frozen_manifest(cycle: Cycle) -> tuple[dict, str]:
    """The manifest stored when voting opened, with its hash.

    Every way voting opens (by hand, by date, the demo) stores the manifest text; a cycle
    without one was never frozen, and today's manifest goes out for the verifier to judge.
    """
    if cycle.manifest_json:
        return json.loads(cycle.manifest_json), cycle.manifest_hash
    current = build_manifest(cycle)
    return current, verify.manifest_digest(current)


class StoredBundleAltered(DomainError):
    """The verified bundle kept with a tally run no longer has the SHA-256 recorded with it."""

    def __init__(self, run_id: int):
        super().__init__(_("The verified bundle kept with tally run %(number)s was altered "
                           "(its SHA-256 no longer matches the one recorded at the count). It "
                           "is not published or exported; run a new tally.", number=run_id), 409)


def bundle_files(cycle: Cycle) -> dict[str, bytes]:
    """Every file of the published bundle.

    The bundle verified when the published count was made, with the chain head as it is now,
    while what it was built from is unchanged (inputs_digest) and its counted chain prefix
    stands; otherwise (a database changed behind the application's back, a run counted
    before bundles were kept) built afresh from the database as it is now, so that the
    verifier names what changed. Altered stored bytes are refused (StoredBundleAltered)."""
    from pbvote.models import TallyRun

    snapshot = published_snapshot(cycle)
    run = db.session.get(TallyRun, snapshot.tally_run_id)
    files = stored_bundle(run) if run is not None else None
    if (files is not None
            and files.get(verify.RESULTS_FILE) == snapshot.results_json.encode("utf-8")
            and not stored_bundle_problem(cycle, run, files)):
        chain = db.session.get(Chain, cycle.chain_id)
        return bundle_format.with_chain_head(files, chain.head_hash, chain.length)
    return build_bundle_files(cycle, snapshot.results_json)


def stored_bundle(run) -> dict[str, bytes] | None:
    """The files of the bundle kept with a tally run; None when it has none. Refuses bytes
    whose SHA-256 is not the one recorded with them."""
    if run.bundle_zip is None or run.bundle_sha256 is None:
        return None
    if hashlib.sha256(run.bundle_zip).hexdigest() != run.bundle_sha256:
        raise StoredBundleAltered(run.id)
    return bundle_format.files_from_zip(run.bundle_zip)


def stored_bundle_problem(cycle: Cycle, run, files: dict[str, bytes]) -> str:
    """"" when the stored bundle is still the one a fresh build would give (its ballots,
    receipts and participations, under the same manifest, at a chain that still holds the
    entry it names, with no ballot logged after it); otherwise what changed."""
    head, length = bundle_format.chain_head_of(files)
    if length:
        recorded = db.session.scalar(select(LogEntry.entry_hash).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.position == length))
        if recorded != head:
            return "chain: the entry the verified bundle names is no longer in the chain"
    if db.session.scalar(select(LogEntry.position).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "ballot",
            LogEntry.position > length).limit(1)) is not None:
        return "chain: a ballot was logged after the verified bundle was built"
    if inputs_digest(cycle) != run.inputs_digest:
        return ("inputs: the ballots, receipts, participations, roll or codes changed since "
                "the count")
    return ""


def _ballot_rows(cycle: Cycle) -> list:
    """(district id, stored selections, receipt) of every ballot of the cycle, as plain rows."""
    return db.session.connection().execute(
        select(Ballot.district_id, Ballot.selections, Ballot.receipt)
        .where(Ballot.cycle_id == cycle.id)).all()


def inputs_digest(cycle: Cycle, ballot_rows: list | None = None) -> str:
    """SHA-256 over what a count and its bundle are built from: the frozen manifest, every
    ballot (district, receipt, selections), participations per district, channel, site and
    day, the roll per district and date of birth, access codes per district and status, and
    the bundle's extra documents. Equal digests: a new count and bundle would hold the same.
    Grouped counts and one read of the ballots, far cheaper than counting and verifying."""
    from pbvote.models import AccessCode, RollEntry

    _manifest, manifest_hash = frozen_manifest(cycle)
    rows = _ballot_rows(cycle) if ballot_rows is None else ballot_rows
    connection = db.session.connection()
    parts = [f"manifest {manifest_hash}", f"ballots {len(rows)}"]
    parts.extend(f"{receipt} {district_id} {selections}"
                 for district_id, selections, receipt in sorted(rows, key=itemgetter(2)))
    # Grouped rows in the database's own order of their keys: the digest is only ever
    # compared with one taken earlier on the same database.
    for label, columns, model in (
            ("participation", (Participation.district_id, Participation.channel,
                               Participation.site, Participation.voted_on), Participation),
            ("roll", (RollEntry.district_id, RollEntry.birth_date), RollEntry),
            ("codes", (AccessCode.district_id, AccessCode.status,
                       AccessCode.roll_entry_id.is_(None)), AccessCode)):
        grouped = connection.execute(select(*columns, func.count())
                                     .where(model.cycle_id == cycle.id)
                                     .group_by(*columns).order_by(*columns)).all()
        parts.append(f"{label} {len(grouped)}")
        parts.extend(" ".join(map(str, row)) for row in grouped)
    for name, content in sorted(_extra_files(cycle).items()):
        parts.append(f"file {name} {hashlib.sha256(content).hexdigest()}")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def count_bundle(cycle: Cycle, results_json: str) -> tuple[dict[str, bytes], str]:
    """The bundle a count would publish and the inputs_digest of what it was built from,
    reading the ballots once for both."""
    rows = _ballot_rows(cycle)
    return build_bundle_files(cycle, results_json, rows), inputs_digest(cycle, rows)


def build_bundle_files(cycle: Cycle, results_json: str,
                       ballot_rows: list | None = None) -> dict[str, bytes]:
    """The bundle with `results_json` as its results: the published snapshot, or the tally
    run a publication would publish (so it can be verified before it is)."""
    manifest, manifest_hash = frozen_manifest(cycle)
    slugs = {d.id: d.slug for d in cycle.districts}
    ballots: dict[str, list] = {slug: [] for slug in slugs.values()}
    receipts: dict[str, list[str]] = {slug: [] for slug in slugs.values()}
    # Ballots repeat: each distinct text is decoded once and its (never mutated) value shared,
    # which the bundle's writers turn back into text once per distinct value too.
    decoded: dict[str, object] = {}
    rows = _ballot_rows(cycle) if ballot_rows is None else ballot_rows
    for district_id, selections, receipt in rows:
        slug = slugs.get(district_id, f"district-{district_id}")
        value = decoded.get(selections)
        if value is None:
            value = decoded[selections] = json.loads(selections)
        ballots.setdefault(slug, []).append(value)
        receipts.setdefault(slug, []).append(receipt)
    del decoded
    participation: dict[str, dict[str, int]] = {slug: {} for slug in slugs.values()}
    for district_id, channel, count in db.session.execute(
            select(Participation.district_id, Participation.channel, func.count())
            .where(Participation.cycle_id == cycle.id)
            .group_by(Participation.district_id, Participation.channel)):
        slug = slugs.get(district_id, f"district-{district_id}")
        participation.setdefault(slug, {})[channel] = int(count)
    results = json.loads(results_json)
    selected = {d["slug"]: d["outcome"]["selected"] for d in results.get("districts", [])}
    chain = db.session.get(Chain, cycle.chain_id)
    files = bundle_format.build_bundle(bundle_format.BundleInput(
        manifest=manifest, manifest_hash=manifest_hash, ballots=ballots, receipts=receipts,
        participation=participation, results_json=results_json, selected=selected,
        chain_head=chain.head_hash, chain_length=chain.length))
    return _with_transitions(cycle, _with_paper_audit(cycle, files))


def _extra_files(cycle: Cycle) -> dict[str, bytes]:
    """paper_audit.json and transitions.json as the bundle would hold them (none, one or
    both)."""
    extra = _with_transitions(cycle, _with_paper_audit(cycle, {}))
    extra.pop(verify.SUMS_FILE, None)
    return extra


def _with_transitions(cycle: Cycle, files: dict[str, bytes]) -> dict[str, bytes]:
    """Add transitions.json (every extension of voting, every staff note explaining a
    reconciliation difference) when there is any, and list it in SHA256SUMS."""
    from pbvote.services import transitions

    document = {"voting_extensions": transitions.extensions(cycle),
                "reconciliation_notes": transitions.notes(cycle)}
    if not any(document.values()):
        return files
    return bundle_format.with_file(files, verify.TRANSITIONS_FILE,
                                   {"cycle": cycle.slug, **document})


def _with_paper_audit(cycle: Cycle, files: dict[str, bytes]) -> dict[str, bytes]:
    """Add paper_audit.json (in-person figures per district, the paper audit's seed, sample
    and findings) when the cycle had in-person voting, and list it in SHA256SUMS."""
    from pbvote.services import in_person

    document = in_person.bundle_document(cycle)
    if document is None:
        return files
    files = {name: data for name, data in files.items() if name != verify.SUMS_FILE}
    files[verify.PAPER_AUDIT_FILE] = (json.dumps(
        {"cycle": cycle.slug, **document}, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n").encode("utf-8")
    files[verify.SUMS_FILE] = verify.render_sums(files).encode("utf-8")
    return files


def bundle_folder_name(cycle: Cycle) -> str:
    return f"{cycle.slug}-results"


#: (cycle id, results hash, chain length, chain head) → zip bytes, for the public download
_ZIP_CACHE: dict[tuple, bytes] = {}
_ZIP_CACHE_LIMIT = 4


def bundle_zip(cycle: Cycle) -> bytes:
    """The public download. Checking the kept bundle against the database reads every
    ballot, so one zip is kept per published results and chain head (anyone may ask for it,
    often); exports for auditors and "verify now" check (bundle_files) every time."""
    snapshot = published_snapshot(cycle)
    chain = db.session.get(Chain, cycle.chain_id)
    key = (cycle.id, snapshot.results_hash, chain.length, chain.head_hash)
    content = _ZIP_CACHE.get(key)
    if content is None:
        content = bundle_format.zip_bytes(bundle_files(cycle), bundle_folder_name(cycle))
        if len(_ZIP_CACHE) >= _ZIP_CACHE_LIMIT:
            _ZIP_CACHE.pop(next(iter(_ZIP_CACHE)))
        _ZIP_CACHE[key] = content
    return content


CHAIN_EXPORT_FILE = "chain.jsonl"


@dataclass(frozen=True)
class ExportPaths:
    bundle_dir: Path
    bundle_zip: Path
    chain: Path | None


def export(cycle: Cycle, outdir: str | Path, with_chain: bool = False) -> ExportPaths:
    """Write OUTDIR/<slug>-results/ (the bundle), its .zip and, with_chain, chain.jsonl.

    OUTDIR must not exist yet or be empty, so an old file can never pass for a new one."""
    outdir = Path(outdir)
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise DomainError(_("%(outdir)s is not an empty directory; choose a new one.",
                            outdir=outdir), 409)
    files = bundle_files(cycle)  # refuses before publication, before anything is written
    lines = None
    if with_chain:
        # streamed to the file, never held whole (a city's chain is hundreds of megabytes);
        # the first line is taken now, so the embargo refuses before anything is written
        stream = chain_export_lines(cycle)
        lines = itertools.chain([line for line in itertools.islice(stream, 1)], stream)
    folder = bundle_folder_name(cycle)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        bundle_format.write_directory(files, outdir / folder)
        archive = outdir / f"{folder}.zip"
        archive.write_bytes(bundle_format.zip_bytes(files, folder))
        chain_path = None
        if lines is not None:
            chain_path = outdir / CHAIN_EXPORT_FILE
            with open(chain_path, "w", encoding="utf-8", newline="") as out:
                out.writelines(lines)
    except OSError as error:
        raise DomainError(_("Cannot write to %(outdir)s: %(strerror)s.",
                            outdir=outdir, strerror=error.strerror), 409) from error
    return ExportPaths(outdir / folder, archive, chain_path)


def verify_now(cycle: Cycle) -> verify.Report:
    """Export the bundle and the chain to a temporary directory and run the standalone
    verifier on them, exactly as an outside auditor would."""
    with tempfile.TemporaryDirectory(prefix="pbvote-verify-") as scratch:
        paths = export(cycle, Path(scratch) / "export", with_chain=True)
        # the one place the receipt key meets the chain: the check's report says only
        # whether the receipts re-derive, never which ballot gives which receipt
        return verify.verify_path(paths.bundle_zip, paths.chain, cycle.receipt_key or "")


def verify_delivery_now(cycle: Cycle) -> verify.Report | None:
    """The cycle's delivery bundle, built from the stored rows as they are (even when they no
    longer verify, so that the report names the failing check), written as the public zip and
    run through the standalone verifier; None when delivery is not tracked."""
    from pbvote.services.delivery import export as delivery_export
    from pbvote.services.delivery.records import delivery_chain

    if delivery_chain(cycle) is None:
        return None
    files = delivery_export.bundle_files(cycle, checked=False)
    with tempfile.TemporaryDirectory(prefix="pbvote-verify-delivery-") as scratch:
        path = Path(scratch) / f"{cycle.slug}-delivery.zip"
        path.write_bytes(delivery_export.zip_of(cycle, files))
        return verify.verify_path(path)
