"""Reading a bundle: the files from a directory or a zip, the chain export, and the
strict parsers of the bundle's own text formats. A file that cannot be read at all is a
:class:`BundleError` (exit status 2); content a check finds wrong is a :class:`CheckFailed`."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from pbvote.audit.verify.layout import CHAIN_HEAD_FILE, RECEIPTS_FILE, RESULTS_FILE, SUMS_FILE
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import sha256_hex


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


# A file whose hash matched but does not decode fails its check; it is not unreadable input.
def read_json(files: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{name} is not valid JSON ({exc})") from None


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

