"""`pbvote import-roll`: the voter-roll import from the command line.

Exit status: 0 imported (or nothing to do, or declined at the prompt), 1 the file has
errors or changed since the preview (nothing imported), 2 bad arguments or unknown cycle.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from pbvote.db import write_intent
from pbvote.extensions import db


def register_setup_commands(app) -> None:
    app.cli.add_command(import_roll)


def _echo_plan(plan) -> None:
    click.echo(f"{plan.rows} valid rows in the file (SHA-256 {plan.file_sha256[:16]}…).")
    click.echo(f"  added:     {plan.added}")
    click.echo(f"  changed:   {plan.changed}")
    click.echo(f"  removed:   {plan.removed}")
    click.echo(f"  unchanged: {plan.unchanged}")
    click.echo(f"  kept, already voted (never removed or changed): {plan.kept_voted}")


def _echo_errors(plan) -> None:
    click.echo(f"Error: the file has {plan.error_count} problem(s) "
               f"({plan.duplicates} duplicate row(s)); nothing was imported.", err=True)
    for error in plan.errors:
        click.echo(f"  {error}", err=True)
    if plan.error_count > len(plan.errors):
        click.echo(f"  … and {plan.error_count - len(plan.errors)} more.", err=True)


@click.command("import-roll")
@click.argument("cycle_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="COLUMN=FIELD",
              help="Map a CSV column to a roll field (last_name, birth_date, postcode, "
                   "district, roll_number, display_name); repeatable. Columns named like "
                   "the fields map themselves.")
@click.option("--yes", is_flag=True, help="Apply the difference without asking.")
@click.option("--actor", default=None, help="Name recorded in the log (default: cli:$USER).")
@with_appcontext
def import_roll(cycle_slug: str, file: Path, mappings: tuple[str, ...], yes: bool,
                actor: str | None) -> None:
    """Import the voter roll of CYCLE_SLUG from a CSV FILE: check every row, show the
    difference with the stored roll (added, changed, removed), then apply it."""
    from pbvote.roll_import import parse_mapping_options
    from pbvote.services import roll_import
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError

    mapping, mapping_errors = parse_mapping_options(mappings)
    if mapping_errors:
        for error in mapping_errors:
            click.echo(f"Error: {error.message}", err=True)
        sys.exit(2)
    actor = actor or f"cli:{getpass.getuser()}"
    size = file.stat().st_size

    def run(label: str, work):
        with click.progressbar(length=size, label=label, file=sys.stderr) as bar:
            return work(bar.update)

    try:
        cycle = get_cycle(cycle_slug)
    except DomainError as error:
        click.echo(f"Error: {error.message} (slug {cycle_slug!r})", err=True)
        sys.exit(2)

    fingerprint = None
    if not yes:
        # Read-only comparison first, so the prompt does not hold the write lock.
        plan = run("Checking", lambda p: roll_import.plan_import(cycle, file, mapping, p))
        db.session.rollback()
        if not plan.ok:
            _echo_errors(plan)
            sys.exit(1)
        _echo_plan(plan)
        if not (plan.added or plan.changed or plan.removed):
            click.echo("The stored roll already matches the file; nothing changed.")
            return
        if not click.confirm("Apply these changes?", default=False):
            click.echo("Nothing changed.")
            return
        fingerprint = plan.fingerprint()

    with write_intent():
        cycle = get_cycle(cycle_slug)
        try:
            plan = run("Importing", lambda p: roll_import.apply_import(
                cycle, file, actor, mapping, expected_fingerprint=fingerprint, progress=p))
        except roll_import.RollFileInvalid as invalid:
            db.session.rollback()
            _echo_errors(invalid.plan)
            sys.exit(1)
        except DomainError as error:
            db.session.rollback()
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)
        db.session.commit()
    _echo_plan(plan)
    click.echo(f"Imported the roll of {cycle_slug}.")
