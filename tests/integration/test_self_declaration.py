"""Online self-declaration through the services, on every engine: confirmations and casts
racing each other give one vote, and the manifest names the setting only when it is on."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Cycle, OutboxMessage, Participation
from pbvote.rules.self_declaration import Declaration
from pbvote.services import self_declaration, voting
from pbvote.services.cycles import build_manifest, manifest_hash
from pbvote.services.errors import AlreadyVoted
from pbvote.services.self_declaration import DeclarationRefused
from tests.factories import make_cycle
from tests.race_helpers import race

PERSON = Declaration(given_names="Mei", last_name="Chen", street="3 Harbour Road",
                     postcode="10003", birth_date=dt.date(2008, 2, 1), contact="+44 7700 900123")


def _declared(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.online_self_declaration = True
        declaration_id = self_declaration.declare(cycle, cycle.district_by_slug("approval"),
                                                  PERSON)
        body = db.session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.recipient == "sms:+447700900123"))
        db.session.commit()
    return made, declaration_id, re.search(r"\d{6}", body).group()


def _counts(cycle_id):
    return tuple(db.session.scalar(select(func.count()).select_from(table)
                                   .where(table.cycle_id == cycle_id))
                 for table in (Ballot, Participation))


def test_two_confirmations_at_once_give_one_vote(app):
    made, declaration_id, code = _declared(app)

    def confirm_and_cast():
        cycle = db.session.get(Cycle, made.cycle_id)
        try:
            voter = self_declaration.confirm(cycle, declaration_id, code)
        except DeclarationRefused as refused:
            assert refused.status == 409  # the code was used by the other confirmation
            raise AlreadyVoted() from refused
        voting.cast_ballot(voter, ("AP-A",), cycle=cycle)

    outcomes = race(app, [("voted", confirm_and_cast)] * 2, refused="refused")
    assert outcomes == ["refused", "voted"]
    with app.app_context():
        assert _counts(made.cycle_id) == (1, 1)


def test_one_confirmed_declaration_casting_twice_at_once_votes_once(app):
    made, declaration_id, code = _declared(app)
    with app.app_context(), write_intent():
        voter = self_declaration.confirm(db.session.get(Cycle, made.cycle_id), declaration_id,
                                         code)
        db.session.commit()

    def cast():
        voting.cast_ballot(voter, ("AP-A",), cycle=db.session.get(Cycle, made.cycle_id))

    assert race(app, [("cast", cast)] * 6, refused="refused") == ["cast"] + ["refused"] * 5
    with app.app_context():
        assert _counts(made.cycle_id) == (1, 1)


def test_the_manifest_names_the_setting_only_when_it_is_on(app_context):
    with write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        before = manifest_hash(cycle)
        assert "online_self_declaration" not in build_manifest(cycle)["eligibility"]
        cycle.online_self_declaration = True
        assert build_manifest(cycle)["eligibility"]["online_self_declaration"] is True
        assert manifest_hash(cycle) != before
        cycle.online_self_declaration = False
        assert manifest_hash(cycle) == before


def test_turnout_counts_self_declared_online_apart(app):
    made, declaration_id, code = _declared(app)
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        voter = self_declaration.confirm(cycle, declaration_id, code)
        voting.cast_ballot(voter, ("AP-A",), cycle=cycle)
        person = made.people["approval"]
        roll_voter = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"),
                                           person.last_name, person.birth_date, person.postcode)
        voting.cast_ballot(roll_voter, ("AP-B",), cycle=cycle)
        db.session.commit()
        from pbvote.services import turnout

        figures = turnout.figures(cycle, cached=False)
        assert figures["by_channel"]["approval"] == {"online": 1, "self-declared-online": 1}
        assert "self-declared-online" in figures["channels"]
        # results.json's public table names the channel (its small cells hidden)
        assert "self-declared-online" in turnout.public_tables(figures)["channel"]["columns"]


def test_a_declaration_fixes_the_identity_key_of_a_cycle_without_one(app):
    from pbvote.services.keys import identity_key_fingerprint

    with app.app_context(), write_intent():
        made = make_cycle()
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.online_self_declaration = True
        cycle.identity_key_fingerprint = None
        db.session.commit()
        self_declaration.declare(cycle, cycle.district_by_slug("approval"), PERSON)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Cycle, made.cycle_id).identity_key_fingerprint \
            == identity_key_fingerprint()
