"""`pbvote create-admin EMAIL`: the first administrator, who then invites everyone else."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db


@click.command("create-admin")
@click.argument("email")
@click.option("--name", "display_name", default="", help="Name shown to colleagues and in the log.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of asking.")
@with_appcontext
def create_admin(email: str, display_name: str, password_stdin: bool) -> None:
    """Create an administrator account with a password; TOTP is set up at the first sign-in."""
    from pbvote.services import accounts
    from pbvote.services.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with write_intent():
        try:
            account = accounts.create_admin(email, password, display_name)
        except DomainError as error:
            db.session.rollback()
            details = "".join(f"\n  - {reason}" for reason in error.reasons)
            click.echo(f"Error: {error.message}{details}", err=True)
            sys.exit(2)
        created_email = account.email  # read before the commit expires the object
        db.session.commit()
    click.echo(f"Created administrator {created_email}.")
    click.echo("Next: start the server, open /staff/login, sign in with this email and password, "
               "and set up TOTP by scanning the QR code with an authenticator app. "
               "Keep the recovery codes it shows.")
