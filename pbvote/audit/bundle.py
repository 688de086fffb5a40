"""Writing the published results bundle from plain data (pure: no Flask, no database).

The file names and the shared definitions (ballot digest, profiles, tally parameters) live
in :mod:`pbvote.audit.verify`, so the exporter and the verifier cannot drift apart.

Ballots are written in an order drawn from the operating system's random source
(``secrets.SystemRandom``): it is not reproducible and so carries nothing about the order
of casting. The files never hold receipts beside ballots, voter data or channels per ballot
(a ballot's channel beside its contents could single out a small in-person site).
"""
from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode_basestring
from pathlib import Path
from typing import Any

from pbvote.audit.verify import (
    BALLOTS_CSV_FILE,
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    CSV_HEADER,
    MANIFEST_FILE,
    PARTICIPATION_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
    SUMS_FILE,
    ballot_text,
    district_instance,
    district_profile,
    pabulib_file_name,
    render_sums,
)
from pbvote.tally import dumps_pabulib, from_election

ZIP_TIMESTAMP = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BundleInput:
    manifest: dict
    manifest_hash: str
    #: district slug → the stored selections of each ballot (any order; shuffled here)
    ballots: dict[str, list[Any]]
    #: district slug → receipt codes
    receipts: dict[str, list[str]]
    #: district slug → channel → number of participations
    participation: dict[str, dict[str, int]]
    #: the published results snapshot, byte for byte
    results_json: str
    #: district slug → projects the published results selected (marked in the .pb files)
    selected: dict[str, list[str]]
    chain_head: str
    chain_length: int


_PRETTY_OPTIONS = {"indent": 2, "sort_keys": True, "ensure_ascii": False}


def _pretty(value: Any) -> bytes:
    """json.dumps(value, **_PRETTY_OPTIONS) + newline, as UTF-8: the same bytes, written faster."""
    return (pretty_json(value) + "\n").encode("utf-8")


def pretty_json(value: Any) -> str:
    """Exactly ``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)``.

    json.dumps with an indent runs the pure-Python encoder over every value, which for
    ballots.json at city scale (hundreds of thousands of small lists) took seconds. Here
    each dict and list with string keys is laid out the same way, and each other value, or
    a value seen before at the same depth (the bundle shares one object per distinct
    ballot), is written once by json.dumps and re-indented: inside JSON text a line break
    only ever comes from the indent, so shifting every line is exact.
    """
    return _indented(value, 0, {})


def _indented(value: Any, level: int, memo: dict) -> str:
    key = (id(value), level)
    found = memo.get(key)
    if found is not None:
        return found[0]
    inner = "\n" + "  " * (level + 1)
    if type(value) is dict and value and all(type(k) is str for k in value):
        text = "{" + inner + ("," + inner).join(
            json.dumps(k, ensure_ascii=False) + ": " + _indented(value[k], level + 1, memo)
            for k in sorted(value)) + "\n" + "  " * level + "}"
    elif type(value) is list and value:
        text = "[" + inner + ("," + inner).join(
            _indented(item, level + 1, memo) for item in value) + "\n" + "  " * level + "]"
    else:
        text = json.dumps(value, **_PRETTY_OPTIONS).replace("\n", "\n" + "  " * level)
    if isinstance(value, (dict, list)):
        memo[key] = (text, value)  # the value is kept so that its id is not reused meanwhile
    return text


def build_bundle(data: BundleInput, rng: secrets.SystemRandom | None = None) -> dict[str, bytes]:
    """File name → bytes of every bundle file, SHA256SUMS last."""
    rng = rng or secrets.SystemRandom()
    shuffled = {}
    for district in data.manifest["districts"]:
        ballots = list(data.ballots.get(district["slug"], []))
        rng.shuffle(ballots)
        shuffled[district["slug"]] = ballots
    cycle = data.manifest["cycle"]
    files: dict[str, bytes] = {
        MANIFEST_FILE: _pretty({"manifest": data.manifest, "manifest_hash": data.manifest_hash}),
        BALLOTS_JSON_FILE: _pretty({
            "cycle": cycle["slug"],
            "order": "random (operating-system source); it says nothing about casting order",
            "districts": shuffled}),
        BALLOTS_CSV_FILE: _ballots_csv(shuffled),
        RECEIPTS_FILE: _receipts_text(cycle["slug"], data.receipts),
        RESULTS_FILE: data.results_json.encode("utf-8"),
        PARTICIPATION_FILE: _pretty({
            "cycle": cycle["slug"],
            "note": "number of people who voted, per district and channel; no identities",
            "districts": {slug: dict(sorted(channels.items()))
                          for slug, channels in sorted(data.participation.items())}}),
        CHAIN_HEAD_FILE: f"{data.chain_head} {data.chain_length}\n".encode("ascii"),
    }
    for district in data.manifest["districts"]:
        files[pabulib_file_name(district["slug"])] = _pabulib(
            data.manifest, district, shuffled[district["slug"]],
            data.selected.get(district["slug"])).encode("utf-8")
    files[SUMS_FILE] = render_sums(files).encode("utf-8")
    return files


