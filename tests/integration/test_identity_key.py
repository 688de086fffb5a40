"""One identity key per cycle (issue #21 item 2), on both engines.

The scenario from the issue: import a roll, vote as a resident, change the key that hashes
identities (in production it used to fall back to the secret key, so rotating the secret
did it), re-import the same roll and vote again as the same resident. Before, the re-import
added everyone again and the second ballot was accepted: two participations for one person.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Participation
from pbvote.services import roll_import, voting
from pbvote.services.codes import generate_codes
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import DomainError
from pbvote.services.keys import IdentityKeyChanged
from tests.factories import make_cycle

ROLL = ("last_name,birth_date,postcode,district,roll_number\n"
        "Lee,1980-01-01,AB1 2CD,approval,R1\n"
        "Kim,1981-02-02,AB1 2CD,approval,R2\n")


@pytest.fixture
def made(app_context):
    with write_intent():
        result = make_cycle("key-cycle", codes_per_district=0)
        db.session.commit()
    return result


def _roll(tmp_path):
    path = tmp_path / "roll.csv"
    path.write_text(ROLL, encoding="utf-8")
    return path


def _vote_as_lee(cycle):
    district = cycle.district_by_slug("approval")
    voter = voting.verify_by_roll(cycle, district, "Lee", dt.date(1980, 1, 1), "AB1 2CD")
    voting.cast_ballot(voter, ["AP-A"])


def _count(model, cycle):
    return db.session.scalar(select(func.count()).select_from(model)
                             .where(model.cycle_id == cycle.id))


def _apply(cycle, path):
    """Apply a roll import, confirming the removals its preview names (the test cycle's own
    entries, replaced by the two people of _roll)."""
    removed = roll_import.plan_import(cycle, path).removed
    return roll_import.apply_import(cycle, path, "staff", confirmed_removals=removed)


def test_a_rotated_identity_key_cannot_make_a_voter_vote_twice(made, tmp_path, monkeypatch):
    from flask import current_app

    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.commit()
        assert cycle.identity_key_fingerprint
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()

    monkeypatch.setitem(current_app.config, "IDENTITY_HMAC_KEY", "a-rotated-identity-key-0123456")
    with write_intent():
        cycle = get_cycle(made.slug)
        with pytest.raises(IdentityKeyChanged):
            roll_import.plan_import(cycle, _roll(tmp_path))
        with pytest.raises(IdentityKeyChanged) as refused:
            roll_import.apply_import(cycle, _roll(tmp_path), "staff")
        assert refused.value.status == 409
        db.session.rollback()
    with write_intent():
        cycle = get_cycle(made.slug)
        with pytest.raises(DomainError):
            _vote_as_lee(cycle)
        with pytest.raises(IdentityKeyChanged):
            generate_codes(cycle, cycle.district_by_slug("approval"), 1, "staff")
        db.session.rollback()
    cycle = get_cycle(made.slug)
    assert _count(Participation, cycle) == 1
    assert _count(Ballot, cycle) == 1

    # the key it was set up with works again
    monkeypatch.setitem(current_app.config, "IDENTITY_HMAC_KEY", "test-identity-key")
    with write_intent():
        cycle = get_cycle(made.slug)
        plan = _apply(cycle, _roll(tmp_path))
        assert (plan.added, plan.kept_voted) == (0, 0) and plan.unchanged == 2
        with pytest.raises(DomainError, match="already been cast"):
            _vote_as_lee(cycle)
        db.session.rollback()


def test_before_anyone_votes_a_new_key_replaces_the_old_one(made, tmp_path, monkeypatch):
    from flask import current_app

    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.commit()
        first = cycle.identity_key_fingerprint
    monkeypatch.setitem(current_app.config, "IDENTITY_HMAC_KEY", "another-identity-key-0123456789")
    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.commit()
        assert cycle.identity_key_fingerprint not in (None, first)
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()
    assert _count(Participation, get_cycle(made.slug)) == 1
