"""`pbvote import-roll`: the voter-roll import from the command line.
`pbvote issue-roll-codes`: an access code for each roll entry that has none, as a CSV file.

import-roll exit status: 0 imported (or nothing to do, or declined at the prompt), 1 refused:
the file has errors, the roll changed since the preview, voting has closed, or the import
removes more than a tenth of the roll and the number removed was not confirmed (nothing
imported), 2 bad arguments or unknown cycle.
issue-roll-codes exit status: 0 issued, 1 refused (nothing issued), 2 bad arguments.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db


def register_setup_commands(app) -> None:
    app.cli.add_command(import_roll)
    app.cli.add_command(issue_roll_codes)


def _echo_people(plan) -> None:
    """The first page of who is added, changed and removed."""
    for kind in ("added", "changed", "removed"):
        people = plan.people.get(kind) or []
        if not people:
            continue
        total = getattr(plan, kind)
        click.echo(f"  {kind} ({len(people)} of {total} shown):")
        for person in people:
            where = f"line {person.line}: " if person.line else ""
            name = person.name or "(no name stored in clear)"
            number = f", roll number {person.roll_number}" if person.roll_number else ""
            click.echo(f"    {where}{name}{number}, born {person.birth_date}, {person.district}")
            for label, before, after in person.changes:
                old = "(stored only as a hash)" if before is None else (before or "(none)")
                click.echo(f"      {label}: {old} → {after or '(none)'}")


def _echo_plan(plan) -> None:
    click.echo(f"{plan.rows} valid rows in the file (SHA-256 {plan.file_sha256[:16]}…).")
    click.echo(f"  added:     {plan.added}")
    click.echo(f"  changed:   {plan.changed}")
    click.echo(f"  removed:   {plan.removed}")
    click.echo(f"  unchanged: {plan.unchanged}")
    click.echo(f"  kept, already voted (never removed or changed): {plan.kept_voted}")
    if plan.rekeyed:
        click.echo(f"  found again by roll number under the new identity key: {plan.rekeyed}")
    if plan.codes_voided:
        click.echo(f"  unused access codes voided (entry removed or moved): {plan.codes_voided}")


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
@click.option("--confirm-removals", "confirm_removals", type=click.IntRange(min=0),
              default=None, metavar="N",
              help="Required with --yes when the import removes more than a tenth of the "
                   "roll: the number of entries it removes, as the preview states it.")
@click.option("--actor", default=None, help="Name recorded in the log (default: cli:$USER).")
@with_appcontext
def import_roll(cycle_slug: str, file: Path, mappings: tuple[str, ...], yes: bool,
                confirm_removals: int | None, actor: str | None) -> None:
    """Import the voter roll of CYCLE_SLUG from a CSV FILE: check every row, show the
    difference with the stored roll (added, changed, removed), then apply it."""
    from pbvote.rules.roll_csv import parse_mapping_options
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
        try:
            plan = run("Checking", lambda p: roll_import.plan_import(cycle, file, mapping, p))
        except DomainError as error:
            db.session.rollback()
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)
        db.session.rollback()
        if not plan.ok:
            _echo_errors(plan)
            sys.exit(1)
        _echo_plan(plan)
        _echo_people(plan)
        if not (plan.added or plan.changed or plan.removed):
            click.echo("The stored roll already matches the file; nothing changed.")
            return
        if not click.confirm("Apply these changes?", default=False):
            click.echo("Nothing changed.")
            return
        if plan.removal_needs_confirmation and confirm_removals is None:
            click.echo(f"This import REMOVES {plan.removed} of the {plan.before} entries on the "
                       f"roll ({plan.removed_percent} %).")
            typed = click.prompt(f"Type the number of entries to remove ({plan.removed}) to "
                                 f"confirm", default="", show_default=False)
            if typed.strip() != str(plan.removed):
                click.echo("That is not the number removed; nothing changed.", err=True)
                sys.exit(1)
            confirm_removals = plan.removed
        fingerprint = plan.fingerprint()

    with write_intent():
        cycle = get_cycle(cycle_slug)
        try:
            plan = run("Importing", lambda p: roll_import.apply_import(
                cycle, file, actor, mapping, expected_fingerprint=fingerprint, progress=p,
                confirmed_removals=confirm_removals))
        except roll_import.RollFileInvalid as invalid:
            db.session.rollback()
            _echo_errors(invalid.plan)
            sys.exit(1)
        except roll_import.RemovalNotConfirmed as error:
            db.session.rollback()
            click.echo(f"Error: {error.message} Run again with --confirm-removals "
                       f"{error.removed} if that is intended.", err=True)
            sys.exit(1)
        except DomainError as error:
            db.session.rollback()
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)
        db.session.commit()
    _echo_plan(plan)
    click.echo(f"Imported the roll of {cycle_slug}.")


@click.command("issue-roll-codes")
@click.argument("cycle_slug")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--district", "district_slug", default=None, metavar="SLUG",
              help="Only this district's roll (default: every district).")
@click.option("--actor", default=None, help="Name recorded in the log (default: cli:$USER).")
@with_appcontext
def issue_roll_codes(cycle_slug: str, out: Path, district_slug: str | None,
                     actor: str | None) -> None:
    """Issue an access code for every roll entry of CYCLE_SLUG that has none yet (and has not
    voted), and write them to the new file OUT as CSV for the mail merge: cycle, district,
    district_name, display_name, birth_date, access_code. Each code votes as its roll entry.
    The codes are stored only as hashes: OUT is their only copy."""
    import os

    from pbvote.services import codes
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError

    actor = actor or f"cli:{getpass.getuser()}"
    with write_intent():
        try:
            cycle = get_cycle(cycle_slug)
        except DomainError as error:
            click.echo(f"Error: {error.message} (slug {cycle_slug!r})", err=True)
            sys.exit(2)
        district = None
        if district_slug is not None:
            district = cycle.district_by_slug(district_slug)
            if district is None:
                click.echo(f"Error: the cycle {cycle_slug!r} has no district {district_slug!r}; "
                           f"its districts: {', '.join(d.slug for d in cycle.districts)}.",
                           err=True)
                sys.exit(2)
        try:
            # Created before issuing, so a file that cannot be written costs no codes.
            handle = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            click.echo(f"Error: cannot create {out}: {error.strerror} (it must not exist yet).",
                       err=True)
            sys.exit(2)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                issued = codes.issue_codes_for_roll(cycle, district, actor, limit=None)
                stream.write(codes.roll_codes_csv(cycle, issued.codes))
                stream.flush()
                os.fsync(stream.fileno())
            db.session.commit()
        except BaseException as error:
            # No codes without their only copy, and no copy of codes that were not stored.
            db.session.rollback()
            out.unlink(missing_ok=True)
            if isinstance(error, DomainError):
                click.echo(f"Error: {error.message} Nothing was issued.", err=True)
                sys.exit(1)
            raise
    click.echo(f"Issued {len(issued.codes)} access codes for roll entries of {cycle_slug}; "
               f"written to {out}.")
