"""Files kept between the roll import's web steps (upload → mapping → preview → confirm)."""
from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app

STASH_FOLDER = "roll-imports"
STASH_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
STASH_MAX_AGE_SECONDS = 24 * 3600


def stash_folder() -> Path:
    folder = Path(current_app.instance_path) / STASH_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def stash_upload(stream: io.IOBase, scope: str = "") -> str:
    """Save an uploaded file under a random token; old stashes are removed on the way.

    `scope` (the cycle's id) is part of the file name, so the token opens the file only for
    the cycle it was uploaded to."""
    remove_old_stashes()
    token = secrets.token_urlsafe(24)
    target = _stash_file(token, scope)
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
    return token


def _stash_file(token: str, scope: str) -> Path:
    return stash_folder() / (f"{scope}-{token}.csv" if scope else f"{token}.csv")


def stash_path(token: str, scope: str = "") -> Path | None:
    if not STASH_TOKEN.match(token or "") or not re.fullmatch(r"[0-9]*", scope):
        return None
    path = _stash_file(token, scope)
    return path if path.is_file() else None


def discard_stash(token: str, scope: str = "") -> None:
    path = stash_path(token, scope)
    if path is not None:
        for preview in path.parent.glob(f"{path.stem}.preview-*.json"):
            preview.unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def _preview_file(path: Path, job_id: str) -> Path:
    return path.with_name(f"{path.stem}.preview-{job_id}.json")


def save_preview(token: str, scope: str, job_id: str, preview: dict) -> None:
    """Keep a preview computed by a job beside its file: it names people in clear, so it
    goes when the file goes (discard_stash, remove_old_stashes), not with the job's row."""
    path = stash_path(token, scope)
    if path is None:
        raise FileNotFoundError(token)
    target = _preview_file(path, job_id)
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                   encoding="utf-8") as out:
        json.dump(preview, out)


def load_preview(token: str, scope: str, job_id: str) -> dict | None:
    path = stash_path(token, scope)
    if path is None or not re.fullmatch(r"[a-z]{32}", job_id or ""):
        return None
    try:
        with open(_preview_file(path, job_id), encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        return None


def read_header(path: Path) -> list[str]:
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return [h.strip() for h in next(csv.reader(stream), [])]
    except (UnicodeDecodeError, csv.Error):
        return []


def remove_old_stashes(now: float | None = None) -> int:
    """Delete uploaded roll files and their previews older than a day (they hold the roll
    in clear); returns how many. Each upload does it on the way, and `pbvote
    enforce-retention` daily."""
    cutoff = (time.time() if now is None else now) - STASH_MAX_AGE_SECONDS
    removed = 0
    for path in (*stash_folder().glob("*.csv"), *stash_folder().glob("*.json")):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
