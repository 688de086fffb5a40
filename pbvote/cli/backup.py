"""`pbvote backup DEST` and `pbvote restore SRC` (services/backup)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from pbvote.cli import _fail


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False))
@with_appcontext
def backup_command(destination: str) -> None:
    """Take a consistent online backup into DESTINATION (a new or empty folder)."""
    from pbvote.services import backup

    try:
        result = backup.backup(destination)
    except backup.BackupError as error:
        _fail(str(error))
    chains = result.metadata["chains"]
    revision = ", ".join(result.metadata["schema_revision"])
    click.echo(f"Backed up to {result.folder}: schema {revision}"
               f", {result.metadata['counts']['ballot']} ballots, {len(chains)} chains.")


@click.command("restore")
@click.argument("source", type=click.Path(file_okay=False, exists=True))
@with_appcontext
def restore_command(source: str) -> None:
    """Restore the backup in SOURCE into the configured database, which must be empty."""
    from pbvote.services import backup

    try:
        metadata = backup.restore(source)
    except backup.BackupError as error:
        _fail(str(error))
    click.echo(f"Restored the backup of {metadata['created_at']}: "
               f"{metadata['counts']['ballot']} ballots; chain heads match the backup. "
               "Run `pbvote init-db` if this pbvote has newer migrations.")
