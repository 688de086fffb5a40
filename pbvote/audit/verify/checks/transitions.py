"""Part of manifest-hash: transitions.json, when present, only ever moves the end of voting
later, starting from the end the manifest froze, each extension with a reason and under the
manifest's hash; each staff note names a district of the manifest and says something."""
from __future__ import annotations

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.layout import TRANSITIONS_FILE
from pbvote.audit.verify.reading import read_json
from pbvote.audit.verify.report import CheckFailed


def check_transitions(state: State, manifest_hash: str) -> str:
    if TRANSITIONS_FILE not in state.files:
        return ""
    document = read_json(state.files, TRANSITIONS_FILE)
    voting = next((p for p in state.manifest.get("phases", []) if p["kind"] == "voting"), None)
    end = voting["ends_at"] if voting else None
    extensions = document.get("voting_extensions", [])
    for number, extension in enumerate(extensions, start=1):
        before, after = extension["voting_ends_before"], extension["voting_ends_after"]
        if end is not None and before != end:
            raise CheckFailed(f"{TRANSITIONS_FILE}: extension {number} starts from an end of "
                              f"voting {before}, but voting was to end {end}")
        if not after > before:
            raise CheckFailed(f"{TRANSITIONS_FILE}: extension {number} moves the end of voting "
                              f"from {before} to {after}, which is not later")
        if not str(extension.get("reason", "")).strip():
            raise CheckFailed(f"{TRANSITIONS_FILE}: extension {number} gives no reason")
        if extension.get("manifest_hash") != manifest_hash:
            raise CheckFailed(f"{TRANSITIONS_FILE}: extension {number} was made under manifest "
                              f"{extension.get('manifest_hash')}, not {manifest_hash}")
        end = after
    notes = document.get("reconciliation_notes", [])
    for number, note in enumerate(notes, start=1):
        if note.get("district") not in state.districts:
            raise CheckFailed(f"{TRANSITIONS_FILE}: note {number} names unknown district "
                              f"{note.get('district')!r}")
        if not str(note.get("note", "")).strip():
            raise CheckFailed(f"{TRANSITIONS_FILE}: note {number} is empty")
    return f"; {len(extensions)} extensions of voting, {len(notes)} reconciliation notes"
