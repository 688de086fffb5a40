"""One pass over the chain export for chain-integrity: verify_chain's checks, with the ballot
entries counted as they pass (what chain-receipts, chain-ballots and chain-channels compare).

At city scale every microsecond per entry is a third of a second, so the loop does nothing
per entry but what the checks need, and a long export is cut into runs of whole lines that
worker processes check side by side, while the bundle's own checks run. The runs are joined
in order, so the outcome is the sequential one: the first broken entry (the links across
runs included) with the same problem, findings only from the entries before it, and an
unreadable line raised only where a sequential read would have reached it.
tests/unit/test_verify_chain_scan.py holds it to verify_chain on tampered chains.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json import encoder as json_encoder

from pbvote.audit.chain import GENESIS_HASH, ChainReport, canonical_json, receipt_from_entry_hash
from pbvote.audit.verify.checks import ChainBallots
from pbvote.audit.verify.reading import ChainExport
from pbvote.audit.verify.shared import ballot_key, texts_of_keys

#: below this size an export is read in this process: starting workers would cost more
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
MAX_WORKERS = 4

Row = tuple[int, str, str, str, str]  # position, kind, entry_json, previous_hash, entry_hash


@dataclass(frozen=True)
class Counting:
    """What the findings depend on besides the chain: the length results.json was counted
    at, the cycle's slug and the receipt key (None: receipts are not re-derived)."""

    counted_length: int
    cycle_slug: str
    receipt_key: str | None


@dataclass
class RunResult:
    """One run of entries, checked: its first entry as found (the links into it are checked
    when the runs are joined), how far it held, and what its entries hold."""

    first_position: int | None = None
    first_previous: str | None = None
    count: int = 0  # the position of the last entry that held (in a run: once anchored)
    previous: str = GENESIS_HASH  # that entry's hash
    problem: str | None = None  # the first broken entry, as verify_chain words it
    error: BaseException | None = None  # raised reading or checking the entry after the last
    ballots: Counter = field(default_factory=Counter)
    channels: dict[str, Counter] = field(default_factory=dict)
    receipts: dict[str, Counter] | None = None
    missing: dict[str, KeyError] = field(default_factory=dict)
    by_key: dict[str, Counter] = field(default_factory=dict)  # district → ballot_key counts
    listed: dict[str, Counter] = field(default_factory=dict)  # district → lists of str as tuples
    first: dict[str, object] = field(default_factory=dict)


def _canonical_encoder():
    """canonical_json without its guard against a value that contains itself, which a value
    json.loads made cannot: the same text, about a quarter faster per entry."""
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is None:
        return canonical_json
    encode = make(None, None, json_encoder.encode_basestring, None, ":", ",", True, False, False)
    sample = {"position": 7, "b": [1, -2.5, None, True, "é\u2028\"\n"], "a": {"z": {}, "y": []}}
    if "".join(encode(sample, 0)) != canonical_json(sample):
        return canonical_json
    return lambda value: "".join(encode(value, 0))


#: a ballot entry's canonical text starts with its ballot id and ends with its position
BALLOT_PREFIX = '{"data":{"ballot_id":"'
POSITION_MARK = ',"position":'
#: the most ballot-entry templates one run keeps (a city has a few hundred; a hostile export
#: with more is parsed entry by entry past this)
MAX_TEMPLATES = 4096


@dataclass(frozen=True, eq=False)
class BallotTemplate:
    """What every ballot entry of one text but its ballot id and position holds: the entry
    parsed once, for all of them (json.loads and the canonical check cost two thirds of an
    entry's check)."""

    kind: object  # the hashed entry's "kind"
    data: dict  # its "data", the ballot id aside


def ballot_template(middle: str, encode) -> BallotTemplate | None:
    """The template of ballot entries whose text is BALLOT_PREFIX + id + `middle` +
    POSITION_MARK + position + "}", or None when such a text is not canonical JSON with the
    id at data.ballot_id and the position at position (then each is checked in full).

    With a plain id (no quote, backslash or control character) and a position written as
    str(int), the text parses as the one with "x" and 1 in their places, with those values
    replaced, and is canonical exactly when that one is: the two differ only inside one
    string token and one number token, which canonical JSON writes as they are."""
    text = f"{BALLOT_PREFIX}x{middle}{POSITION_MARK}1}}"
    try:
        stored = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if (type(stored) is not dict or type(stored.get("data")) is not dict
            or stored["data"].get("ballot_id") != "x" or stored.get("position") != 1):
        return None
    try:
        if encode(stored) != text:
            return None
        # its entries are counted when the run ends: only data that counts without an error
        _count_ballot(stored["data"], 1, RunResult())
    except (ValueError, TypeError, RecursionError):
        return None
    return BallotTemplate(stored.get("kind"), stored["data"])


