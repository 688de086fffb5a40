"""Reading a bundle: the files from a directory or a zip, the chain export, and the
strict parsers of the bundle's own text formats. A file that cannot be read at all is a
:class:`BundleError` (exit status 2); content a check finds wrong is a :class:`CheckFailed`."""
from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from pbvote.audit.verify.layout import (
    BALLOTS_CSV_FILE,
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    MANIFEST_FILE,
    PAPER_AUDIT_FILE,
    PARTICIPATION_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
    SUMS_FILE,
)
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import sha256_hex

SMALL_FILES = frozenset({MANIFEST_FILE, RESULTS_FILE, SUMS_FILE, PARTICIPATION_FILE,
                         CHAIN_HEAD_FILE, PAPER_AUDIT_FILE})


class BundleError(Exception):
    """The input cannot be read as a bundle (missing, not a zip, not JSON...)."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # passed back from a worker process (pbvote.audit.verify.chain_scan)
        return type(self), (self.where, self.problem)


#: what a bundle's small files (manifest, results, sums, participation, chain head, paper
#: audit) may hold; the ballot files' limits are derived from them (member_limits)
SMALL_FILE_BYTES = 64 * 1024 * 1024
#: a member's limit when the manifest and results cannot tell one (they will fail a check)
FALLBACK_MEMBER_BYTES = 256 * 1024 * 1024
SLACK_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024


def read_bundle_files(path: str | Path) -> dict[str, bytes]:
    """File name → bytes, from a directory or a zip (with or without one top folder).

    Each zip member is read in chunks up to a limit: SMALL_FILE_BYTES for the small files,
    and for the ballot files and receipts one derived from the manifest (projects per
    district) and results.json (ballots per district), so a zip bomb stops at its limit
    instead of filling the memory. Anything unreadable is a BundleError (exit status 2)."""
    path = Path(path)
    if path.is_dir():
        try:
            return {str(p.relative_to(path).as_posix()): p.read_bytes()
                    for p in sorted(path.rglob("*")) if p.is_file()}
        except OSError as exc:
            raise BundleError(str(path), f"cannot be read: {exc.strerror}") from None
    if not path.exists():
        raise BundleError(str(path), "no such file or directory")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_zip(archive)
    except zipfile.BadZipFile as exc:
        raise BundleError(str(path), f"is neither a directory nor a readable zip file ({exc})"
                          ) from None
    except (zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
            ValueError) as exc:
        raise BundleError(str(path), f"a member of the zip cannot be read "
                                     f"({type(exc).__name__}: {exc})") from None


def _read_zip(archive: zipfile.ZipFile) -> dict[str, bytes]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise BundleError("zip", "holds the same file name twice")
    tops = {PurePosixPath(n).parts[0] for n in names}
    prefix = ""
    if len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in names):
        prefix = next(iter(tops)) + "/"
    by_name = {info.filename[len(prefix):]: info for info in infos}
    files = {name: _read_member(archive, info, SMALL_FILE_BYTES)
             for name, info in by_name.items() if name in SMALL_FILES}
    limits = member_limits(files)
    for name, info in by_name.items():
        if name not in files:
            files[name] = _read_member(archive, info, limits.get(name, SLACK_BYTES))
    return files


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise BundleError(info.filename, f"declares {info.file_size} bytes, more than the "
                                         f"{limit} this bundle's manifest and results allow")
    chunks, total = [], 0
    with archive.open(info) as member:
        while chunk := member.read(READ_CHUNK):
            total += len(chunk)
            if total > min(limit, info.file_size):
                raise BundleError(info.filename, f"holds more than the {info.file_size} "
                                                 f"bytes its zip entry declares")
            chunks.append(chunk)
    return b"".join(chunks)


def member_limits(small: dict[str, bytes]) -> dict[str, int]:
    """The most each ballot file and receipts.txt may hold, in bytes: a generous bound per
    ballot (every project of the district with its number) times the ballots results.json
    counted, plus each project's row in the Pabulib file."""
    try:
        manifest = json.loads(small[MANIFEST_FILE].decode("utf-8"))["manifest"]
        counted = {d["slug"]: int(d["ballots"]) for d in
                   json.loads(small[RESULTS_FILE].decode("utf-8"))["districts"]}
        districts = {d["slug"]: [str(p.get("id", "")) for p in d.get("projects", [])]
                     for d in manifest["districts"]}
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        fallback = {name: FALLBACK_MEMBER_BYTES for name in (BALLOTS_JSON_FILE, BALLOTS_CSV_FILE,
                                                           RECEIPTS_FILE)}
        return fallback | {f"ballots-{slug}.pb": FALLBACK_MEMBER_BYTES
                           for slug in _slugs_or_nothing(small)}
    limits: dict[str, int] = {}
    all_ballots = all_receipts = SLACK_BYTES
    for slug, codes in districts.items():
        ballots = max(0, counted.get(slug, 0))
        per_ballot = 128 + len(slug) + sum(len(code) + 32 for code in codes)
        all_ballots += 2 * ballots * per_ballot
        all_receipts += ballots * (len(slug) + 16)
        limits[f"ballots-{slug}.pb"] = SLACK_BYTES + 4096 * len(codes) + 2 * ballots * per_ballot
    limits[BALLOTS_JSON_FILE] = limits[BALLOTS_CSV_FILE] = all_ballots
    limits[RECEIPTS_FILE] = all_receipts
    return limits


