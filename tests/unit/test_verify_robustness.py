"""The standalone verifier on hostile input (issue #21 item 11): unreadable input exits 2
with a message and never a traceback, a zip bomb is stopped at a limit derived from the
bundle's manifest and results instead of being read into memory, and a file no bundle has
fails `files` even when SHA256SUMS lists it."""
from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import pytest

from pbvote.audit import bundle as bundle_format
from pbvote.audit import verify
from pbvote.audit.verify.__main__ import main
from tests.unit.test_audit_verify import failed_check, make_bundle, make_chain, resum


@pytest.fixture(scope="module")
def files():
    return make_bundle(make_chain())


@pytest.fixture(scope="module")
def zipped(files):
    return bundle_format.zip_bytes(files, "c1-results")


def _run(tmp_path, data: bytes, name="bundle.zip", chain: bytes | None = None) -> int:
    path = tmp_path / name
    path.write_bytes(data)
    args = [str(path)]
    if chain is not None:
        (tmp_path / "chain.jsonl").write_bytes(chain)
        args += ["--chain", str(tmp_path / "chain.jsonl")]
    return main(args)


def test_every_single_byte_corruption_of_a_zip_exits_cleanly(tmp_path, zipped, capsys):
    """Before: 42 of 55 single-byte corruptions of a real bundle zip crashed it."""
    codes = []
    step = max(1, len(zipped) // 400)
    for position in range(0, len(zipped), step):
        for flip in (0xFF, 0x01):
            corrupt = bytearray(zipped)
            corrupt[position] ^= flip
            codes.append(_run(tmp_path, bytes(corrupt)))  # raises on a crash
    assert set(codes) <= {0, 1, 2}
    assert 2 in codes
    assert "Traceback" not in capsys.readouterr().err


def test_a_corrupt_deflate_stream_exits_2(tmp_path, files, capsys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    data = bytearray(buffer.getvalue())
    start = data.index(b"PK\x03\x04") + 30 + len(sorted(files)[0]) + 20  # inside a stream
    data[start:start + 8] = b"\xff" * 8
    assert _run(tmp_path, bytes(data)) in (1, 2)
    assert "Traceback" not in capsys.readouterr().err


def test_a_non_utf8_or_deeply_nested_chain_exits_2(tmp_path, zipped, capsys):
    assert _run(tmp_path, zipped, chain=b"\xff\xfe not text\n") == 2
    assert "not UTF-8" in capsys.readouterr().err
    nested = ("[" * 100_000 + "]" * 100_000 + "\n").encode()
    assert _run(tmp_path, zipped, chain=nested) == 2
    assert "is not a chain entry" in capsys.readouterr().err


def test_a_deeply_nested_bundle_file_fails_without_a_traceback(files):
    edited = dict(files, **{"participation.json": b"[" * 100_000 + b"]" * 100_000})
    report = verify.verify_files(resum(edited))
    assert not report.ok


def test_a_zip_bomb_is_stopped_at_its_limit(tmp_path, files, capsys):
    """A few MB of zip holding 1 GB: stopped when a member passes what the manifest and
    results allow, with a few MB of memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            if name != "ballots.json":
                archive.writestr(f"c1-results/{name}", data)
        with archive.open("c1-results/ballots.json", "w", force_zip64=True) as member:
            block = b" " * (1024 * 1024)
            for _ in range(1024):
                member.write(block)
    bomb = buffer.getvalue()
    assert len(bomb) < 5 * 1024 * 1024
    tracemalloc.start()
    try:
        assert _run(tmp_path, bomb) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48 * 1024 * 1024, peak
    assert "ballots.json" in capsys.readouterr().err


def test_a_member_larger_than_it_declares_is_refused():
    limits = verify.reading.member_limits({
        "manifest.json": json.dumps({"manifest": {"districts": [
            {"slug": "north", "projects": [{"id": "N-A"}, {"id": "N-B"}]}]}}).encode(),
        "results.json": json.dumps({"districts": [{"slug": "north", "ballots": 1000}]}).encode()})
    assert 64 * 1024 < limits["ballots.json"] < 2 * 1024 * 1024
    assert limits["ballots-north.pb"] < 2 * 1024 * 1024


def test_an_extra_file_listed_in_sha256sums_fails_files(files):
    edited = resum(dict(files, **{"notes.txt": b"trust me\n"}))
    report = verify.verify_files(edited)
    assert failed_check(report) == "files"
    assert "notes.txt" in report.first_failure.detail
    # a district's Pabulib file and the optional paper audit are expected
    assert verify.verify_files(files).ok
