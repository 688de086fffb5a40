"""The hash-chained log, as pure functions over plain data.

entry_hash = SHA-256(previous_hash ‖ canonical_json(entry)), both as UTF-8 text, where the
first entry's previous hash is GENESIS_HASH. A receipt code is derived from its ballot's
entry hash with the cycle's secret receipt key, so it proves the ballot is in the chain
without revealing what it says, and nobody holding the chain (entry hashes beside ballot
contents) can map a receipt to its ballot without that key.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_LENGTH = 10  # 50 bits: short enough to read aloud, collisions retried at cast time


#: json.dumps(value, **these) builds a new encoder, and a closure, on every call, which at
#: city scale (a call per ballot and per chain entry, several times over) cost as much as
#: the encoding. The C encoder json.dumps uses is made directly instead, with the same
#: options and a fresh circular-reference guard per call; where it is missing (another
#: Python) or writes anything else for the sample below, json.dumps is used as before.
_CANONICAL_OPTIONS = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False,
                      "allow_nan": False}


def _dumps(value: Any) -> str:
    return json.dumps(value, **_CANONICAL_OPTIONS)


def _c_encoder():
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return None

    def encode(value: Any) -> str:
        return "".join(make({}, None, encoder.encode_basestring, None, ":", ",", True, False,
                            False)(value, 0))

    sample = {"position": 7, "kind": "ballot", "b": [1, -2.5, None, True, "é\u2028\"\n"],
              "a": {"z": {}, "y": []}, "é": "x"}
    try:
        if encode(sample) == _dumps(sample) and encode("s") == _dumps("s"):
            return encode
    except (TypeError, ValueError):
        pass
    return None


_encode = _c_encoder() or _dumps


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value: sorted keys, no spaces, UTF-8."""
    return _encode(value)


def entry_hash(previous_hash: str, entry_json: str) -> str:
    return hashlib.sha256((previous_hash + entry_json).encode("utf-8")).hexdigest()


def receipt_from_entry_hash(entry_hash_hex: str, key: str = "") -> str:
    """Ten Crockford base-32 characters, shown as XXXXX-XXXXX.

    ``key`` is the cycle's receipt key (hex), which only the server holds: the receipt is an
    HMAC of the entry hash, so the chain export (entry hashes beside ballot contents) does
    not map a receipt to its ballot for anyone without the key. An empty key is the
    derivation of cycles whose voting started before receipts were keyed (a plain hash).
    """
    message = ("receipt:" + entry_hash_hex).encode("ascii")
    if key:
        digest = hmac.new(bytes.fromhex(key), message, hashlib.sha256).digest()
    else:
        digest = hashlib.sha256(message).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * RECEIPT_LENGTH)
    chars = []
    for _ in range(RECEIPT_LENGTH):
        chars.append(CROCKFORD_ALPHABET[number & 31])
        number >>= 5
    code = "".join(reversed(chars))
    return f"{code[:5]}-{code[5:]}"


def normalise_receipt(text: str) -> str:
    """Accept what a person types: any case, spaces or dashes, O for 0 and I/L for 1."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != RECEIPT_LENGTH or any(ch not in CROCKFORD_ALPHABET for ch in cleaned):
        return ""
    return f"{cleaned[:5]}-{cleaned[5:]}"


@dataclass(frozen=True)
class ChainEntry:
    position: int
    entry_json: str
    previous_hash: str
    entry_hash: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    verified_length: int
    head_hash: str
    problem: str | None = None


def verify_chain(entries: Iterable[ChainEntry], expected_head: str | None = None,
                 on_entry: Callable[[ChainEntry, dict], None] | None = None) -> ChainReport:
    """Check positions, links and hashes in order; stop at the first broken entry.

    ``on_entry(entry, stored)``, if given, sees each entry that held, with its parsed JSON,
    so a caller reading a long chain once need not parse it again."""
    previous = GENESIS_HASH
    count = 0
    for entry in entries:
        expected_position = count + 1
        if entry.position != expected_position:
            return ChainReport(False, count, previous,
                               f"entry {expected_position}: found position {entry.position}")
        if entry.previous_hash != previous:
            return ChainReport(False, count, previous,
                               f"entry {entry.position}: previous hash does not link")
        try:
            stored = json.loads(entry.entry_json)
        except ValueError:
            return ChainReport(False, count, previous, f"entry {entry.position}: not JSON")
        if canonical_json(stored) != entry.entry_json or stored.get("position") != entry.position:
            return ChainReport(False, count, previous,
                               f"entry {entry.position}: content is not canonical or misplaced")
        if entry_hash(previous, entry.entry_json) != entry.entry_hash:
            return ChainReport(False, count, previous, f"entry {entry.position}: hash mismatch")
        if on_entry is not None:
            on_entry(entry, stored)
        previous = entry.entry_hash
        count += 1
    if expected_head is not None and expected_head != previous:
        return ChainReport(False, count, previous, "chain head does not match the recorded head")
    return ChainReport(True, count, previous)
