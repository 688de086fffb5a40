"""The turnout and equity dashboard: live for staff, suppressed for the public after close."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import event

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import turnout
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account


@pytest.fixture(autouse=True)
def _fresh_cache():
    turnout.clear_cache()
    yield
    turnout.clear_cache()


def _count_queries(app):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)
    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(engine, "before_cursor_execute", before)


def test_figures_read_participation_in_a_bounded_number_of_queries_and_are_cached(app):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("open")
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        statements, stop = _count_queries(app)
        try:
            data = turnout.figures(cycle)
            first = len(statements)
            again = turnout.figures(cycle)
        finally:
            stop()
        # phases (the reference day), districts, the participation cube, the roll, the codes
        assert first <= 5, statements
        assert len(statements) == first      # the second call is served from the cache
        assert again is data
        assert not any("ballot" in s.lower().split("from", 1)[-1].split("where")[0]
                       for s in statements)  # never reads ballots
        total = sum(sum(c.values()) for c in data["by_channel"].values())
        assert total == sum(sum(c.values()) for c in data["by_band"].values())
        assert total == sum(sum(c.values()) for c in data["by_day"].values())
        assert total > 0


def test_staff_dashboard_during_voting(app, client):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("open")
            db.session.commit()
    with app.app_context():
        _, email, password, secret = make_account("staff")
    login(client, email, password, secret)
    page = client.get(f"/staff/cycles/{made.slug}/turnout/")
    assert page.status_code == 200
    assert "Turnout by age band" in page.text
    assert "Participation by district and channel" in page.text
    assert "<svg" in page.text and "<title id=" in page.text
    # public figures wait for the close
    assert client.get(f"/cycles/{made.slug}/turnout").status_code == 404
    assert client.get(f"/cycles/{made.slug}/turnout.csv").status_code == 404


def test_public_page_and_csv_after_close_hide_small_cells(app, client):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("closed")
            db.session.commit()
    page = client.get(f"/cycles/{made.slug}/turnout")
    assert page.status_code == 200
    assert "Every figure of fewer than 10 people is hidden" in page.text
    response = client.get(f"/cycles/{made.slug}/turnout.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["table"] for r in rows} == {"channel", "day", "age"}
    for row in rows:
        value = row["participations"]
        assert value == "suppressed" or value == "0" or int(value) >= 10, row
    # the test cycle has only a handful of voters per district: their cells are all hidden
    assert any(r["participations"] == "suppressed" for r in rows)


def test_reference_day_is_the_last_voting_day_after_close(app):
    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("closed")
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        window = cycle.phase_window("voting")
        later = window.ends_at + dt.timedelta(days=30)
        assert turnout.reference_day(cycle, later) == turnout.reference_day(cycle, window.ends_at)
