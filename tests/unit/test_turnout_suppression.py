"""Small-cell suppression of the public turnout tables (pbvote.audit.suppression).

The property: after suppression no shown cell has 1 to 9 participants, and no hidden cell can
be worked out from what is shown. "Worked out" is checked here independently of the module's
graph argument, by linear algebra over the rationals: a hidden cell is determined exactly when
its unit vector lies in the row space of the table's equations restricted to the hidden cells.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbvote.audit import suppression as turnout
from pbvote.audit.suppression import TOTAL
from pbvote.rules import turnout as bands


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [list(r) for r in matrix]
    rank, width = 0, len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank])]
        rank += 1
    return rank


def determined_cells(table: turnout.Table) -> list[tuple[str, str]]:
    """Hidden cells whose value follows from the shown ones and the equations."""
    hidden = sorted(table.hidden)
    if not hidden:
        return []
    index = {pos: i for i, pos in enumerate(hidden)}
    equations = []
    for row in [*table.rows, TOTAL]:      # cells of the row add up to its total
        eq = [Fraction(0)] * len(hidden)
        for column in table.columns:
            if (row, column) in index:
                eq[index[row, column]] += 1
        if (row, TOTAL) in index:
            eq[index[row, TOTAL]] -= 1
        equations.append(eq)
    for column in [*table.columns, TOTAL]:
        eq = [Fraction(0)] * len(hidden)
        for row in table.rows:
            if (row, column) in index:
                eq[index[row, column]] += 1
        if (TOTAL, column) in index:
            eq[index[TOTAL, column]] -= 1
        equations.append(eq)
    base = _rank(equations)
    found = []
    for pos, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(hidden))]
        if _rank([*equations, unit]) == base:
            found.append(pos)
    return found


tables = st.integers(1, 5).flatmap(lambda n_rows: st.integers(1, 6).flatmap(
    lambda n_cols: st.lists(st.one_of(st.integers(0, 12), st.integers(0, 200)),
                            min_size=n_rows * n_cols, max_size=n_rows * n_cols).map(
        lambda values: turnout.build(
            [f"d{i}" for i in range(n_rows)], [f"c{j}" for j in range(n_cols)],
            {(f"d{i}", f"c{j}"): values[i * n_cols + j]
             for i in range(n_rows) for j in range(n_cols)}))))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_no_small_cell_shown_and_no_hidden_cell_recoverable(table):
    result = turnout.suppress(table)
    published = result.published()
    for row in [*table.rows, TOTAL]:
        for column in table.columns + [TOTAL]:
            shown = published["cells"][row][column]
            if shown is not None:
                assert not 0 < shown < turnout.THRESHOLD, (row, column, shown)
            if shown is not None:
                assert shown == table.value(row, column)
    assert determined_cells(result) == []
    # every hidden cell holds at least one participant, so a +1/-1 cycle stays feasible
    assert all(table.value(*pos) > 0 for pos in result.hidden)
    assert turnout.check_published(published) is None


def test_a_single_small_cell_takes_three_more_with_it():
    table = turnout.build(["north", "south"], ["online", "desk"],
                          {("north", "online"): 40, ("north", "desk"): 3,
                           ("south", "online"): 25, ("south", "desk"): 30})
    result = turnout.suppress(table)
    assert ("north", "desk") in result.hidden
    assert len(result.hidden) >= 4 and determined_cells(result) == []


def test_check_published_names_what_is_wrong():
    table = turnout.build(["a", "b"], ["x", "y"], {("a", "x"): 40, ("a", "y"): 3,
                                                   ("b", "x"): 25, ("b", "y"): 30})
    leaky = turnout.Table(table.rows, table.columns, table.cells, {("a", "y")})
    assert "can be worked out" in turnout.check_published(leaky.published())
    shown = turnout.Table(table.rows, table.columns, table.cells, set())
    assert "fewer than 10" in turnout.check_published(shown.published())


def test_age_bands():
    on = dt.date(2027, 5, 1)
    assert bands.age_band(dt.date(2009, 5, 2), on) == "under-18"
    assert bands.age_band(dt.date(2009, 5, 1), on) == "18-24"
    assert bands.age_band(dt.date(1950, 1, 1), on) == "75+"
    assert bands.age_band(None, on) == bands.UNKNOWN_AGE


def _band_by_cutoffs(born: dt.date, on: dt.date) -> str:
    """What the database's CASE computes (pbvote.services.turnout._band_of), in Python."""
    return next((key for key, latest in bands.band_cutoffs(on) if born <= latest),
                bands.UNKNOWN_AGE)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
       st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
def test_band_cutoffs_band_every_birth_date_as_age_band_does(born, on):
    expected = bands.age_band(born, on) if born <= on else bands.UNKNOWN_AGE
    assert _band_by_cutoffs(born, on) == expected


def test_band_cutoffs_on_a_leap_day():
    on = dt.date(2028, 2, 29)
    for born in (dt.date(2010, 2, 28), dt.date(2010, 3, 1), dt.date(2004, 2, 29),
                 dt.date(1953, 2, 28), dt.date(1953, 3, 1), on, dt.date(2028, 3, 1)):
        expected = bands.age_band(born, on) if born <= on else bands.UNKNOWN_AGE
        assert _band_by_cutoffs(born, on) == expected, born
    assert bands.latest_birth_date(18, on) == dt.date(2010, 2, 28)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
       st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31)), st.integers(-3, 40))
def test_latest_birth_date_is_the_eligible_roll_sizes_cut_off_as_age_on_decides(born, on, age):
    """The count's eligible roll (one SQL count, birth_date <= cut-off) equals the entries
    born by the last voting day whose age_on then reaches the minimum age."""
    from pbvote.rules.eligibility import age_on

    expected = born <= on and age_on(born, on) >= age
    assert (born <= bands.latest_birth_date(max(age, 0), on)) == expected
