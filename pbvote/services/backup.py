"""Consistent online backups and restores of a pbvote database and its instance files.

A backup is a new folder:

- `database.sqlite3` (SQLite, through SQLite's online backup API: a consistent snapshot
  while ballots are being cast, never a copy of a live file) or `database.pgdump`
  (PostgreSQL, `pg_dump --format=custom`, one consistent snapshot);
- `instance.tar`: the instance files a cycle needs (uploaded images); not the secrets
  (keep PBVOTE_SECRET_KEY and PBVOTE_IDENTITY_KEY apart from backups: the identity key is
  needed to restore a cycle that can still be voted in), not job results or code exports
  (access codes in clear), not the database itself;
- `metadata.json`: format, engine, schema revision, time, each chain's length and head, row
  counts, and the SHA-256 and size of each file, checked before anything is restored.

`restore` refuses a target database that has any table, a backup from a newer schema, a
backup of the other engine, and a backup whose files do not match their metadata (truncated
or changed). The restored database is checked against the metadata (chain heads, counts).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from pbvote.infra.extensions import db
from pbvote.models import Ballot, Chain, Participation, RollEntry

FORMAT = 1
METADATA = "metadata.json"
INSTANCE_ARCHIVE = "instance.tar"
#: instance entries never backed up: secrets, the database, locks, codes in clear
EXCLUDED = {"secret_key", "jobs", "code-exports", "roll-uploads", "demo-credentials.txt"}
EXCLUDED_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-writers",
                     ".sqlite3-journal")


class BackupError(Exception):
    """A backup or restore refused or failed: the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    metadata: dict


def _engine_name(url: str) -> str:
    return make_url(url).get_backend_name()


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot_facts(session) -> dict:
    """What a restore must reproduce: each chain's length and head, and row counts."""
    chains = {name: {"length": length, "head": head} for name, length, head in session.execute(
        select(Chain.name, Chain.length, Chain.head_hash).order_by(Chain.name))}
    counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
              for model in (Ballot, Participation, RollEntry)}
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"schema_revision": sorted(revision), "chains": chains, "counts": counts}


# ---------------------------------------------------------------------------
# Backup


def backup(destination: str | Path) -> BackupResult:
    """A complete backup in `destination`, or nothing: on any failure (a full or read-only
    disk, pg_dump refused) what this backup wrote is removed again."""
    folder = Path(destination)
    created = not folder.exists()
    _prepare_destination(folder)
    try:
        return _backup_into(folder)
    except (BackupError, OSError, sqlite3.Error) as error:
        _remove_partial(folder, created)
        if isinstance(error, BackupError):
            raise
        reason = getattr(error, "strerror", None) or str(error)
        # English: only the backup and restore commands show this
        raise BackupError(f"Could not write the backup to {folder}: {reason}. Nothing was "
                          "kept; free space or fix permissions and run the backup again."
                          ) from error


