"""`pbvote enforce-retention`: what the privacy notice promises to delete, deleted when due
(pbvote.services.retention). For a daily systemd timer (config/pbvote-retention.timer)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db


@click.command("enforce-retention")
@with_appcontext
def enforce_retention_command() -> None:
    """Delete each published cycle's voter roll and access codes and anonymise its
    participation records once PB_OFFICE["retention_days"] have passed since publication;
    delete expired sign-in codes and day-old roll uploads. Safe to repeat."""
    from pbvote.services import retention

    days = retention.retention_days(current_app.config)
    if days < 1:
        click.echo(f"Error: PB_OFFICE retention_days must be a whole number of days of at "
                   f"least 1, not {days}.", err=True)
        raise SystemExit(2)
    with write_intent():
        report = retention.enforce(days)
        db.session.commit()
    for cycle in report.cycles:
        if cycle.changed:
            click.echo(f"{cycle.slug} (published {cycle.published_at:%Y-%m-%d}): deleted "
                       f"{cycle.roll_entries} roll entries and {cycle.access_codes} access "
                       f"codes, anonymised {cycle.participations} participation records")
        else:
            click.echo(f"{cycle.slug}: nothing left to delete")
    click.echo(f"deleted {report.sign_in_codes} expired sign-in codes, "
               f"{report.results_subscriptions} unconfirmed results subscriptions and "
               f"{report.roll_files} roll uploads older than a day")
    click.echo(f"retention: {days} days after publication; "
               f"{'done' if report.changed else 'nothing was due'}")
