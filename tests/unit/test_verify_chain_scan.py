"""The verifier's chain pass (pbvote.audit.verify.chain_scan) against verify_chain: on honest
and tampered chains, in one run or cut into runs (as worker processes check a long export),
it stops at the same entry with the same problem and counts the same ballots."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbvote.audit.chain import (
    GENESIS_HASH,
    ChainEntry,
    canonical_json,
    entry_hash,
    verify_chain,
)
from pbvote.audit.verify import chain_scan
from pbvote.audit.verify.chain_scan import ChainCheck, Counting, check_run, join_runs
from pbvote.audit.verify.reading import ChainExport, ChainExportError
from pbvote.audit.verify.shared import ballot_text_counts

COUNTING = Counting(counted_length=10**9, cycle_slug="c1", receipt_key=None)
SELECTIONS = [["A"], ["A", "B"], ["B"], [], {"A": 2}, ["C", "A"], [1], [True], ["1"]]


def make_rows(cast: list[tuple[str, object]], extra_kinds=()) -> list[tuple]:
    rows, previous = [], GENESIS_HASH
    kinds = [("note", {"text": "opened"})] + [
        ("ballot", {"cycle": "c1", "district": d, "channel": "online", "selections": s,
                    "ballot_id": str(n)}) for n, (d, s) in enumerate(cast)] + list(extra_kinds)
    for position, (kind, data) in enumerate(kinds, start=1):
        text = canonical_json({"position": position, "kind": kind, "data": data})
        digest = entry_hash(previous, text)
        rows.append((position, kind, text, previous, digest))
        previous = digest
    return rows


def expected(rows):
    """verify_chain's report, and the ballots of the entries before the first broken one."""
    held = []
    report = verify_chain((ChainEntry(p, t, prev, h) for p, _k, t, prev, h in rows),
                          on_entry=lambda entry, stored: held.append((entry, stored)))
    ballots: dict[str, list] = {}
    for (_position, kind, *_rest), (_entry, stored) in zip(rows, held):
        if kind == "ballot" and {"district", "selections"} <= set(stored["data"]):
            ballots.setdefault(stored["data"]["district"], []).append(
                stored["data"]["selections"])
    return report, {d: ballot_text_counts(b) for d, b in ballots.items()}


def scanned(rows, cuts=()):
    """The pass over `rows`, cut before each index in `cuts` into runs checked apart."""
    bounds = [0, *sorted(set(cuts)), len(rows)]
    runs = [check_run(iter(rows[a:b]), COUNTING, anchored=(a == 0))
            for a, b in zip(bounds, bounds[1:])]
    report, summary, _first = join_runs(iter(runs), COUNTING.receipt_key)
    return report, summary.selections


def tamper(rows, index, how):
    rows = list(rows)
    position, kind, text, previous, digest = rows[index]
    if how == "selections":
        stored = json.loads(text)
        stored["data"]["selections"] = ["Z"]
        text = canonical_json(stored)
    elif how == "spaces":
        text = json.dumps(json.loads(text), sort_keys=True)
    elif how == "not-json":
        text = text[:-1]
    elif how == "position":
        position += 5
    elif how == "link":
        previous = "f" * 64
    elif how == "hash":
        digest = "0" * 64
    elif how == "misplaced":
        stored = json.loads(text)
        stored["position"] += 1
        text = canonical_json(stored)
    elif how == "drop":
        del rows[index]
        return rows
    elif how == "swap":
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
        return rows
    rows[index] = (position, kind, text, previous, digest)
    return rows


HOW = ["selections", "spaces", "not-json", "position", "link", "hash", "misplaced", "drop", "swap"]
CAST = [("north", s) for s in SELECTIONS] + [("south", s) for s in SELECTIONS[:4]]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("index", [0, 1, 5, 12])
def test_a_tampered_entry_is_found_where_verify_chain_finds_it(how, index):
    rows = tamper(make_rows(CAST), index, how)
    report, ballots = expected(rows)
    assert not report.ok
    for cuts in [(), (1,), (index,), (index + 1,), (3, index, index + 2), range(1, len(rows))]:
        assert scanned(rows, cuts) == (report, ballots)


