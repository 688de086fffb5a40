"""The cycle revision read: autocommit, outside the ORM session, and it survives a
database restart without failing the request that finds its connection dead."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import revision_reads, voting
from tests.factories import make_cycle

pytestmark = pytest.mark.db

_REVISION = "SELECT id, config_revision FROM cycle WHERE slug = {}"


def test_reads_the_committed_revision_and_none_for_an_unknown_cycle(app_context):
    with write_intent():
        made = make_cycle()
        db.session.commit()
    cycle = db.session.get(Cycle, made.cycle_id)
    assert revision_reads.read(_REVISION, made.slug) == (cycle.id, cycle.config_revision)
    assert revision_reads.read(_REVISION, "no-such-cycle") is None


def test_a_read_inside_a_writing_request_neither_waits_nor_holds_a_lock(app_context):
    with write_intent():
        made = make_cycle()
        db.session.commit()
        # this request holds SQLite's write lock (BEGIN IMMEDIATE) or a row lock
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.name = "Renamed while a read runs"
        db.session.flush()
        assert revision_reads.read(_REVISION, made.slug)[0] == made.cycle_id
        assert voting.voting_cycle(made.slug).id == made.cycle_id
        db.session.rollback()


def test_a_connection_killed_by_a_server_restart_is_replaced_not_failed(app_context):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to restart")
    with write_intent():
        made = make_cycle()
        db.session.commit()
    assert revision_reads.read(_REVISION, made.slug) is not None  # the pool now holds one
    # what a restart does to every open connection
    terminated = db.session.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND application_name = ''"))
    db.session.rollback()
    assert terminated >= 1
    assert revision_reads.read(_REVISION, made.slug)[0] == made.cycle_id


def test_its_pool_goes_with_the_app_engine(app_context):
    revision_reads.read(_REVISION, "any")
    engine = db.engine
    own = revision_reads._engine_for(engine)
    engine.dispose()
    if engine.dialect.name == "sqlite":
        assert own is engine
    else:
        assert own is not engine
        # as many pooled connections as the app's own pool: fewer and each busy moment
        # opened (and closed) new PostgreSQL connections
        assert own.pool.size() == engine.pool.size()
        assert engine not in revision_reads._AUTOCOMMIT_ENGINES
        assert own.pool.checkedin() == 0
