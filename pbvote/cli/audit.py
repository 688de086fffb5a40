"""`pbvote export`: the published bundle (and the auditors' chain export) as files."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.command("export")
@click.argument("cycle_slug")
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--chain", "with_chain", is_flag=True,
              help="Also write chain.jsonl, the full log with every ballot (auditors only).")
@with_appcontext
def export_bundle(cycle_slug: str, outdir: str, with_chain: bool) -> None:
    """Write the results bundle of a published cycle into OUTDIR (new or empty)."""
    from pbvote.infra.extensions import db
    from pbvote.services import audit
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError

    try:
        cycle = get_cycle(cycle_slug)
        paths = audit.export(cycle, outdir, with_chain=with_chain)
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message} (cycle {cycle_slug!r})", err=True)
        sys.exit(2)
    db.session.rollback()  # read-only: nothing to commit
    click.echo(f"Bundle: {paths.bundle_dir}")
    click.echo(f"Zip:    {paths.bundle_zip}")
    verify_command = f"python -m pbvote.audit.verify {paths.bundle_zip}"
    if paths.chain is not None:
        click.echo(f"Chain:  {paths.chain}")
        verify_command += f" --chain {paths.chain}"
    click.echo(f"Verify: {verify_command}")