@settings(max_examples=60, deadline=None)
@given(cast=st.lists(st.tuples(st.sampled_from(["north", "south"]),
                               st.sampled_from(range(len(SELECTIONS)))), max_size=25),
       how=st.sampled_from([None, *HOW]), where=st.integers(0, 30),
       cuts=st.lists(st.integers(1, 30), max_size=4))
def test_any_cut_gives_the_sequential_outcome(cast, how, where, cuts):
    rows = make_rows([(d, SELECTIONS[s]) for d, s in cast])
    if how is not None and where < len(rows) - 1:
        rows = tamper(rows, where, how)
    report, ballots = expected(rows)
    assert scanned(rows, [c for c in cuts if c < len(rows)]) == (report, ballots)


def test_true_and_1_and_the_string_1_are_three_ballots():
    rows = make_rows([("north", [1]), ("north", [True]), ("north", ["1"]), ("north", ["1"])])
    _report, selections = scanned(rows)
    assert selections["north"] == Counter({"[1]": 1, "[true]": 1, '["1"]': 2})


def test_an_error_after_a_broken_entry_is_not_raised():
    """Sequentially the broken entry stops the pass before the unreadable one is read."""
    rows = tamper(make_rows(CAST), 2, "hash")

    def unreadable():
        yield from rows[5:8]
        raise ChainExportError("chain.jsonl", "line 9 is not a chain entry")

    runs = [check_run(iter(rows[:5]), COUNTING), check_run(unreadable(), COUNTING, False)]
    report, _summary, _first = join_runs(iter(runs), None)
    assert report.problem == "entry 3: hash mismatch"
    runs = [check_run(iter(make_rows(CAST)[:5]), COUNTING), check_run(unreadable(), COUNTING,
                                                                        False)]
    with pytest.raises(ChainExportError, match="line 9"):
        join_runs(iter(runs), None)


def _export(tmp_path, rows, name="chain.jsonl", damage=None) -> ChainExport:
    lines = [canonical_json({"position": p, "kind": k, "entry_json": t, "previous_hash": prev,
                             "entry_hash": h}).encode() for p, k, t, prev, h in rows]
    if damage is not None:
        index, line = damage
        lines[index] = line
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return ChainExport(path)


