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
from pbvote.models import Ballot, Participation, RollEntry
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


def _rotate(monkeypatch, key):
    """Rotate the secret key as a deployment without its own identity key did: outside
    production the identity key falls back to the secret key, so both change."""
    from flask import current_app

    monkeypatch.setitem(current_app.config, "SECRET_KEY", key)
    monkeypatch.setitem(current_app.config, "IDENTITY_HMAC_KEY", key)


def test_a_rotated_identity_key_cannot_make_a_voter_vote_twice(made, tmp_path, monkeypatch):
    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.commit()
        assert cycle.identity_key_fingerprint
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()

    _rotate(monkeypatch, "a-rotated-secret-key-0123456789abcdef")
    with write_intent():
        cycle = get_cycle(made.slug)
        # before the roll is imported again, nobody can be hashed under the new key
        with pytest.raises(IdentityKeyChanged):
            _vote_as_lee(cycle)
        with pytest.raises(IdentityKeyChanged):
            generate_codes(cycle, cycle.district_by_slug("approval"), 1, "staff")
        db.session.rollback()

    # the same roll, re-imported by roll number: both people are found again
    with write_intent():
        cycle = get_cycle(made.slug)
        preview = roll_import.plan_import(cycle, _roll(tmp_path))
        assert (preview.added, preview.removed, preview.rekeyed) == (0, 0, 2)
        plan = roll_import.apply_import(cycle, _roll(tmp_path), "staff")
        assert (plan.added, plan.removed, plan.rekeyed) == (0, 0, 2)
        db.session.commit()
    with write_intent():
        cycle = get_cycle(made.slug)
        with pytest.raises(DomainError, match="already been cast"):
            _vote_as_lee(cycle)
        db.session.rollback()
    cycle = get_cycle(made.slug)
    assert _count(RollEntry, cycle) == 2
    assert _count(Participation, cycle) == 1
    assert _count(Ballot, cycle) == 1

    # Kim, who had not voted, votes under the new key, once
    with write_intent():
        cycle = get_cycle(made.slug)
        kim = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), "Kim",
                                    dt.date(1981, 2, 2), "R2")
        voting.cast_ballot(kim, ["AP-A"])
        db.session.commit()
    with write_intent():
        cycle = get_cycle(made.slug)
        with pytest.raises(DomainError, match="already been cast"):
            voting.verify_by_roll(cycle, cycle.district_by_slug("approval"), "Kim",
                                  dt.date(1981, 2, 2), "AB1 2CD")
        db.session.rollback()
    assert _count(Participation, get_cycle(made.slug)) == 2

    # a further rotation and re-import still finds both voters
    _rotate(monkeypatch, "a-second-rotated-secret-key-0123456789")
    with write_intent():
        cycle = get_cycle(made.slug)
        plan = roll_import.apply_import(cycle, _roll(tmp_path), "staff")
        assert (plan.added, plan.rekeyed, plan.removed) == (0, 2, 0)
        db.session.commit()
    with write_intent():
        cycle = get_cycle(made.slug)
        with pytest.raises(DomainError, match="already been cast"):
            _vote_as_lee(cycle)
        db.session.rollback()
    assert _count(Participation, get_cycle(made.slug)) == 2
    assert _count(Ballot, get_cycle(made.slug)) == 2


def test_after_a_rotation_a_roll_without_numbers_is_refused(made, tmp_path, monkeypatch):
    """Without roll numbers nothing stable is left to find the voters by: refused, as before."""
    path = tmp_path / "plain.csv"
    path.write_text("last_name,birth_date,postcode,district\n"
                    "Lee,1980-01-01,AB1 2CD,approval\n", encoding="utf-8")
    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, path)
        db.session.commit()
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()
    _rotate(monkeypatch, "a-rotated-secret-key-0123456789abcdef")
    for roll in (path, _roll(tmp_path)):  # stored entries without numbers, or the file
        with write_intent():
            cycle = get_cycle(made.slug)
            with pytest.raises(IdentityKeyChanged) as refused:
                roll_import.apply_import(cycle, roll, "staff")
            assert refused.value.status == 409
            db.session.rollback()
    cycle = get_cycle(made.slug)
    assert _count(RollEntry, cycle) == 1
    assert _count(Participation, cycle) == 1


def test_the_key_it_was_set_up_with_still_works(made, tmp_path, monkeypatch):
    from flask import current_app

    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.commit()
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()
    monkeypatch.setitem(current_app.config, "IDENTITY_HMAC_KEY", "test-identity-key")
    with write_intent():
        cycle = get_cycle(made.slug)
        plan = _apply(cycle, _roll(tmp_path))
        assert (plan.added, plan.kept_voted, plan.rekeyed) == (0, 0, 0) and plan.unchanged == 2
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


def test_entries_from_before_roll_number_hashes_get_them_at_the_next_import(
        made, tmp_path, monkeypatch):
    """An entry imported before roll numbers were hashed under the cycle's key (migration
    0015) gets the hash at the next import with its own key; a rotation after that is
    recovered like any other."""
    from sqlalchemy import update

    with write_intent():
        cycle = get_cycle(made.slug)
        _apply(cycle, _roll(tmp_path))
        db.session.execute(update(RollEntry).where(RollEntry.cycle_id == cycle.id)
                           .values(roll_number_key_hash=None))
        db.session.commit()
    with write_intent():
        _vote_as_lee(get_cycle(made.slug))
        db.session.commit()
    with write_intent():
        plan = roll_import.apply_import(get_cycle(made.slug), _roll(tmp_path), "staff")
        assert plan.unchanged == 2
        db.session.commit()
    cycle = get_cycle(made.slug)
    assert db.session.scalar(select(func.count()).select_from(RollEntry).where(
        RollEntry.cycle_id == cycle.id, RollEntry.roll_number_key_hash.is_(None))) == 0
    _rotate(monkeypatch, "a-rotated-secret-key-0123456789abcdef")
    with write_intent():
        plan = roll_import.apply_import(get_cycle(made.slug), _roll(tmp_path), "staff")
        assert plan.rekeyed == 2
        db.session.commit()
    with write_intent():
        with pytest.raises(DomainError, match="already been cast"):
            _vote_as_lee(get_cycle(made.slug))
        db.session.rollback()
