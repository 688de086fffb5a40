"""`pbvote upgrade [--dry-run] [--backup DEST] [--allow-frozen-change REV]` (services/upgrade)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from pbvote.cli import _fail


@click.command("upgrade")
@click.option("--dry-run", is_flag=True,
              help="Say what would be applied or refused, and change nothing.")
@click.option("--backup", "backup_to", type=click.Path(file_okay=False),
              help="Take a backup into this new folder first (to roll back, restore it).")
@click.option("--allow-frozen-change", "allowed", multiple=True, metavar="REV",
              help="Apply migration REV although it changes data of a frozen cycle.")
@with_appcontext
def upgrade_command(dry_run: bool, backup_to: str | None, allowed: tuple[str, ...]) -> None:
    """Apply pending migrations; refuse one that would change a frozen cycle's data, and
    re-verify every frozen cycle afterwards (all or nothing). Stop the app servers first."""
    from pbvote.services import backup, upgrade

    try:
        if backup_to and not dry_run:
            plan = upgrade.upgrade(set(allowed), dry_run=True).plan  # refuse before backing up
            if plan.pending:
                result = backup.backup(backup_to)
                click.echo(f"Backed up to {result.folder} (restore it to roll back).")
        result = upgrade.upgrade(set(allowed), dry_run=dry_run)
    except (upgrade.UpgradeRefused, backup.BackupError) as error:
        _fail(str(error))
    plan = result.plan
    click.echo(f"Schema: {', '.join(plan.current) or 'empty'}; code: {', '.join(plan.heads)}.")
    if plan.frozen_cycles:
        click.echo(f"Frozen cycles: {', '.join(plan.frozen_cycles)}.")
    if not plan.pending:
        click.echo("Nothing to apply: the database is up to date.")
        return
    for migration in plan.pending:
        mark = "  (changes frozen cycles' data)" if migration.touches_frozen_cycles else ""
        click.echo(f"  {migration.revision}: {migration.summary}{mark}")
    if dry_run:
        click.echo(f"Dry run: these {len(plan.pending)} migrations would be applied; "
                   "nothing was changed.")
        return
    for slug, what in result.allowed_changes.items():
        click.echo(f"Cycle {slug}: {', '.join(what)} (allowed by --allow-frozen-change).")
    click.echo(f"Applied {len(plan.pending)} migrations and re-verified "
               f"{len(result.verified)} frozen cycles (chain, manifest, counts) in "
               f"{result.seconds:.1f} s (migrations {result.migrating:.1f} s, "
               f"re-verification {result.verifying:.1f} s).")