def _slugs_or_nothing(small: dict[str, bytes]) -> list[str]:
    try:
        manifest = json.loads(small[MANIFEST_FILE].decode("utf-8"))["manifest"]
        return [str(d["slug"]) for d in manifest["districts"]]
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return []


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


class ChainExportError(BundleError):
    """The chain export cannot be read: raised while it is read, which, since the export is
    read as a stream, may be in the middle of the checks; they pass it on (exit status 2)."""


class ChainExport:
    """The chain export: JSON lines, one entry each, in order, read as a stream each time
    it is iterated, so a city's chain (hundreds of megabytes) is never held whole."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with open(self.path, "rb"):
                pass
        except OSError as exc:
            raise ChainExportError(str(self.path),
                                   f"cannot read the chain export: {exc.strerror}") from None

    def __iter__(self) -> Iterator[dict]:
        for position, kind, entry_json, previous_hash, entry_hash in self.rows():
            yield {"position": position, "kind": kind, "entry_json": entry_json,
                   "previous_hash": previous_hash, "entry_hash": entry_hash}

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError as exc:
            raise ChainExportError(str(self.path),
                                   f"cannot read the chain export: {exc.strerror}") from None

    def line_starts(self, parts: int) -> list[int]:
        """`parts` + 1 byte offsets that cut the export into about equal runs of whole lines:
        0, the start of the first line at or after each cut, and the size."""
        size = self.size()
        offsets = [0]
        try:
            with open(self.path, "rb") as stream:
                for part in range(1, parts):
                    stream.seek(max(offsets[-1], size * part // parts - 1))
                    stream.readline()  # to the end of the line the cut falls in
                    offsets.append(min(stream.tell(), size))
        except OSError as exc:
            raise ChainExportError(str(self.path),
                                   f"cannot read the chain export: {exc.strerror}") from None
        return offsets + [size]

    def rows(self, start: int = 0, end: int | None = None
             ) -> Iterator[tuple[int, str, str, str, str]]:
        """(position, kind, entry_json, previous_hash, entry_hash) per entry, in order, of the
        lines that start from byte `start` (a line's start) up to byte `end`."""
        path = self.path
        loads = json.loads
        offset = start
        number = None  # of the line, counted only for a message
        try:
            # lines end at b"\n" only: a line break inside an entry is escaped, but U+2028
            # and the like, which str.splitlines also splits on, may stand in a text as they are
            with open(path, "rb") as stream:
                stream.seek(start)
                for raw in stream:
                    if end is not None and offset >= end:
                        return
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise ChainExportError(str(path), f"the chain export is not UTF-8 text "
                                                          f"(byte {offset + exc.start})") from None
                    offset += len(raw)
                    if not line.strip():
                        continue
                    try:
                        record = loads(line)
                        row = (int(record["position"]), str(record["kind"]),
                               str(record["entry_json"]), str(record["previous_hash"]),
                               str(record["entry_hash"]))
                    except (ValueError, KeyError, TypeError, RecursionError):
                        number = self._line_number(offset - len(raw))
                        raise ChainExportError(str(path), f"line {number} is not a chain entry"
                                               ) from None
                    yield row
        except OSError as exc:
            raise ChainExportError(str(path), f"cannot read the chain export: {exc.strerror}"
                                   ) from None

    def _line_number(self, offset: int) -> int:
        """The number of the line that starts at byte `offset`."""
        lines = 1
        with open(self.path, "rb") as stream:
            while offset > 0:
                chunk = stream.read(min(offset, 1 << 20))
                if not chunk:
                    break
                lines += chunk.count(b"\n")
                offset -= len(chunk)
        return lines


def read_chain_export(path: str | Path) -> ChainExport:
    """The chain export at `path`, to iterate (each pass reads the file again)."""
    return ChainExport(path)


# A file whose hash matched but does not decode fails its check; it is not unreadable input.
def read_json(files: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{name} is not valid JSON ({exc})") from None
    except RecursionError:
        raise CheckFailed(f"{name} is nested too deeply to be a bundle file") from None


def read_text(files: dict[str, bytes], name: str) -> str:
    try:
        return files[name].decode("utf-8")
    except UnicodeDecodeError:
        raise CheckFailed(f"{name} is not UTF-8 text") from None


# ----- results.json (pbvote.services.publication, format 1) ----------------------------
RESULTS_FORMATS = (1,)


def results_districts(results: dict) -> dict[str, dict]:
    """District slug → its entry in results.json."""
    if results.get("format") not in RESULTS_FORMATS:
        raise CheckFailed(f"{RESULTS_FILE} has format {results.get('format')!r}; this verifier "
                          f"reads format {', '.join(map(str, RESULTS_FORMATS))}")
    return {entry["slug"]: entry for entry in results["districts"]}

