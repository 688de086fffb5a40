"""The `pbvote` command line; the same commands run as `flask --app pbvote …`."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db

DEMO_CREDENTIALS_FILE = "demo-credentials.txt"


def register_commands(app) -> None:
    from pbvote.cli.accounts import create_admin
    from pbvote.cli.serve import serve

    for command in (init_db, demo, cast_random, create_admin, serve):
        app.cli.add_command(command)
    from pbvote.cli.results import COMMANDS as RESULTS_COMMANDS

    for command in RESULTS_COMMANDS:
        app.cli.add_command(command)
    from pbvote.cli.audit import export_bundle

    app.cli.add_command(export_bundle)
    from pbvote.cli.transitions import TRANSITION_COMMANDS

    for command in TRANSITION_COMMANDS:
        app.cli.add_command(command)
    from pbvote.cli.setup import register_setup_commands

    register_setup_commands(app)
    from pbvote.cli.worker import worker

    app.cli.add_command(worker)
    from pbvote.cli.backup import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from pbvote.cli.retention import enforce_retention_command

    app.cli.add_command(enforce_retention_command)
    from pbvote.cli.upgrade import upgrade_command

    app.cli.add_command(upgrade_command)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Apply every migration to the configured database (for an upgrade during a cycle,
    prefer `pbvote upgrade`, which also re-verifies the frozen cycles)."""
    from flask_migrate import upgrade

    from pbvote.services import upgrade as guarded

    with db.engine.connect() as connection:  # the same refusal as `pbvote upgrade`
        plan = guarded.plan_for(connection)
    db.engine.dispose()
    try:
        guarded.check_plan(plan, set())
    except guarded.UpgradeRefused as error:
        _fail(str(error))
    upgrade()
    click.echo(f"Database is up to date: {_safe_url()}")


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@click.command("demo")
@click.option("--voters", default=50, show_default=True, type=click.IntRange(1, 5_000_000),
              help="Voter-roll entries to create.")
@with_appcontext
def demo(voters: int) -> None:
    """Seed the demo cycles: "Safer Streets 2027" (slug safer-streets-2027, voting open),
    the earlier, published "Safer Streets 2026" with its delivery record, and "Safer Streets
    2028", collecting ideas."""
    seed_or_show_demo(voters)


def seed_or_show_demo(voters: int) -> None:
    """Seed the demo once and print what to try; a repeat prints the saved credentials with
    those used since marked as used."""
    from pbvote.services.delivery.demo import delivery_demo_exists, seed_delivery_demo
    from pbvote.services.demo import DISTRICTS, credentials_with_status, demo_exists, seed_demo
    from pbvote.services.demo_ideas import ideas_demo_exists, seed_ideas_demo

    saved = Path(current_app.instance_path) / DEMO_CREDENTIALS_FILE
    with write_intent():
        if not delivery_demo_exists():
            seed_delivery_demo()
            db.session.commit()
            click.echo("Seeded 'Safer Streets 2026', published, with its delivery record.")
        if not ideas_demo_exists():  # also added to a demo seeded before it existed
            seed_ideas_demo(DISTRICTS)
            db.session.commit()
            click.echo("Seeded 'Safer Streets 2028', collecting ideas now: sign in with any "
                       "email address; the code is in the development outbox (/dev/outbox).")
        if demo_exists():
            click.echo("The demo cycle already exists; nothing changed.")
            if saved.exists():
                click.echo(credentials_with_status(saved.read_text()))
            return
        credentials = seed_demo(voters=voters)
        db.session.commit()
    text = credentials.as_text()
    saved.write_text(text + "\n")
    saved.chmod(0o600)
    click.echo(f"Seeded 'Safer Streets 2027' with {voters} roll entries.")
    click.echo(text)


@click.command("cast-random")
@click.argument("cycle_slug")
@click.option("--n", "count", required=True, type=click.IntRange(1), help="Ballots to cast.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@with_appcontext
def cast_random(cycle_slug: str, count: int, seed: int) -> None:
    """Cast N valid random ballots for distinct roll entries that have not voted."""
    from pbvote.models import Participation, RollEntry
    from pbvote.services import voting
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError
    from pbvote.services.simulate import random_selections

    rng = random.Random(seed)
    with write_intent():
        try:
            cycle = get_cycle(cycle_slug)
        except DomainError as error:
            _fail(f"{error.message} (slug {cycle_slug!r})")
        voted = select(Participation.identity_hash).where(Participation.cycle_id == cycle.id)
        entries = db.session.execute(
            select(RollEntry.id, RollEntry.district_id, RollEntry.identity_hash)
            .where(RollEntry.cycle_id == cycle.id, RollEntry.identity_hash.not_in(voted))
            .order_by(RollEntry.id)).all()
        if len(entries) < count:
            _fail(f"only {len(entries)} roll entries have not voted; asked for {count}.")
        chosen = rng.sample(entries, count)
        districts = {d.id: (d.ballot_design(), d.project_costs()) for d in cycle.districts}
        try:
            for done, (entry_id, district_id, identity_hash) in enumerate(chosen, start=1):
                design, costs = districts[district_id]
                selections = random_selections(design, costs, rng)
                voter = voting.VerifiedVoter(cycle.id, district_id, identity_hash, "roll", entry_id)
                voting.cast_ballot(voter, selections)
                if done % 1000 == 0:
                    click.echo(f"  {done}/{count} ballots cast", err=True)
        except DomainError as error:
            db.session.rollback()
            _fail(f"{error.message} Nothing was stored.")
        db.session.commit()
    click.echo(f"Cast {count} random ballots in {cycle.slug}.")


def main() -> None:
    from pbvote import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="pbvote: participatory budgeting.")
    cli.main(prog_name="pbvote")
