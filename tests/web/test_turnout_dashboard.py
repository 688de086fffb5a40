"""The turnout and equity dashboard: live for staff, suppressed for the public after close."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import event, func

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


def test_age_bands_are_computed_by_the_database(app):
    """The database bands the dates of birth (one CASE), on both engines, exactly as
    pbvote.rules.turnout.age_band does, including birthdays on the reference day and 29
    February; it never groups by the date of birth itself (54,000 groups at 100,000 voters)."""
    import secrets

    from pbvote.models import Participation, RollEntry
    from pbvote.rules import turnout as bands
    from tests.factories import make_cycle

    on = dt.date(2028, 2, 29)
    births = [dt.date(2010, 2, 28), dt.date(2010, 3, 1), dt.date(2012, 2, 29),
              dt.date(2012, 3, 1), dt.date(2004, 2, 29), dt.date(1953, 2, 28),
              dt.date(1953, 3, 1), dt.date(1990, 6, 15), dt.date(2028, 2, 29),
              dt.date(2028, 3, 1), dt.date(1970, 1, 1), dt.date(2003, 2, 28)]
    with app.app_context():
        with write_intent():
            made = make_cycle("bands-cycle", voting="open", minimum_age=16)
            cycle = db.session.get(Cycle, made.cycle_id)
            district = cycle.districts[0]
            for n, born in enumerate(births):
                identity = f"bands-{n:04d}".ljust(64, "0")
                db.session.add(RollEntry(cycle_id=cycle.id, district_id=district.id,
                                         postcode_match_hash=identity, birth_date=born,
                                         identity_hash=identity))
                if n % 3:  # two in three of them took part
                    db.session.add(Participation(
                        id=secrets.token_hex(16), cycle_id=cycle.id, district_id=district.id,
                        identity_hash=identity, channel="online", voted_on=on))
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        statements, stop = _count_queries(app)
        try:
            data = turnout._compute(cycle, on)
        finally:
            stop()
        for statement in statements:
            grouped = statement.lower().split("group by", 1)[1:]
            # a date of birth may be grouped only through its band (CASE … END)
            assert not any("birth_date" in re.sub(r"case when .*? end", "", g) for g in grouped), \
                statement

        # the oracle: every row read back and banded in Python, as the dashboard once did
        from sqlalchemy import select

        from pbvote.models import AccessCode
        from pbvote.rules.eligibility import age_on

        def band(born):
            return bands.age_band(born, on) if born and born <= on else bands.UNKNOWN_AGE
        born_of = dict(db.session.execute(select(RollEntry.identity_hash, RollEntry.birth_date)
                                          .where(RollEntry.cycle_id == cycle.id)).all())
        voted, eligible = {}, {}
        for (identity,) in db.session.execute(select(Participation.identity_hash).where(
                Participation.district_id == district.id)):
            key = band(born_of.get(identity))
            voted[key] = voted.get(key, 0) + 1
        for (born,) in db.session.execute(select(RollEntry.birth_date).where(
                RollEntry.district_id == district.id)):
            if born <= on and age_on(born, on) >= cycle.minimum_age:
                eligible[band(born)] = eligible.get(band(born), 0) + 1
        codes = db.session.scalar(select(func.count()).select_from(AccessCode).where(
            AccessCode.district_id == district.id, AccessCode.status != "voided",
            AccessCode.roll_entry_id.is_(None)))
        if codes:
            eligible[bands.UNKNOWN_AGE] = eligible.get(bands.UNKNOWN_AGE, 0) + codes
        assert len(voted) >= 4 and len(eligible) >= 4
        assert data["by_band"][district.slug] == voted
        assert data["eligible_by_band"][district.slug] == eligible


def test_public_tables_render_once_per_minute_of_figures_and_language(app, client):
    """The charts and tables are rendered once for each minute's figures and language; a
    new minute's figures render afresh."""
    from flask import template_rendered

    with app.app_context():
        with write_intent():
            made = cycle_with_ballots("closed")
            db.session.commit()
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)
    path = f"/cycles/{made.slug}/turnout"
    with template_rendered.connected_to(record, app):
        first = client.get(path).text
        second = client.get(path).text
        assert rendered.count("turnout/_sections.html") == 1
        client.get(path, headers={"Accept-Language": "zh"})
        assert rendered.count("turnout/_sections.html") == 2
        turnout.clear_cache()  # as when the minute is over
        client.get(path)
        assert rendered.count("turnout/_sections.html") == 3
    assert first == second and "Participation by district and age band" in first
