"""Commands for a cycle's checked steps: readiness, schedule/open/close/extend voting, and
`pbvote due-transitions` for cron.

A refused step prints the service's reason and every blocker, exits 1, and writes nothing.
"""
from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db


def _refuse(error) -> None:
    db.session.rollback()
    click.echo(f"Refused: {error.message}", err=True)
    for reason in error.reasons:
        click.echo(f"  - {reason.message}", err=True)
    sys.exit(1)


def _cycle(slug: str):
    from pbvote.services.cycles import get_cycle
    from pbvote.services.errors import DomainError

    try:
        return get_cycle(slug)
    except DomainError as error:
        click.echo(f"Error: {error.message} (slug {slug!r})", err=True)
        sys.exit(2)


def _account(email: str):
    from pbvote.services.accounts import find_by_email

    account = find_by_email(email.strip().lower())
    if account is None or not account.has_role("staff", "admin"):
        click.echo(f"Error: there is no staff or admin account {email!r}.", err=True)
        sys.exit(2)
    return account


@click.command("readiness")
@click.argument("cycle_slug")
@with_appcontext
def readiness_command(cycle_slug: str) -> None:
    """Print what blocks or warns each step of the cycle. Exit 0."""
    from pbvote.services import transitions

    for check in transitions.all_readiness(_cycle(cycle_slug)):
        click.echo(f"{check.title}: {'ready' if check.ready else 'blocked'}")
        for finding in check.blockers:
            click.echo(f"  blocker: {finding.message}")
        for finding in check.warnings:
            click.echo(f"  warning: {finding.message}")


def _step(cycle_slug: str, email: str, work) -> None:
    from pbvote.services.errors import DomainError

    with write_intent():
        cycle = _cycle(cycle_slug)
        account = _account(email)
        try:
            message = work(cycle, account)
        except DomainError as error:
            _refuse(error)
        db.session.commit()
    click.echo(message)


@click.command("schedule-voting")
@click.argument("cycle_slug")
@click.option("--by", "email", required=True, help="the staff member's e-mail address")
@with_appcontext
def schedule_voting_command(cycle_slug: str, email: str) -> None:
    """Freeze the configuration now; voting opens by itself at the voting phase's start."""
    from pbvote.services import transitions

    _step(cycle_slug, email, lambda cycle, account: "Scheduled; manifest " +
          transitions.schedule_voting(cycle, account.label))


@click.command("open-voting")
@click.argument("cycle_slug")
@click.option("--by", "email", required=True, help="the staff member's e-mail address")
@with_appcontext
def open_voting_command(cycle_slug: str, email: str) -> None:
    """Open voting now (checks readiness, stores the manifest)."""
    from pbvote.services import setup

    _step(cycle_slug, email, lambda cycle, account: "Voting is open; manifest " +
          setup.open_voting(cycle, account.label))


@click.command("close-voting")
@click.argument("cycle_slug")
@click.option("--by", "email", required=True, help="the staff member's e-mail address")
@with_appcontext
def close_voting_command(cycle_slug: str, email: str) -> None:
    """Close voting now."""
    from pbvote.services import setup

    def close(cycle, account):
        setup.close_voting(cycle, account.label)
        return "Voting is closed."

    _step(cycle_slug, email, close)


@click.command("extend-voting")
@click.argument("cycle_slug")
@click.option("--until", "until", required=True,
              help="the new end of voting, ISO 8601 with its offset, e.g. 2027-05-01T20:00+02:00")
@click.option("--reason", required=True, help="why (published on the cycle page)")
@click.option("--by", "email", required=True, help="an administrator's e-mail address")
@with_appcontext
def extend_voting_command(cycle_slug: str, until: str, reason: str, email: str) -> None:
    """Move the end of open voting later (never earlier); later phases move with it."""
    from pbvote.services import transitions

    try:
        new_end = dt.datetime.fromisoformat(until)
    except ValueError:
        click.echo(f"Error: {until!r} is not an ISO 8601 time.", err=True)
        sys.exit(2)
    if new_end.tzinfo is None:
        click.echo("Error: give the time with its offset (for example +00:00).", err=True)
        sys.exit(2)

    def extend(cycle, account):
        transitions.extend_voting(cycle, account, new_end.astimezone(dt.UTC), reason)
        return f"Voting now ends at {new_end.isoformat()}."

    _step(cycle_slug, email, extend)


@click.command("due-transitions")
@with_appcontext
def due_transitions_command() -> None:
    """For cron (every minute or so): record in each cycle's chain the openings and closings
    of voting that the clock made since the last run, and name the cycles whose voting start
    passed without voting being scheduled (they stay closed). Exit 0."""
    from pbvote.services import transitions

    with write_intent():
        lines = transitions.due_transitions()
        db.session.commit()
    for line in lines:
        click.echo(line)


TRANSITION_COMMANDS = (readiness_command, schedule_voting_command, open_voting_command,
                       close_voting_command, extend_voting_command, due_transitions_command)
