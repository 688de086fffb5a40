"""Small-cell suppression of published tables: no figure of 1 to 9 people, none recoverable.

Pure (standard library only); the app (services.turnout) and the standalone verifier both
use it. A table has rows (districts), columns (channels, days or age bands), row totals,
column totals and a grand total. Published tables hide every cell of 1 to 9 participants
(**primary** suppression) and then enough further cells (**complementary** suppression) that
no hidden cell can be worked out from what is shown.

Why that is enough: the cells and totals of a table obey one equation per row (the cells
add up to the row total) and one per column, the totals included. Draw each line (row or
column, the totals' row and column too) as a point and each hidden cell as an edge between
its row and its column. A hidden cell can be worked out exactly when it is a *bridge* of that
graph (no cycle of hidden cells runs through it); otherwise a unit can be moved round a cycle
(+1, -1, +1, ...) and every equation still holds. Every hidden cell is at least 1, so the
moved table has no negative cell either: each hidden cell has at least two possible values.

Empty cells (0) are shown: they describe nobody, and showing them cannot reveal a hidden cell
of 1 or more. Totals follow the same rule as cells: a district, day or band total of 1 to 9
is hidden too, or its only non-empty cell could be read from it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: the smallest number of participants a published cell may show (cells of 1 to 9 are hidden)
THRESHOLD = 10
TOTAL = "total"


@dataclass
class Table:
    """Counts by row and column, with their totals; ``hidden`` holds suppressed positions:
    ``(row, column)``, ``(row, TOTAL)`` or ``(TOTAL, column)`` / ``(TOTAL, TOTAL)``."""

    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], int]
    hidden: set[tuple[str, str]] = field(default_factory=set)

    def value(self, row: str, column: str) -> int:
        if row == TOTAL and column == TOTAL:
            return sum(self.cells.values())
        if row == TOTAL:
            return sum(self.cells.get((r, column), 0) for r in self.rows)
        if column == TOTAL:
            return sum(self.cells.get((row, c), 0) for c in self.columns)
        return self.cells.get((row, column), 0)

    def positions(self) -> Iterable[tuple[str, str]]:
        for row in [*self.rows, TOTAL]:
            for column in [*self.columns, TOTAL]:
                yield row, column

    def published(self) -> dict:
        """The table as the public sees it: hidden cells are None."""
        return {
            "rows": list(self.rows), "columns": list(self.columns),
            "cells": {row: {column: (None if (row, column) in self.hidden
                                     else self.value(row, column))
                            for column in [*self.columns, TOTAL]}
                      for row in [*self.rows, TOTAL]},
        }


def build(rows: list[str], columns: list[str], counts: dict[tuple[str, str], int]) -> Table:
    return Table(list(rows), list(columns), {k: int(v) for k, v in counts.items() if v})


def suppress(table: Table, threshold: int = THRESHOLD) -> Table:
    """Hide every cell and total of 1 to threshold-1, then add complementary cells until no
    hidden cell is a bridge (see the module docstring). Deterministic: a cell whose other line
    already has hidden cells first, then the smallest, then in table order."""
    hidden = {pos for pos in table.positions() if 0 < table.value(*pos) < threshold}
    order = {pos: index for index, pos in enumerate(table.positions())}
    while True:
        bridge = next((pos for pos in sorted(hidden, key=order.__getitem__)
                       if is_bridge(hidden, pos)), None)
        if bridge is None:
            break
        candidates = _complements(table, hidden, bridge)
        if not candidates:
            break  # pragma: no cover - everything is hidden already
        hidden.add(min(candidates, key=lambda pos: (table.value(*pos), order[pos])))
    return Table(table.rows, table.columns, table.cells, hidden)


def _complements(table: Table, hidden: set, bridge: tuple[str, str]) -> list:
    """Shown cells worth hiding next for a bridge: best those that link its two sides (a cycle
    through it), else those that grow one side; non-empty ones before empty ones."""
    side_a = _component(hidden - {bridge}, ("row", bridge[0]))
    side_b = _component(hidden - {bridge}, ("col", bridge[1]))
    shown = [pos for pos in table.positions() if pos not in hidden]
    closes, touches = [], []
    for pos in shown:
        r, c = ("row", pos[0]), ("col", pos[1])
        if (r in side_a and c in side_b) or (r in side_b and c in side_a):
            closes.append(pos)
        elif r in side_a or c in side_a or r in side_b or c in side_b:
            touches.append(pos)
    for group in ([p for p in closes if table.value(*p) > 0],
                  [p for p in touches if table.value(*p) > 0], closes, touches):
        if group:
            return group
    return []


def _component(edges: set[tuple[str, str]], start: tuple[str, str]) -> set[tuple[str, str]]:
    adjacency: dict = {}
    for pos in edges:
        a, b = ("row", pos[0]), ("col", pos[1])
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    seen, stack = {start}, [start]
    while stack:
        for nxt in adjacency.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def is_bridge(hidden: set[tuple[str, str]], edge: tuple[str, str]) -> bool:
    """Whether removing ``edge`` disconnects its row from its column in the graph of hidden
    cells (lines as points, hidden cells as edges)."""
    return ("col", edge[1]) not in _component(hidden - {edge}, ("row", edge[0]))


def check_published(published: dict, threshold: int = THRESHOLD) -> str | None:
    """Why a published table breaks the rules (a shown cell of 1 to threshold-1, a hidden
    cell that can be worked out, totals that do not add up), or None when it is sound."""
    rows, columns, cells = published["rows"], published["columns"], published["cells"]
    lines_r, lines_c = [*rows, TOTAL], [*columns, TOTAL]
    hidden = set()
    for r in lines_r:
        for c in lines_c:
            value = cells[r][c]
            if value is None:
                hidden.add((r, c))
            elif 0 < value < threshold:
                return f"{r}/{c} shows {value}, fewer than {threshold}"
    for pos in sorted(hidden):
        if is_bridge(hidden, pos):
            return f"hidden {pos[0]}/{pos[1]} can be worked out from the totals"
    for r in lines_r:
        shown = [cells[r][c] for c in columns]
        if None not in shown and cells[r][TOTAL] is not None and sum(shown) != cells[r][TOTAL]:
            return f"row {r} does not add up"
    for c in lines_c:
        shown = [cells[r][c] for r in rows]
        if None not in shown and cells[TOTAL][c] is not None and sum(shown) != cells[TOTAL][c]:
            return f"column {c} does not add up"
    return None
