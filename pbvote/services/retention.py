"""Data retention: delete or anonymise what the privacy notice (templates/about/privacy.html)
promises, once it is due. Run daily by `pbvote enforce-retention` (config/pbvote-retention.*).

What is due, and what happens to it:
- a cycle whose results were published at least `retention_days` ago (PB_OFFICE, 365 by
  default): its voter roll (keyed fingerprints, dates of birth, the names desk staff read
  back, the desk's notes on proofs seen) and its access codes are deleted; each of its
  participation records loses the identity fingerprint that could tie it to a roll entry or a
  code, replaced by a random value marked RETIRED_PREFIX. The records themselves stay: the
  published bundle and the audit reconciliation count them per district and channel, and
  nothing in them names anyone any more.
- residents' sign-in codes that expired (10 minutes after they were sent): the row, which
  holds the email address it was sent to, is deleted.
- roll files uploaded to the import and left there more than a day (roll_stash).
- "email me the results" subscriptions never confirmed before their link expired, with
  their addresses (services/results_notice).

Nothing else is touched: ballots, the logs, published results, accounts and ideas stay.
Running it again changes nothing: every step selects only what is still due.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, select, update

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    AccessCode,
    Cycle,
    EmailSignInCode,
    Participation,
    ResultsSnapshot,
    RollEntry,
)
from pbvote.services import log, results_notice, roll_stash

#: an anonymised participation's identity_hash starts with this; a real one is 64 hex digits
RETIRED_PREFIX = "retired:"
DEFAULT_RETENTION_DAYS = 365


def retention_days(config) -> int:
    """PB_OFFICE["retention_days"] from the app's configuration, 365 when unset: the one
    figure the privacy page shows and `pbvote enforce-retention` applies."""
    return int((config.get("PB_OFFICE") or {}).get("retention_days") or DEFAULT_RETENTION_DAYS)


@dataclass
class CycleRetention:
    slug: str
    published_at: dt.datetime
    roll_entries: int = 0
    access_codes: int = 0
    participations: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.roll_entries or self.access_codes or self.participations)


@dataclass
class RetentionReport:
    cycles: list[CycleRetention] = field(default_factory=list)
    sign_in_codes: int = 0
    roll_files: int = 0
    results_subscriptions: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.sign_in_codes or self.roll_files or self.results_subscriptions
                    or any(c.changed for c in self.cycles))


def due_cycles(retention_days: int, now: dt.datetime) -> list[tuple[Cycle, dt.datetime]]:
    """Cycles whose results were published at least retention_days before now."""
    cutoff = now - dt.timedelta(days=retention_days)
    return list(db.session.execute(
        select(Cycle, ResultsSnapshot.published_at)
        .join(ResultsSnapshot, ResultsSnapshot.cycle_id == Cycle.id)
        .where(ResultsSnapshot.published_at <= cutoff).order_by(Cycle.id)).all())


def enforce(retention_days: int = DEFAULT_RETENTION_DAYS, now: dt.datetime | None = None,
            with_files: bool = True) -> RetentionReport:
    """Delete and anonymise everything due at `now`; flush, the caller commits."""
    if retention_days < 0:
        raise ValueError("retention_days must not be negative")
    now = now or utcnow()
    report = RetentionReport()
    for cycle, published_at in due_cycles(retention_days, now):
        done = _retire_cycle(cycle, published_at)
        report.cycles.append(done)
        if done.changed:
            log.record_action(log.get_or_create_chain(log.SYSTEM_CHAIN).id,
                              "retention.enforced", "pbvote enforce-retention", {
                                  "cycle": cycle.slug, "roll_entries": done.roll_entries,
                                  "access_codes": done.access_codes,
                                  "participations_anonymised": done.participations})
    report.sign_in_codes = db.session.execute(
        delete(EmailSignInCode).where(EmailSignInCode.expires_at < now)).rowcount
    report.results_subscriptions = results_notice.delete_expired(now)
    if with_files:
        report.roll_files = roll_stash.remove_old_stashes(now.timestamp())
    db.session.flush()
    return report


def _retire_cycle(cycle: Cycle, published_at: dt.datetime) -> CycleRetention:
    done = CycleRetention(cycle.slug, published_at)
    done.access_codes = db.session.execute(
        delete(AccessCode).where(AccessCode.cycle_id == cycle.id)).rowcount
    # desk_roll_addition rows go with their roll entries (ON DELETE CASCADE)
    done.roll_entries = db.session.execute(
        delete(RollEntry).where(RollEntry.cycle_id == cycle.id)).rowcount
    ids = list(db.session.scalars(select(Participation.id).where(
        Participation.cycle_id == cycle.id,
        func.substr(Participation.identity_hash, 1, len(RETIRED_PREFIX)) != RETIRED_PREFIX)))
    if ids:
        table = Participation.__table__
        statement = (update(table).where(table.c.id == bindparam("row_id"))
                     .values(identity_hash=bindparam("retired")))
        width = 64 - len(RETIRED_PREFIX)
        db.session.execute(statement, [
            {"row_id": row_id, "retired": RETIRED_PREFIX + secrets.token_hex(width // 2)}
            for row_id in ids])
    done.participations = len(ids)
    return done