@pytest.fixture
def in_workers(monkeypatch):
    """Worker processes even for a small export, and more runs than entries sometimes."""
    monkeypatch.setattr(chain_scan, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(chain_scan, "_workers", lambda: 3)


@pytest.mark.parametrize("how", [None, "hash", "drop", "swap"])
def test_an_export_checked_by_workers_equals_one_pass(tmp_path, in_workers, how):
    rows = make_rows(CAST * 4)
    if how:
        rows = tamper(rows, 40, how)
    export = _export(tmp_path, rows)
    assert ChainCheck(export, COUNTING)._pool is None  # workers only when asked for
    check = ChainCheck(export, COUNTING, parallel=True)
    assert check._pool is not None
    report, summary, first = check.result()
    one = join_runs(iter([check_run(export.rows(), COUNTING)]), None)
    assert (report, summary.selections, summary.count, summary.channels, first) == (
        one[0], one[1].selections, one[1].count, one[1].channels, one[2])
    assert (report, summary.selections) == expected(rows)


def test_an_unreadable_line_in_a_later_run_exits_as_before(tmp_path, in_workers):
    rows = make_rows(CAST * 4)
    export = _export(tmp_path, rows, damage=(45, b"{not json"))
    with pytest.raises(ChainExportError, match="line 46 is not a chain entry"):
        ChainCheck(export, COUNTING, parallel=True).result()
    export = _export(tmp_path, rows, damage=(45, b"\xff\xfe"))
    with pytest.raises(ChainExportError, match="not UTF-8"):
        ChainCheck(export, COUNTING, parallel=True).result()


def test_a_broken_entry_before_an_unreadable_line_is_the_finding(tmp_path, in_workers):
    rows = tamper(make_rows(CAST * 4), 3, "hash")
    export = _export(tmp_path, rows, damage=(45, b"{not json"))
    report, _summary, _first = ChainCheck(export, COUNTING, parallel=True).result()
    assert report.problem == "entry 4: hash mismatch"


def test_line_starts_cut_at_line_starts(tmp_path):
    export = _export(tmp_path, make_rows(CAST * 4))
    data = export.path.read_bytes()
    for parts in (1, 2, 3, 7, 200):
        cuts = export.line_starts(parts)
        assert cuts[0] == 0 and cuts[-1] == len(data) and cuts == sorted(cuts)
        assert all(cut == 0 or cut == len(data) or data[cut - 1:cut] == b"\n" for cut in cuts)
        rows = [row for a, b in zip(cuts, cuts[1:]) for row in export.rows(a, b)]
        assert rows == list(export.rows())


BODY = '"channel":"online","cycle":"c1","district":"north","selections":["A"]'
ODD_TEXTS = [  # ballot entries' texts at position 2, hashed as they are
    '{"data":{"ballot_id":"a\\"b",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"a\\nb",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x","ballot_id":"y",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":02}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":2,"position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"position":2,"kind":"ballot"}'.replace("@", BODY),
    '{"data":{"ballot_id":"x", @},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":2}'.replace(
        "@", BODY.replace("A", "\\u0041")),
    '{"data":{"ballot_id":"x\u2028y",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"\\u0041",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"\\t",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"\t",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x\u00e9",@},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"note","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":2.0}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@,"zz":[}},"kind":"ballot","position":2}'.replace("@", BODY),
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":2}'.replace("@", BODY.replace(
        '"north"', '["north"]')),
    '{"data":{"ballot_id":"x","channel":"online","cycle":"c1"},"kind":"ballot","position":2}',
    '{"data":{"ballot_id":"x",@},"kind":"ballot","position":2}'.replace(
        "@", BODY.replace('"c1"', '"c2"')),
]


@pytest.mark.parametrize("text", ODD_TEXTS)
@pytest.mark.parametrize("twice", [False, True])
def test_odd_ballot_entry_texts_are_judged_as_verify_chain_judges_them(text, twice):
    """The template of a ballot entry's text (parsed once for all entries alike) never
    accepts, or counts, what parsing the entry itself would not."""
    rows = make_rows([("north", ["A"])])[:1]
    for position in (2, 3) if twice else (2,):
        entry = text.replace('"position":2', f'"position":{position}').replace(
            '"position":02', f'"position":0{position}')
        previous = rows[-1][4]
        rows.append((position, "ballot", entry, previous, entry_hash(previous, entry)))
    try:
        wanted = expected(rows)
    except Exception as error:  # noqa: BLE001 - the pass must fail the same way
        with pytest.raises(type(error)):
            scanned(rows)
        return
    assert scanned(rows) == wanted
    runs = [check_run(iter(rows), COUNTING)]
    _report, summary, first = join_runs(iter(runs), None)
    old_first = {}
    held = []
    verify_chain((ChainEntry(p, t, prev, h) for p, _k, t, prev, h in rows),
                 on_entry=lambda entry, stored: held.append(stored))
    districts: Counter = Counter()
    for (position, kind, *_rest), stored in zip(rows, held):
        if stored.get("kind") != kind:
            old_first.setdefault("kind", position)
        if kind == "ballot":
            if stored["data"].get("cycle") != "c1":
                old_first.setdefault("cycle", stored["data"].get("cycle"))
            if "district" in stored["data"]:
                districts[stored["data"]["district"]] += 1
    assert first == old_first
    assert summary.count == districts
