"""The checked steps of a cycle: scheduling and opening voting, closing it, extending it,
counting and publishing, and the clock's own transitions.

Every step runs the pure readiness check of pbvote.rules.readiness on a fresh snapshot and
refuses (TransitionRefused, 409, each blocker as a reason) while a blocker remains, whether
it was asked for on the web or on the command line. A refused step writes nothing.

Voting opens only by these paths: "Schedule voting" (freezes the configuration and stores
the manifest now; the voting phase's start date then opens voting by the clock, which needs
no write) or "Open voting now". A cycle whose start date passes unscheduled does not open.
"""
from __future__ import annotations

import datetime as dt

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.models import Cycle
from pbvote.rules import readiness
from pbvote.services.errors import DomainError
from pbvote.services.transitions.snapshot import (
    EXTENSION_KIND,
    NOTE_KIND,
    chain_records,
    cycle_snapshot,
    imbalances,
)


class TransitionRefused(DomainError):
    """A step the cycle is not ready for: the message names it, each blocker is a reason."""

    def __init__(self, result: readiness.Readiness, status: int = 409):
        first = result.blockers[0].message if result.blockers else ""
        super().__init__(_("%(step)s is not possible yet: %(reason)s",
                           step=result.title, reason=first), status,
                         readiness.as_reasons(result))
        self.readiness = result


def readiness_of(cycle: Cycle, transition: str, now: dt.datetime | None = None,
                 bundle_failure: str | None = None) -> readiness.Readiness:
    return readiness.check(transition, cycle_snapshot(cycle, now, bundle_failure))


def all_readiness(cycle: Cycle, now: dt.datetime | None = None) -> list[readiness.Readiness]:
    return readiness.all_checks(cycle_snapshot(cycle, now))


def require_ready(cycle: Cycle, transition: str, now: dt.datetime | None = None,
                  bundle_failure: str | None = None) -> readiness.Readiness:
    result = readiness_of(cycle, transition, now or utcnow(), bundle_failure)
    if not result.ready:
        # Settings that do not fit together are unprocessable (422), like any set-up form;
        # a step asked for at the wrong moment conflicts with the cycle's state (409).
        settings = transition == "open" and not any(
            b.code == "already_frozen" for b in result.blockers)
        raise TransitionRefused(result, 422 if settings else 409)
    return result


from pbvote.services.transitions.clock import (  # noqa: E402
    due_transitions,
    extend_voting,
    extensions,
    schedule_voting,
    unscheduled_but_due,
)
from pbvote.services.transitions.notes import explain_imbalance, notes  # noqa: E402
from pbvote.services.transitions.publish import (  # noqa: E402
    bundle_failure_for_run,
    latest_unpublished_run,
)

__all__ = [
    "EXTENSION_KIND", "NOTE_KIND", "TransitionRefused", "all_readiness", "bundle_failure_for_run",
    "chain_records", "cycle_snapshot", "due_transitions", "explain_imbalance", "extend_voting",
    "extensions", "imbalances", "latest_unpublished_run", "notes", "readiness_of",
    "require_ready", "schedule_voting", "unscheduled_but_due",
]
