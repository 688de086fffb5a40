"""files, sha256: SHA256SUMS lists exactly the files there are, and each one's hash holds."""
from __future__ import annotations

import json

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import (
    MANIFEST_FILE,
    PAPER_AUDIT_FILE,
    REQUIRED_FILES,
    SUMS_FILE,
    TRANSITIONS_FILE,
    pabulib_file_name,
)
from pbvote.audit.verify.reading import parse_sums, read_text
from pbvote.audit.verify.report import CheckFailed
from pbvote.audit.verify.shared import sha256_hex


def check_files(state: State) -> str:
    if SUMS_FILE not in state.files:
        raise CheckFailed(f"{SUMS_FILE} is missing")
    state.sums = parse_sums(read_text(state.files, SUMS_FILE))
    for name in REQUIRED_FILES:
        if name not in state.sums:
            raise CheckFailed(f"{name} is not listed in {SUMS_FILE}")
    missing = sorted(set(state.sums) - set(state.files))
    if missing:
        raise CheckFailed(f"listed in {SUMS_FILE} but missing: {', '.join(missing)}")
    extra = sorted(set(state.files) - set(state.sums) - {SUMS_FILE})
    if extra:
        raise CheckFailed(f"not listed in {SUMS_FILE}: {', '.join(extra)}")
    unexpected = sorted(set(state.sums) - _expected_files(state))
    if unexpected:
        raise CheckFailed(f"not part of a bundle, though listed in {SUMS_FILE}: "
                          f"{', '.join(unexpected)}")
    return f"{len(state.sums)} files listed, all present"

def check_sums(state: State) -> str:
    for name, expected in sorted(state.sums.items()):
        actual = sha256_hex(state.files[name])
        if actual != expected:
            raise CheckFailed(f"{name}: SHA-256 is {actual}, {SUMS_FILE} says {expected}")
    return f"{len(state.sums)} files match"


def _expected_files(state: State) -> set[str]:
    """The files a bundle may hold: the required ones, the optional paper audit and voting
    extensions, and one Pabulib file per district of the manifest."""
    try:
        manifest = json.loads(state.files[MANIFEST_FILE].decode("utf-8"))["manifest"]
        slugs = [str(d["slug"]) for d in manifest["districts"]]
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        raise CheckFailed(f"{MANIFEST_FILE} does not list the districts") from None
    return {*REQUIRED_FILES, PAPER_AUDIT_FILE, TRANSITIONS_FILE,
            *(pabulib_file_name(slug) for slug in slugs)}
