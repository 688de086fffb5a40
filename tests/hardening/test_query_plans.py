"""The hot lookups of the resident path use their indexes, whatever the size of the roll.

A roll check that walked the cycle's whole roll cost a full scan of 50,000 rows on every
eligibility check in the load benchmark; these tests read the engine's own query plan.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District
from pbvote.services import voting
from tests.factories import make_cycle

pytestmark = pytest.mark.db


def _plan(statement: str, parameters) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    # PostgreSQL prefers a sequential scan on a tiny table; ask what it would use otherwise.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    return "\n".join(row[0] for row in rows)


def test_roll_check_uses_the_match_hash_indexes(app_context):
    with write_intent():
        made = make_cycle()
        db.session.commit()
    cycle = db.session.get(Cycle, made.cycle_id)
    district = cycle.district_by_slug("approval")
    person = made.people["approval"]
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM roll_entry" in statement:
            statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        voter = voting.verify_by_roll(cycle, district, person.last_name, person.birth_date,
                                      person.postcode)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert isinstance(voter, voting.VerifiedVoter) and isinstance(district, District)
    assert statements, "the roll check ran no query on roll_entry"
    plan = _plan(*statements[0])
    assert "ix_roll_entry_postcode_match_hash" in plan, plan
    assert "ix_roll_entry_roll_number_match_hash" in plan, plan