def check_run(rows: Iterable[Row], counting: Counting, anchored: bool = True) -> RunResult:
    """verify_chain over `rows`, counting the ballot entries that hold. `anchored`: the rows
    start the chain (at GENESIS_HASH, position 1); otherwise the first row's position and
    previous hash are taken as found, for the join to check."""
    result = RunResult(receipts={} if counting.receipt_key is not None else None)
    counted_length, cycle_slug, receipt_key = (counting.counted_length, counting.cycle_slug,
                                               counting.receipt_key)
    keyed = receipt_key is not None
    first = result.first
    loads, encode, sha256 = json.loads, _canonical_encoder(), hashlib.sha256
    templates: dict[str, BallotTemplate | None] = {}
    templated: Counter = Counter()  # ballot entries that held, by template
    previous, count, problem = GENESIS_HASH, 0, None
    prefix_length, mark_length = len(BALLOT_PREFIX), len(POSITION_MARK)
    rows = iter(rows)
    try:
        for position, kind, entry_json, previous_hash, digest in rows:
            if not anchored:
                anchored = True
                result.first_position, result.first_previous = position, previous_hash
                previous, count = previous_hash, position - 1
            elif result.first_position is None:
                result.first_position, result.first_previous = position, previous_hash
            expected_position = count + 1
            if position != expected_position:
                problem = f"entry {expected_position}: found position {position}"
                break
            if previous_hash != previous:
                problem = f"entry {position}: previous hash does not link"
                break
            template = None
            if entry_json.startswith(BALLOT_PREFIX):  # most entries: a template parsed once
                id_end = entry_json.find('"', prefix_length)
                mark = entry_json.rfind(POSITION_MARK)
                if (0 < id_end < mark and entry_json.endswith("}")
                        and entry_json[mark + mark_length:-1] == str(position)):
                    ballot_id = entry_json[prefix_length:id_end]
                    if "\\" not in ballot_id and ballot_id.isprintable():
                        middle = entry_json[id_end:mark]
                        template = templates.get(middle)
                        if template is None and middle not in templates:
                            if len(templates) < MAX_TEMPLATES:
                                template = templates[middle] = ballot_template(middle, encode)
            if template is None:
                try:
                    stored = loads(entry_json)
                except ValueError:
                    problem = f"entry {position}: not JSON"
                    break
                if encode(stored) != entry_json or stored.get("position") != position:
                    problem = f"entry {position}: content is not canonical or misplaced"
                    break
            if sha256((previous + entry_json).encode("utf-8")).hexdigest() != digest:
                problem = f"entry {position}: hash mismatch"
                break
            # the entry holds: what the later checks need of it
            if (stored.get("kind") if template is None else template.kind) != kind:
                first.setdefault("kind", position)
            if position == counted_length:
                first["counted_hash"] = digest
            if kind == "ballot":
                if position > counted_length:
                    first.setdefault("late", position)
                data = stored["data"] if template is None else template.data
                if data.get("cycle") != cycle_slug:
                    first.setdefault("cycle", data.get("cycle"))
                if template is not None:
                    templated[template] += 1
                else:
                    _count_ballot(data, 1, result)
                if keyed and "district" in data:
                    result.receipts.setdefault(data["district"], Counter())[
                        receipt_from_entry_hash(digest, receipt_key)] += 1
            previous = digest
            count += 1
    except Exception as error:  # raised in its place when the runs are joined
        result.error = error
    for template, times in templated.items():
        _count_ballot(template.data, times, result)
    result.count, result.previous, result.problem = count, previous, problem
    return result


def _count_ballot(data: dict, times: int, result: RunResult) -> None:
    """`times` ballot entries holding `data`, counted by district, channel and selections."""
    if "district" not in data:
        result.missing.setdefault("district", KeyError("district"))
        return
    district = data["district"]
    result.ballots[district] += times
    if "channel" in data:
        result.channels.setdefault(district, Counter())[data["channel"]] += times
    else:
        result.missing.setdefault("channel", KeyError("channel"))
    if "selections" in data:
        _count_selections(data["selections"], district, times, result.listed, result.by_key)
    else:
        result.missing.setdefault("selections", KeyError("selections"))


