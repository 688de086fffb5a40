"""`pbvote serve`: what `./run serve` runs. Builds the database, seeds the demo once and
serves it, printing the address it really listens on and, on the development mail backend,
where the emailed sign-in codes can be read."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from pbvote.infra.extensions import db


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--voters", default=50, show_default=True, type=click.IntRange(1, 5_000_000),
              help="Voter-roll entries for a new demo.")
@with_appcontext
def serve(host: str, port: int, voters: int) -> None:
    """Migrate, seed the demo once, and serve it (the development server)."""
    from flask_migrate import upgrade

    from pbvote.cli import seed_or_show_demo
    from pbvote.services import mail

    upgrade()
    seed_or_show_demo(voters)
    db.session.remove()
    address = f"http://{host}:{port}"
    if mail.backend_name(current_app.config) == "outbox":
        # The demo mails sign-in codes to residents who do not exist: show them.
        current_app.config["SHOW_DEV_OUTBOX"] = True
        click.echo(f"Email and text messages (sign-in and declaration codes) are not sent "
                   f"in development: read them at {address}/dev/outbox")
    click.echo(f"Serving pbvote at {address} (Ctrl-C stops it)")
    # werkzeug's server directly: Flask ignores app.run() inside its own CLI
    run_simple(host, port, current_app._get_current_object(), threaded=True)
