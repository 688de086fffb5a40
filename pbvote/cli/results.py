"""Commands for the end of a cycle: count privately, ask to publish, confirm as a second admin.

Each refusal (voting still open, wrong role, same admin, changed ballots…) exits non-zero
with the service's message and leaves the database unchanged.
"""
from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _load(cycle_slug: str, email: str):
    from pbvote.services.accounts import find_by_email
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError

    try:
        cycle = get_cycle(cycle_slug)
    except DomainError as error:
        _fail(f"{error.message} (slug {cycle_slug!r})")
    account = find_by_email(email.strip().lower())
    if account is None:
        _fail(f"there is no account with the e-mail address {email!r}.")
    return cycle, account


def _summary(results: dict) -> list[str]:
    from pbvote.rules.results_reading import exact

    lines = []
    for district in results["districts"]:
        outcome = district["outcome"]
        titles = {p["id"]: p["title"] for p in district["projects"]}
        turnout = district["turnout"]
        lines.append(f"{district['name']} ({district['rule']}): {district['ballots']} ballots, "
                     f"turnout {turnout['percent'] + ' %' if turnout else 'n/a'}; spent "
                     f"{exact(outcome['total_cost'])} of {district['budget']}")
        for rank, pid in enumerate(outcome["selected"], start=1):
            lines.append(f"  {rank}. {pid} {titles.get(pid, '')} "
                         f"({district['scores'].get(pid)} {district['score_label']})")
        if not outcome["selected"]:
            lines.append("  no project funded")
    return lines


@click.command("tally")
@click.argument("cycle_slug")
@click.option("--by", "email", required=True, help="E-mail of the staff or admin account counting.")
@with_appcontext
def tally(cycle_slug: str, email: str) -> None:
    """Count a closed cycle privately; prints the outcome and the tally run id."""
    from pbvote.services import publication
    from pbvote.services.errors import DomainError

    with write_intent():
        cycle, account = _load(cycle_slug, email)
        try:
            run = publication.run_tally(cycle, account)
        except DomainError as error:
            _fail(error.message)
        run_id, digest, text = run.id, run.results_hash, run.results_json
        failure = run.verifier_failure if run.verified_ok is False else ""
        db.session.commit()
    click.echo(f"Tally run {run_id} of {cycle_slug} (results SHA-256 {digest}).")
    click.echo(f"Verifier on its bundle: FAIL at {failure}; it cannot be published."
               if failure else "Verifier on its bundle: PASS.")
    click.echo("PRIVATE: not published. An admin runs `pbvote publish` and a second admin "
               "`pbvote confirm-publication`.")
    for line in _summary(json.loads(text)):
        click.echo(line)


@click.command("publish")
@click.argument("cycle_slug")
@click.option("--run", "run_id", required=True, type=int, help="The tally run to publish.")
@click.option("--by", "email", required=True, help="E-mail of the admin asking to publish.")
@with_appcontext
def publish(cycle_slug: str, run_id: int, email: str) -> None:
    """Ask to publish a tally run; a second admin must confirm it."""
    from pbvote.services import publication
    from pbvote.services.errors import DomainError

    with write_intent():
        cycle, account = _load(cycle_slug, email)
        try:
            run = publication.get_tally_run(cycle, run_id)
            publication.request_publication(cycle, run, account)
        except DomainError as error:
            _fail(error.message)
        db.session.commit()
    click.echo(f"Publication of tally run {run_id} requested. Another admin confirms with: "
               f"pbvote confirm-publication {cycle_slug} --run {run_id} --by EMAIL")


@click.command("confirm-publication")
@click.argument("cycle_slug")
@click.option("--run", "run_id", required=True, type=int, help="The requested tally run.")
@click.option("--by", "email", required=True,
              help="E-mail of a second admin (not the one who asked to publish).")
@with_appcontext
def confirm_publication(cycle_slug: str, run_id: int, email: str) -> None:
    """Recount, check nothing changed, and publish the results snapshot (once)."""
    from pbvote.services import publication
    from pbvote.services.errors import DomainError

    with write_intent():
        cycle, account = _load(cycle_slug, email)
        try:
            run = publication.get_tally_run(cycle, run_id)
            snapshot = publication.confirm_publication(cycle, run, account)
        except DomainError as error:
            _fail(error.message)
        digest = snapshot.results_hash
        db.session.commit()
    click.echo(f"Published the results of {cycle_slug} from tally run {run_id} "
               f"(results SHA-256 {digest}).")


COMMANDS = (tally, publish, confirm_publication)