def _ballots_csv(shuffled: dict[str, list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    texts: dict[int, str] = {}  # by identity: a ballot value shared by many ballots is written once
    for slug, ballots in shuffled.items():
        for ballot in ballots:
            text = texts.get(id(ballot))
            if text is None:
                text = texts[id(ballot)] = ballot_text(ballot)
            writer.writerow([slug, text])
    return out.getvalue().encode("utf-8")


def _receipts_text(cycle_slug: str, receipts: dict[str, list[str]]) -> bytes:
    lines = [f"# Receipts of cycle {cycle_slug}: one '<district> <receipt>' per line, sorted."]
    for slug in sorted(receipts):
        lines.extend(f"{slug} {code}" for code in sorted(receipts[slug]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _pabulib(manifest: dict, district: dict, ballots: list, selected: list[str] | None) -> str:
    """One district as Pabulib, with META rule (and ranked length) so that
    ``python -m pbvote.tally FILE --param tie_seed=SEED`` repeats the count."""
    instance = district_instance(district)
    profile = district_profile(district, instance, ballots)
    cycle = manifest["cycle"]
    kind = district["ballot"]["kind"]
    meta = {
        "description": f"{cycle['name']}, {district['name']} (pbvote)",
        "country": "", "unit": cycle.get("city", ""), "instance": cycle["slug"],
        "subunit": district["slug"], "currency": cycle["currency"],
        "vote_type": {"ranked": "ordinal", "cumulative": "cumulative",
                      "knapsack": "knapsack"}.get(kind, "approval"),
        "rule": district["tally"]["rule"],
        "tie_seed": cycle["tie_break_seed"],
    }
    params = district["tally"]["params"]
    if kind == "ranked" and district["ballot"].get("max_choices"):
        meta["max_length"] = str(district["ballot"]["max_choices"])
    if kind == "ranked" and params.get("scoring_fn"):
        meta["scoring_fn"] = str(params["scoring_fn"])
    if kind == "cumulative" and district["ballot"].get("points"):
        meta["max_sum_points"] = str(district["ballot"]["points"])
    return dumps_pabulib(from_election(instance, profile, meta, selected=selected))


def with_file(files: dict[str, bytes], name: str, document: dict) -> dict[str, bytes]:
    """The bundle with one more JSON file, SHA256SUMS renewed."""
    files = {key: data for key, data in files.items() if key != SUMS_FILE}
    files[name] = _pretty(document)
    files[SUMS_FILE] = render_sums(files).encode("utf-8")
    return files


def with_chain_head(files: dict[str, bytes], head: str, length: int) -> dict[str, bytes]:
    """The bundle with chain_head.txt naming the chain as it is now, SHA256SUMS renewed.

    Only the chain checks (--chain) read chain_head.txt, so a bundle that passed the
    bundle-only checks passes them still with another head."""
    files = {key: data for key, data in files.items() if key != SUMS_FILE}
    files[CHAIN_HEAD_FILE] = f"{head} {length}\n".encode("ascii")
    files[SUMS_FILE] = render_sums(files).encode("utf-8")
    return files


def chain_head_of(files: dict[str, bytes]) -> tuple[str, int]:
    """(head hash, number of entries) that chain_head.txt names."""
    head, length = files[CHAIN_HEAD_FILE].decode("ascii").split()
    return head, int(length)


def files_from_zip(content: bytes) -> dict[str, bytes]:
    """File name → bytes of a bundle zip written by zip_bytes (its one top folder dropped)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()
                if "/" in name and not name.endswith("/")}


def zip_bytes(files: dict[str, bytes], folder: str) -> bytes:
    """The bundle as a zip with one top folder; fixed timestamps, so only content differs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def write_directory(files: dict[str, bytes], directory: str | Path) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)


def chain_export_line(position: int, kind: str, entry_json: str, previous_hash: str,
                      entry_hash: str) -> str:
    """One line of the auditors' chain export (JSON lines, in chain order).

    ``entry_json`` is the exact hashed text. No receipt appears beside a ballot: the chain
    holds ballot contents, and a receipt next to them would let anyone holding the export
    learn how the receipt's owner voted.

    The line is canonical_json of {"entry_hash", "entry_json", "kind", "position",
    "previous_hash"}, laid out here key by key (sorted, as canonical_json sorts them), since
    a city's chain has hundreds of thousands of lines."""
    return "".join(('{"entry_hash":', _json_string(entry_hash), ',"entry_json":',
                    _json_string(entry_json), ',"kind":', _json_string(kind), ',"position":',
                    str(int(position)), ',"previous_hash":', _json_string(previous_hash),
                    '}\n'))


def _json_string(text: str) -> str:
    """A string as canonical_json writes it (UTF-8 kept, only what JSON requires escaped)."""
    return _encode_basestring(str(text))
