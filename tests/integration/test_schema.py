"""The ballot table cannot identify a voter, and participation keeps no time finer than a day."""
from __future__ import annotations

from sqlalchemy import inspect

from pbvote.infra.extensions import db

#: every column the ballot table may have; anything new must be argued for here
BALLOT_COLUMNS = {"id", "cycle_id", "district_id", "channel", "selections", "receipt",
                  "chain_position"}
VOTER_TABLES = {"participation", "roll_entry", "access_code"}


def test_ballot_has_no_column_that_could_identify_a_voter(app_context):
    inspector = inspect(db.engine)
    columns = {c["name"]: c for c in inspector.get_columns("ballot")}
    assert set(columns) == BALLOT_COLUMNS
    forbidden = {"identity", "voter", "user", "roll", "code", "time", "date", "created", "ip",
                 "address", "participation", "session", "hash"}
    for name in columns:
        assert not set(name.split("_")) & forbidden, name
    referred = {fk["referred_table"] for fk in inspector.get_foreign_keys("ballot")}
    assert referred == {"cycle", "district"}
    assert not referred & VOTER_TABLES


def test_nothing_joins_participation_and_ballot(app_context):
    inspector = inspect(db.engine)
    for table, other in (("participation", "ballot"), ("ballot", "participation")):
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert other not in referred
    participation = {c["name"] for c in inspector.get_columns("participation")}
    assert "ballot_id" not in participation and "receipt" not in participation


def test_participation_keeps_only_the_day(app_context):
    inspector = inspect(db.engine)
    types = {c["name"]: str(c["type"]).upper() for c in inspector.get_columns("participation")}
    assert types["voted_on"] == "DATE"
    assert not any("TIME" in t for t in types.values())


def test_participation_is_unique_per_identity_and_scope(app_context):
    inspector = inspect(db.engine)
    uniques = [tuple(u["column_names"]) for u in inspector.get_unique_constraints("participation")]
    assert ("cycle_id", "district_id", "identity_hash") in uniques


def test_random_keys_leave_no_insertion_order_on_sqlite(app_context):
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL has no rowid; see the note on heap order in the README
    with db.engine.connect() as connection:
        for table in ("participation", "ballot"):
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)).scalar()
            assert "WITHOUT ROWID" in sql.upper()
