"""`pbvote upgrade`: apply the pending migrations without silently changing a frozen cycle.

A cycle is frozen once voting was scheduled or opened (its manifest is stored): from then on
its manifest, its ballots, its participations and its hash chain are evidence. So:

- a migration that means to change such data says so with a module-level flag
  ``touches_frozen_cycles = True``; while any cycle is frozen, `upgrade` refuses to apply a
  pending flagged migration unless the operator names its revision
  (``--allow-frozen-change REV``);
- every frozen cycle is fingerprinted before the migrations (with plain SQL, which works at
  any older schema) and re-verified after them, inside the same transaction: the chain
  verifies entry by entry and keeps its length and head, the stored manifest still hashes to
  the frozen hash and the cycle's configuration still rebuilds it, and the ballots,
  participations and roll entries are the same rows. Any difference rolls everything back,
  so the database is left at its old revision, untouched. (Both engines run DDL inside a
  transaction: PostgreSQL natively, SQLite because pbvote issues BEGIN itself.)

The text here is shown only by the command line, in English.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from pbvote.audit.chain import ChainEntry, canonical_json, verify_chain
from pbvote.infra.db import foreign_key_violations, sqlite_foreign_keys_off, write_intent
from pbvote.infra.extensions import db

#: the flag a migration module sets when it changes data that a frozen cycle depends on
FLAG = "touches_frozen_cycles"


class UpgradeRefused(Exception):
    """Nothing was changed: the message says why and what to do."""


@dataclass(frozen=True)
class Migration:
    revision: str
    summary: str
    touches_frozen_cycles: bool


@dataclass
class Plan:
    current: list[str]
    heads: list[str]
    pending: list[Migration]
    frozen_cycles: dict[str, dict]  # slug → fingerprint

    @property
    def flagged(self) -> list[Migration]:
        return [m for m in self.pending if m.touches_frozen_cycles]


@dataclass
class Result:
    plan: Plan
    seconds: float
    verified: list[str] = field(default_factory=list)
    #: of `seconds`, how long the migrations and the re-verification took
    migrating: float = 0.0
    verifying: float = 0.0
    #: slug → what an allowed migration changed in that cycle's stored data
    allowed_changes: dict[str, list[str]] = field(default_factory=dict)


def _config():
    migrate = current_app.extensions["migrate"]
    return migrate.migrate.get_config(str(migrate.directory))


def _pending(script: ScriptDirectory, current: list[str]) -> list[Migration]:
    lower = current[0] if len(current) == 1 else (None if not current else tuple(current))
    scripts = list(script.iterate_revisions("heads", lower))
    scripts.reverse()  # oldest first, the order they run in
    return [Migration(s.revision, (s.doc or "").strip().splitlines()[0] if s.doc else "",
                      bool(getattr(s.module, FLAG, False))) for s in scripts]


def plan_for(connection) -> Plan:
    script = ScriptDirectory.from_config(_config())
    current = sorted(MigrationContext.configure(connection).get_current_heads())
    return Plan(current, sorted(script.get_heads()), _pending(script, current),
                frozen_fingerprints(connection))


# ---------------------------------------------------------------------------
# Fingerprints of frozen cycles, in plain SQL so they read any schema since 0003


def _digest(rows) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:  # unit and record separators: cheap, and the same before and after
        digest.update(("\x1f".join("\x00" if v is None else str(v) for v in row)
                       + "\x1e").encode())
        count += 1
    return count, digest.hexdigest()


def frozen_fingerprints(connection) -> dict[str, dict]:
    tables = set(inspect(connection).get_table_names())
    if "cycle" not in tables:
        return {}
    columns = {c["name"] for c in inspect(connection).get_columns("cycle")}
    if "manifest_hash" not in columns:
        return {}
    # older schemas have no stored manifest text: NULL in its place
    cycles = connection.execute(text(
        "SELECT id, slug, chain_id, manifest_hash, manifest_json FROM cycle "
        "WHERE manifest_hash IS NOT NULL ORDER BY id" if "manifest_json" in columns else
        "SELECT id, slug, chain_id, manifest_hash, NULL FROM cycle "
        "WHERE manifest_hash IS NOT NULL ORDER BY id")).all()
    found = {}
    for cycle_id, slug, chain_id, manifest_hash, stored_manifest in cycles:
        chain = connection.execute(text("SELECT length, head_hash FROM chain WHERE id = :id"),
                                   {"id": chain_id}).one()
        by_cycle = {"cycle": cycle_id}
        found[slug] = {
            "id": cycle_id, "chain_id": chain_id,
            "chain": {"length": chain.length, "head": chain.head_hash},
            "manifest_hash": manifest_hash,
            "manifest_json_sha256": None if stored_manifest is None else hashlib.sha256(
                stored_manifest.encode("utf-8")).hexdigest(),
            "ballots": _digest(connection.execute(text(
                "SELECT district_id, channel, receipt, selections FROM ballot "
                "WHERE cycle_id = :cycle ORDER BY id"), by_cycle)),
            "participations": _digest(connection.execute(text(
                "SELECT district_id, channel, identity_hash FROM participation "
                "WHERE cycle_id = :cycle ORDER BY id"), by_cycle)),
            "roll_entries": _digest(connection.execute(text(
                "SELECT district_id, identity_hash FROM roll_entry "
                "WHERE cycle_id = :cycle ORDER BY id"), by_cycle)),
        }
    return found


def _verify_after(connection, before: dict[str, dict]) -> tuple[list[str], dict]:
    """(problems, changes): problems always roll back; changes (same counts, different
    contents) are allowed only by --allow-frozen-change."""
    from pbvote.models import Cycle
    from pbvote.services.cycles import build_manifest

    after = frozen_fingerprints(connection)
    problems: list[str] = []
    changes: dict[str, list[str]] = {}
    session = Session(bind=connection)
    try:
        for slug, old in before.items():
            new = after.get(slug)
            if new is None:
                # English: only the upgrade command shows this
                problems.append(f"cycle {slug}: no longer frozen (its manifest is gone)")
                continue
            entries = (ChainEntry(*row) for row in connection.execute(text(
                "SELECT position, entry_json, previous_hash, entry_hash FROM log_entry "
                "WHERE chain_id = :chain ORDER BY position"), {"chain": old["chain_id"]}))
            report = verify_chain(entries, expected_head=new["chain"]["head"])
            if not report.ok:
                # English: only the upgrade command shows this
                problems.append(f"cycle {slug}: the chain no longer verifies ({report.problem})")
            if new["chain"] != old["chain"]:
                # English: only the upgrade command shows this
                problems.append(f"cycle {slug}: the chain's length or head changed")
            if new["manifest_hash"] != old["manifest_hash"]:
                # English: only the upgrade command shows this
                problems.append(f"cycle {slug}: the frozen manifest hash changed")
            if new["manifest_json_sha256"] not in (None, new["manifest_hash"]):
                # English: only the upgrade command shows this
                problems.append(f"cycle {slug}: the stored manifest no longer matches its hash")
            for name in ("ballots", "participations", "roll_entries"):
                if new[name][0] != old[name][0]:
                    # English: only the upgrade command shows this
                    problems.append(f"cycle {slug}: {old[name][0]} {name.replace('_', ' ')} "
                                    f"before, {new[name][0]} after")
                elif new[name][1] != old[name][1]:
                    # English: only the upgrade command shows this
                    changes.setdefault(slug, []).append(f"{name.replace('_', ' ')} rewritten")
            cycle = session.get(Cycle, old["id"])
            rebuilt = hashlib.sha256(canonical_json(build_manifest(cycle)).encode()).hexdigest()
            if rebuilt != new["manifest_hash"]:
                # English: only the upgrade command shows this
                changes.setdefault(slug, []).append(
                    "its configuration no longer rebuilds the frozen manifest")
    finally:
        session.close()
    return problems, changes


# ---------------------------------------------------------------------------


def _describe(migration: Migration) -> str:
    return f"{migration.revision} ({migration.summary})" if migration.summary \
        else migration.revision


def check_plan(plan: Plan, allowed: set[str]) -> None:
    unknown = allowed - {m.revision for m in plan.pending}
    if unknown:
        # English: only the upgrade command shows this
        raise UpgradeRefused(f"--allow-frozen-change names {', '.join(sorted(unknown))}, "
                             "which is not a pending migration; nothing was changed.")
    blocking = [m for m in plan.flagged if m.revision not in allowed]
    if blocking and plan.frozen_cycles:
        # English: only the upgrade command shows this
        raise UpgradeRefused(
            "Refused: " + ", ".join(_describe(m) for m in blocking)
            + f" would change stored data of frozen cycles ({', '.join(plan.frozen_cycles)}). "
            "Upgrade after the cycle is published and archived, or, if the release notes say "
            "this change is safe for a running cycle, run again with --backup DEST "
            + " ".join(f"--allow-frozen-change {m.revision}" for m in blocking)
            + ". Nothing was changed.")


def upgrade(allowed: set[str] | None = None, dry_run: bool = False) -> Result:
    """Apply every pending migration, or none: see the module's docstring."""
    allowed = set(allowed or ())
    db.session.remove()
    started = time.monotonic()
    with write_intent(), db.engine.connect() as connection, \
            sqlite_foreign_keys_off(connection):
        connection.begin()
        try:
            plan = plan_for(connection)
            check_plan(plan, allowed)
            if dry_run or not plan.pending:
                connection.rollback()
                return Result(plan, time.monotonic() - started)
            config = _config()
            config.attributes["connection"] = connection
            migrating = time.monotonic()
            command.upgrade(config, "heads")
            verifying = time.monotonic()
            problems, changes = _verify_after(connection, plan.frozen_cycles)
            problems += foreign_key_violations(connection)[:20]
            checked = time.monotonic()
            undeclared = {slug: what for slug, what in changes.items()
                          if not (allowed & {m.revision for m in plan.flagged})}
            if problems or undeclared:
                lines = problems + [f"cycle {slug}: {', '.join(what)}"
                                    for slug, what in undeclared.items()]
                # English: only the upgrade command shows this
                raise UpgradeRefused(
                    "Rolled back: after the migrations, a frozen cycle did not verify: "
                    + "; ".join(lines) + f". The database is still at {', '.join(plan.current)}"
                    "; report this to the pbvote developers.")
            connection.commit()
        except BaseException:
            if connection.in_transaction():
                connection.rollback()
            raise
        finally:
            db.engine.dispose()
    return Result(plan, time.monotonic() - started, verified=sorted(plan.frozen_cycles),
                  allowed_changes=changes, migrating=verifying - migrating,
                  verifying=checked - verifying)