def _remove_partial(folder: Path, created: bool) -> None:
    """Remove what a failed backup wrote: the folder was new or empty before it."""
    if created:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _backup_into(folder: Path) -> BackupResult:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = _engine_name(url)
    try:
        if engine == "sqlite":
            name, facts = "database.sqlite3", _backup_sqlite(url, folder / "database.sqlite3")
        elif engine == "postgresql":
            name, facts = "database.pgdump", _backup_postgres(url, folder / "database.pgdump")
        else:
            # English: only the backup and restore commands show this
            raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")
        _archive_instance(Path(current_app.instance_path), folder / INSTANCE_ARCHIVE)
        files = {item: {"sha256": _sha256(folder / item), "bytes": (folder / item).stat().st_size}
                 for item in (name, INSTANCE_ARCHIVE)}
        metadata = {"format": FORMAT, "engine": engine, "database_file": name,
                    "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    **facts, "files": files}
        _write_new(folder / METADATA, json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        # English: only the backup and restore commands show this
        raise BackupError(f"Could not write the backup to {folder}: {error.strerror or error}. "
                          "Nothing was kept; free space or fix permissions and run the backup "
                          "again.") from error
    return BackupResult(folder, metadata)


def _prepare_destination(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        # English: only the backup and restore commands show this
        raise BackupError(f"{folder} exists and is not an empty folder; back up into a new one.")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        # English: only the backup and restore commands show this
        raise BackupError(f"Cannot write to {folder}: {error.strerror or error}.") from error


def _write_new(path: Path, content: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                   encoding="utf-8") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def _backup_sqlite(url: str, target: Path) -> dict:
    source_path = make_url(url).database
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        # one step (pages=-1): the copy is one read transaction of the source, so it is a
        # consistent snapshot even while writers go on (WAL lets them)
        source.backup(copy, pages=-1)
        copy.commit()
    finally:
        source.close()
        copy.close()
    os.chmod(target, 0o600)
    facts_engine = create_engine(f"sqlite:///{target}")
    try:
        with facts_engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                return snapshot_facts(session)
    finally:
        facts_engine.dispose()


def _backup_postgres(url: str, target: Path) -> dict:
    # pg_dump's snapshot and the facts must agree: export a snapshot and read both in it
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                facts = snapshot_facts(session)
            done = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", "--file", str(target), _libpq_url(url)],
                capture_output=True, text=True, timeout=3600)
            connection.rollback()
    finally:
        engine.dispose()
    if done.returncode != 0:
        # English: only the backup and restore commands show this
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    os.chmod(target, 0o600)
    return facts


def _archive_instance(instance: Path, target: Path) -> None:
    with tarfile.open(target, "w") as archive:
        if instance.is_dir():
            for entry in sorted(instance.iterdir()):
                if entry.name in EXCLUDED or entry.name.endswith(EXCLUDED_SUFFIXES):
                    continue
                archive.add(entry, arcname=entry.name)
    os.chmod(target, 0o600)


# ---------------------------------------------------------------------------
# Restore


def read_metadata(folder: Path) -> dict:
    path = folder / METADATA
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        # English: only the backup and restore commands show this
        raise BackupError(f"{folder} is not a pbvote backup: it has no {METADATA}.") from error
    except (OSError, ValueError) as error:
        # English: only the backup and restore commands show this
        raise BackupError(f"{path} cannot be read: the backup is damaged.") from error
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        # English: only the backup and restore commands show this
        raise BackupError(f"{path} is not a backup this version of pbvote can read.")
    for name, expected in (metadata.get("files") or {}).items():
        item = folder / name
        if not item.is_file():
            # English: only the backup and restore commands show this
            raise BackupError(f"The backup is incomplete: {name} is missing.")
        if item.stat().st_size != expected.get("bytes") or _sha256(item) != expected.get(
                "sha256"):
            # English: only the backup and restore commands show this
            raise BackupError(f"The backup is damaged: {name} does not match its checksum "
                              "(truncated or changed). Restore another backup.")
    if set(metadata.get("files") or {}) != {metadata.get("database_file"), INSTANCE_ARCHIVE}:
        # English: only the backup and restore commands show this
        raise BackupError("The backup's metadata does not list its files; it is damaged.")
    return metadata


def restore(source: str | Path) -> dict:
    """Restore into the configured, empty database and instance folder; returns the
    metadata. A backup from an older schema is restored as it is: `pbvote init-db` then
    brings it to the current one."""
    folder = Path(source)
    metadata = read_metadata(folder)
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = _engine_name(url)
    if metadata["engine"] != engine:
        # English: only the backup and restore commands show this
        raise BackupError(f"This is a {metadata['engine']} backup; the configured database is "
                          f"{engine}. Restore it into a {metadata['engine']} database.")
    known = _known_revisions()
    if not set(metadata["schema_revision"]) <= known:
        # English: only the backup and restore commands show this
        raise BackupError("The backup comes from a newer version of pbvote (schema "
                          f"{', '.join(metadata['schema_revision'])}); upgrade pbvote first.")
    if inspect(db.engine).get_table_names():
        # English: only the backup and restore commands show this
        raise BackupError("The configured database is not empty; restore only into a new, "
                          "empty database.")
    db.engine.dispose()
    database = folder / metadata["database_file"]
    try:
        if engine == "sqlite":
            _restore_sqlite(database, make_url(url).database)
        else:
            _restore_postgres(database, url)
        db.engine.dispose()
        with db.engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                facts = snapshot_facts(session)
        for key in ("chains", "counts", "schema_revision"):
            if facts[key] != metadata[key]:
                # English: only the backup and restore commands show this
                raise BackupError(f"The restored database does not match the backup's {key}; "
                                  "the backup is damaged. Nothing was restored.")
    except BaseException:
        _empty_target(engine, url)
        raise
    _extract_instance(folder / INSTANCE_ARCHIVE, Path(current_app.instance_path))
    return metadata


def _empty_target(engine: str, url: str) -> None:
    """Undo a restore that failed its checks: the target is left as empty as it was."""
    db.engine.dispose()
    if engine == "sqlite":
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with db.engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        connection.commit()
    db.engine.dispose()


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _restore_sqlite(backup_file: Path, target_path: str) -> None:
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode = WAL")
        target.commit()
    finally:
        source.close()
        target.close()


def _restore_postgres(dump: Path, url: str) -> None:
    done = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         "--dbname", _libpq_url(url), str(dump)],
        capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        # English: only the backup and restore commands show this
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def _extract_instance(archive: Path, instance: Path) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=instance) as staging, \
            tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
        for entry in Path(staging).iterdir():
            destination = instance / entry.name
            if destination.exists():
                if entry.is_dir():
                    shutil.copytree(entry, destination, dirs_exist_ok=True)
                continue
            shutil.move(str(entry), destination)