def _count_selections(selections, district, times: int, listed: dict, by_key: dict) -> None:
    """Count one ballot's selections as ballot_key would: a list of strings as a tuple
    (str.join refuses any other element, so True and 1 are never merged with a string, nor
    with each other), any other value by ballot_key itself."""
    if type(selections) is list:
        try:
            "".join(selections)
        except TypeError:
            pass
        else:
            listed.setdefault(district, Counter())[tuple(selections)] += times
            return
    by_key.setdefault(district, Counter())[ballot_key(selections)] += times


def join_runs(runs: Iterator[RunResult], receipt_key: str | None
              ) -> tuple[ChainReport, ChainBallots, dict]:
    """The runs, in order, as one pass would have found them: the report, the ballots and
    the first findings. Raises what a run raised, once every run before it held."""
    summary = ChainBallots(receipts={} if receipt_key is not None else None)
    first: dict[str, object] = {}
    keys: dict[str, Counter] = {}
    previous, count, problem = GENESIS_HASH, 0, None
    for run in runs:
        if run.first_position is not None:
            if run.first_position != count + 1:
                problem = f"entry {count + 1}: found position {run.first_position}"
                break
            if run.first_previous != previous:
                problem = f"entry {run.first_position}: previous hash does not link"
                break
        for name, value in run.first.items():
            if name == "counted_hash":
                first[name] = value
            else:
                first.setdefault(name, value)
        summary.count.update(run.ballots)
        for district, channels in run.channels.items():
            summary.channels.setdefault(district, Counter()).update(channels)
        if summary.receipts is not None and run.receipts is not None:
            for district, receipts in run.receipts.items():
                summary.receipts.setdefault(district, Counter()).update(receipts)
        for name, error in run.missing.items():
            summary.missing.setdefault(name, error)
        for district, counted in run.by_key.items():
            keys.setdefault(district, Counter()).update(counted)
        for district, lists in run.listed.items():
            counted = keys.setdefault(district, Counter())
            for ballot, times in lists.items():
                counted[("list", *ballot)] += times
        if run.first_position is not None:
            count, previous = run.count, run.previous
        if run.problem is not None:
            problem = run.problem
            break
        if run.error is not None:
            raise run.error
    summary.selections = {slug: texts_of_keys(counted) for slug, counted in keys.items()}
    return ChainReport(problem is None, count, previous, problem), summary, first


# ----- the export's runs in worker processes ----------------------------------------------
def _check_export_run(path: str, start: int, end: int, counting: Counting,
                      anchored: bool) -> RunResult:
    return check_run(ChainExport(path).rows(start, end), counting, anchored)


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


class ChainCheck:
    """The check of a chain export, started (with `parallel`, in worker processes, for a long
    export that a machine with more than one core can share out) and joined when
    chain-integrity needs it. Close it in any case: workers not joined are stopped.

    Only the command line asks for workers: forking a process that runs other threads (a
    web server's worker, say) could leave a child waiting on a lock no thread will free."""

    def __init__(self, export: ChainExport, counting: Counting, parallel: bool = False):
        self.export, self.counting = export, counting
        self._pool = None
        self._pending: list = []
        workers = _workers() if parallel else 1
        if (workers > 1 and export.size() >= PARALLEL_MIN_BYTES
                and "forkserver" in multiprocessing.get_all_start_methods()):
            cuts = export.line_starts(workers)
            try:
                # forkserver: the workers fork from a fresh server process, never from this
                # one, so a thread here holding a lock (a test runner's, a web worker's) cannot
                # leave a worker waiting on it for ever, as plain fork did
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
                self._pool = context.Pool(workers)
            except (OSError, ValueError):  # no semaphores or processes here: read it here
                return
            self._pending = [
                self._pool.apply_async(_check_export_run, (
                    str(export.path), start, end, counting, index == 0))
                for index, (start, end) in enumerate(zip(cuts, cuts[1:]))]
            self._pool.close()

    def result(self) -> tuple[ChainReport, ChainBallots, dict]:
        if self._pool is None:
            runs: Iterator[RunResult] = iter([check_run(self.export.rows(), self.counting)])
        else:
            runs = (pending.get() for pending in self._pending)
        try:
            return join_runs(runs, self.counting.receipt_key)
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
