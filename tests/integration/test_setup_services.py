"""Set-up services on both engines: opening and closing edge cases, access-code refusals."""
from __future__ import annotations

import datetime as dt

import pytest

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Phase
from pbvote.services import codes, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from tests.factories import make_cycle

DAY = dt.timedelta(days=1)


@pytest.fixture
def cycle_of(app_context):
    def make(voting: str):
        with write_intent():
            made = make_cycle(f"svc-{voting.replace('_', '-')}", voting=voting)
            db.session.commit()
        return get_cycle(made.slug)
    return make


def test_close_only_when_open_and_never_reopen(cycle_of):
    not_yet = cycle_of("not_yet")
    with pytest.raises(setup.VotingStateConflict, match="not open"):
        setup.close_voting(not_yet, "staff")
    closed = cycle_of("closed")
    with pytest.raises(setup.VotingStateConflict, match="already closed"):
        setup.open_voting(closed, "staff")
    with pytest.raises(setup.VotingStateConflict, match="not open"):
        setup.close_voting(closed, "staff")


def test_opening_waits_for_earlier_phases_and_trims_the_review(cycle_of):
    cycle = cycle_of("not_yet")
    now = utcnow()
    voting = cycle.phase_window("voting")
    cycle.phases.append(Phase(kind="intake", starts_at=voting.starts_at - 2 * DAY / 3,
                              ends_at=voting.starts_at - DAY / 3))
    db.session.flush()
    with pytest.raises(setup.SetupInvalid) as refused:
        setup.open_voting(cycle, "staff", now=now)
    assert [r.field for r in refused.value.reasons] == ["intake_starts_at"]
    db.session.rollback()

    cycle = get_cycle(cycle.slug)
    cycle.phases.append(Phase(kind="review", starts_at=now - DAY, ends_at=now + DAY / 2))
    db.session.flush()
    digest = setup.open_voting(cycle, "staff", now=now)
    assert cycle.phase_window("review").ends_at == now == cycle.phase_window("voting").starts_at
    assert digest == cycle.manifest_hash and cycle.voting_open(now + dt.timedelta(seconds=1))
    assert '"kind":"review"' in cycle.manifest_json


def test_codes_are_refused_when_they_could_not_be_used(cycle_of):
    closed = cycle_of("closed")
    with pytest.raises(DomainError, match="Voting has closed") as refused:
        codes.generate_codes(closed, closed.districts[0], 2, "staff")
    assert refused.value.status == 409
    cycle = cycle_of("open")
    with pytest.raises(DomainError, match="between 1 and") as refused:
        codes.generate_codes(cycle, cycle.districts[0], 0, "staff")
    assert refused.value.status == 422
    cycle.allowed_methods = "roll"
    with pytest.raises(DomainError, match="does not allow voting with an access code"):
        codes.generate_codes(cycle, cycle.districts[0], 1, "staff")


def test_counts_by_status(cycle_of):
    cycle = cycle_of("open")
    issued = codes.generate_codes(cycle, cycle.district_by_slug("ranked"), 3, "staff")
    codes.void_code(cycle, issued[0].code, "staff")
    counts = codes.counts_by_status(cycle)
    assert counts["ranked"] == {"unused": 4, "used": 0, "voided": 1}  # make_cycle gave 2
    assert counts["approval"] == {"unused": 2, "used": 0, "voided": 0}
