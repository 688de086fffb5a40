"""Read and write Pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, each a ``;``-separated table with a header row:
META (``key;value``), PROJECTS (``project_id;cost;...``) and VOTES (``voter_id;vote;...``).
Lists inside a cell (``vote``, ``points``) are ``,``-separated; cells may be quoted.
Every column is kept as text so a file can be written back unchanged; the
:class:`~pbvote.tally.instance.Instance` and :class:`~pbvote.tally.instance.Profile`
are built from it with exact numbers. A project whose cost is 999999999 is withdrawn.
Problems raise :class:`PabulibError` naming the line.

Why one module of this length: the line splitter, the section readers and the error
messages share the file's positions (line numbers, column starts, the source name), and
every error must name them; split apart, that state would travel between modules.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .exact import MAX_EXPONENT, Number, fmt_exact, parse_exact
from .instance import WITHDRAWN_COST, Instance, Profile, Project, TallyInputError, ordinal_points

SECTIONS = ("META", "PROJECTS", "VOTES")
VOTE_TYPES = {"approval": "approval", "choose-1": "approval", "knapsack": "approval",
              "ordinal": "ordinal", "cumulative": "cumulative", "scoring": "scoring"}


class PabulibError(ValueError):
    """A problem in a .pb file: ``source:line:column: problem`` (line/column when known, 1-based)."""

    def __init__(self, line: int | None, problem: str, source: str = "<pb>", column: int | None = None):
        self.line, self.column, self.problem, self.source = line, column, problem, source
        where = source
        if line:
            where += f":{line}"
            if column:
                where += f":{column}"
        super().__init__(f"{where}: {problem}")


class Rows(Sequence):
    """The rows of a large section (VOTES), kept compactly: a tuple of cells and the line number
    per row, about half the memory of a dict per row. Read, each row is a dict of column -> text
    with ``_line``, like the rows of PROJECTS."""

    __slots__ = ("columns", "_rows")

    def __init__(self, columns: list[str], rows: Iterable[dict[str, str]] = ()):
        self.columns = list(columns)
        self._rows: list[tuple] = []
        for row in rows:
            self.add([row.get(c, "") for c in self.columns], int(row.get("_line", 0)))

    def add(self, cells: list[str], line: int) -> None:
        self._rows.append((*cells, line))

    def _dict(self, row: tuple) -> dict[str, str]:
        record = dict(zip(self.columns, row))
        record["_line"] = str(row[-1])
        return record

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._dict(r) for r in self._rows[index]]
        return self._dict(self._rows[index])

    def __iter__(self):
        return map(self._dict, self._rows)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))


@dataclass
class PabulibFile:
    meta: dict[str, str]
    project_columns: list[str]
    projects: list[dict[str, str]]
    vote_columns: list[str]
    votes: list[dict[str, str]]
    source: str = "<pb>"
    strict: bool = True
    # strict=False: ballots that listed a project twice ({"line", "voter", "projects"}) and other
    # irregularities that were read in a documented way (see parse_pabulib)
    duplicates: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _lines: list[str] | None = field(default=None, repr=False)
    _meta_lines: dict[str, int] = field(default_factory=dict, repr=False)
    _instance: Instance | None = field(default=None, repr=False)
    _profile: Profile | None = field(default=None, repr=False)

    # ----- derived election data ------------------------------------------------------
    @property
    def ballot_type(self) -> str:
        return VOTE_TYPES[self.meta.get("vote_type", "approval").strip().lower()]

    @property
    def instance(self) -> Instance:
        if self._instance is None:
            self._instance = _build_instance(self)
        return self._instance

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            self._profile = _build_profile(self, self.instance)
        return self._profile

    @property
    def official_selection(self) -> set[str] | None:
        """Projects marked ``selected=1`` (None when the file records no outcome)."""
        if "selected" not in self.project_columns:
            return None
        return {row["project_id"] for row in self.projects if row.get("selected", "").strip() == "1"}


# ----- reading ------------------------------------------------------------------------------
MAX_NUMBER_CHARS = 60   # a cost, budget or points cell longer than this is refused, not parsed


def read_pabulib(path: str | Path, strict: bool = True) -> PabulibFile:
    """Read a .pb file. ``strict`` (the default, used for the app's own files) refuses a ballot
    that lists a project twice and a quoted cell with text after its closing quote;
    ``strict=False`` reads real exports that contain them (see :func:`parse_pabulib`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PabulibError(None, f"cannot read file: {exc.strerror}", str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        raise PabulibError(line, f"the file is not UTF-8 text: byte 0x{data[offset]:02x} cannot start or "
                                 "continue a UTF-8 character (save the file as UTF-8)", str(path),
                           column) from None
    # Memory stays a small multiple of the file's size: the bytes go once decoded, the text once
    # split into lines (a hostile file must not be held several times over).
    del data
    lines = _lines_of(text)
    del text
    return _parse_lines(lines, str(path), strict)


def _lines_of(text: str) -> list[str]:
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if line.endswith("\r"):
            lines[n] = line[:-1]
    return lines


def _split_row(lines: list[str], i: int, source: str, strict: bool, warnings: list[str]):
    """Split physical line ``i`` (and the following ones, while a quoted cell is open) into cells.

    Returns ``(next_line_index, cells, starts)``; ``starts`` are 0-based offsets of the cells in the
    joined text (None on the fast path: no quote, offsets follow from the cell lengths)."""
    buf = lines[i]
    if '"' not in buf:
        return i + 1, buf.split(";"), None
    first = i
    cells: list[str] = []
    starts: list[int] = []
    pos = 0

    def where(offset):
        line = first + 1 + buf.count("\n", 0, offset)
        return line, offset - (buf.rfind("\n", 0, offset) + 1) + 1

    while True:
        starts.append(pos)
        if buf.startswith('"', pos):
            parts, j = [], pos + 1
            while True:
                k = buf.find('"', j)
                if k < 0:
                    if i + 1 >= len(lines):
                        line, col = where(pos)
                        raise PabulibError(line, "a cell starts with a quote (\") that is never closed", source, col)
                    i += 1
                    buf += "\n" + lines[i]
                    continue
                if buf.startswith('"', k + 1):   # "" inside quotes is one quote
                    parts.append(buf[j:k + 1])
                    j = k + 2
                    continue
                parts.append(buf[j:k])
                end = k + 1
                break
            if end == len(buf) or buf[end] == ";":
                cells.append("".join(parts))
                if end == len(buf):
                    break
                pos = end + 1
                continue
            line, col = where(pos)
            if strict:
                raise PabulibError(
                    line, f"a cell starts with a quote, but its closing quote is followed by "
                          f"{buf[end:].split(';')[0][:20]!r} instead of ';' or the end of the line (quote the whole cell "
                          f"and double the inner quotes, or remove the quotes)", source, col)
            warnings.append(f"line {line}, column {col}: a cell starts with a quote but goes on after the "
                            "closing quote; read as plain text up to the next ';'")
            nxt = buf.find(";", pos)
            cells.append(buf[pos:] if nxt < 0 else buf[pos:nxt])
            if nxt < 0:
                break
            pos = nxt + 1
        else:
            nxt = buf.find(";", pos)
            if nxt < 0:
                cells.append(buf[pos:])
                break
            cells.append(buf[pos:nxt])
            pos = nxt + 1
    return i + 1, cells, starts


def _column(cells: list[str], starts: list[int] | None, index: int) -> int:
    """1-based column of cell ``index`` (one past the last cell for a missing one)."""
    if index >= len(cells):   # missing: just after the end of the line
        return _column(cells, starts, len(cells) - 1) + len(cells[-1])
    if starts is not None:
        return starts[index] + 1
    return sum(len(c) + 1 for c in cells[:index]) + 1


def parse_pabulib(text: str, source: str = "<pb>", strict: bool = True) -> PabulibFile:
    """Parse the text of a .pb file.

    ``strict=True`` refuses what a careful export never contains: a ballot that lists the same
    project twice, and a quoted cell with text after its closing quote. ``strict=False`` reads
    real city exports that contain them, in a documented way, and reports each case:

    - a project listed twice in one ballot: an approval (or a ranking) counts it once, at its
      first place; cumulative/scoring points for it are **summed**. Every such ballot is in
      ``PabulibFile.duplicates`` (line, voter, projects).
    - ``"Odkupmy" i my``: the cell is read as plain text up to the next ``;`` (quotes kept);
      listed in ``PabulibFile.warnings``.
    """
    return _parse_lines(_lines_of(text), source, strict)


def _parse_lines(lines: list[str], source: str, strict: bool) -> PabulibFile:
    section = None
    header: list[str] | None = None
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    tables: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    seen_ids: dict[str, set] = {"PROJECTS": set(), "VOTES": set()}
    sections_seen: set[str] = set()
    warnings: list[str] = []
    i = 0
    while i < len(lines):
        line = i + 1
        i, row, starts = _split_row(lines, i, source, strict, warnings)
        if all(not c.strip() for c in row):
            continue
        first = row[0].strip()
        if first.upper() in SECTIONS and all(not c.strip() for c in row[1:]):
            section = first.upper()
            if section in sections_seen:
                raise PabulibError(line, f"section {section} appears twice", source, 1)
            sections_seen.add(section)
            header = None
            continue
        if section is None:
            raise PabulibError(line, "data before the first section (expected META, PROJECTS or VOTES)", source, 1)
        if header is None:
            header = [c.strip() for c in row]
            expected = {"META": "key", "PROJECTS": "project_id", "VOTES": "voter_id"}[section]
            if header[0] != expected:
                raise PabulibError(line, f"{section} header must start with '{expected}', found '{header[0]}'",
                                   source, 1)
            if len(set(header)) != len(header):
                dup = next(n for n, c in enumerate(header) if c in header[:n])
                raise PabulibError(line, f"{section} header repeats the column '{header[dup]}'", source,
                                   _column(row, starts, dup))
            if section == "PROJECTS":
                tables[section] = (header, [])
            elif section == "VOTES":
                tables[section] = (header, Rows(header))
            continue
        if len(row) != len(header):
            col = _column(row, starts, min(len(row), len(header)))
            raise PabulibError(line, f"{section} row has {len(row)} fields but the header has {len(header)} "
                                     "(a ';' too many or too few?)", source, col)
        if section == "META":
            key = row[0].strip()
            if key in meta:
                raise PabulibError(line, f"META key '{key}' appears twice", source, 1)
            meta[key] = row[1].strip()
            meta_lines[key] = line
            continue
        cells = [cell.strip() for cell in row]
        ident = cells[0]
        if not ident:
            raise PabulibError(line, f"empty {header[0]}", source, 1)
        if ident in seen_ids[section]:
            raise PabulibError(line, f"{header[0]} '{ident}' appears twice", source, 1)
        seen_ids[section].add(ident)
        if section == "VOTES":
            tables[section][1].add(cells, line)
        else:
            record = dict(zip(header, cells))
            record["_line"] = str(line)
            tables[section][1].append(record)

    for name in SECTIONS:
        if name not in sections_seen:
            raise PabulibError(None, f"missing {name} section", source)
        if name != "META" and name not in tables:
            raise PabulibError(None, f"{name} section has no header row", source)
    if "budget" not in meta:
        raise PabulibError(None, "META has no 'budget'", source)
    vote_type = meta.get("vote_type", "approval").strip().lower()
    if vote_type not in VOTE_TYPES:
        raise PabulibError(meta_lines.get("vote_type"), f"unknown vote_type '{vote_type}' (known: "
                           f"{', '.join(VOTE_TYPES)})", source, _meta_col("vote_type"))
    pcols, prows = tables["PROJECTS"]
    vcols, vrows = tables["VOTES"]
    if "cost" not in pcols:
        raise PabulibError(None, "PROJECTS has no 'cost' column", source)
    if "vote" not in vcols:
        raise PabulibError(None, "VOTES has no 'vote' column", source)
    pb = PabulibFile(meta, pcols, prows, vcols, vrows, source)
    pb.strict, pb.warnings, pb._lines, pb._meta_lines = strict, warnings, lines, meta_lines
    pb.instance  # validate eagerly so errors name the line
    pb.profile
    pb._lines = None   # only needed to name columns while validating
    return pb


def _meta_col(key: str) -> int:
    """Column of a META value (``key;value``)."""
    return len(key) + 2


def _cell_column(pb: PabulibFile, line: int, column_name: str, columns: list[str]) -> int | None:
    """1-based column of ``column_name`` on ``line`` (for error messages)."""
    if not pb._lines or column_name not in columns:
        return None
    try:
        _, cells, starts = _split_row(pb._lines, line - 1, pb.source, False, [])
    except PabulibError:
        return None
    index = columns.index(column_name)
    return _column(cells, starts, index) if index < len(cells) else None


def _number(text: str) -> Number:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"is {len(text)} characters long; a number here has at most {MAX_NUMBER_CHARS}")
    try:
        value = parse_exact(text)
    except (ValueError, ZeroDivisionError) as exc:
        if str(exc).startswith("exponent out of range"):  # a number, but far too large to hold
            raise ValueError(f"has an exponent beyond the bound (at most {MAX_EXPONENT})") from None
        raise ValueError("is not a number") from None
    return value


def _build_instance(pb: PabulibFile) -> Instance:
    try:
        budget = _number(pb.meta["budget"])
    except ValueError as exc:
        raise PabulibError(pb._meta_lines.get("budget"), f"META budget '{pb.meta['budget'][:40]}' {exc}",
                           pb.source, _meta_col("budget")) from None
    if budget < 0:
        raise PabulibError(pb._meta_lines.get("budget"), "META budget is negative", pb.source, _meta_col("budget"))
    projects = []
    for row in pb.projects:
        line = int(row["_line"])
        try:
            cost = _number(row["cost"])
        except ValueError as exc:
            raise PabulibError(line, f"project '{row['project_id']}': cost '{row['cost'][:40]}' {exc}", pb.source,
                               _cell_column(pb, line, "cost", pb.project_columns)) from None
        if cost < 0:
            raise PabulibError(line, f"project '{row['project_id']}': negative cost", pb.source,
                               _cell_column(pb, line, "cost", pb.project_columns))
        extra = {k: v for k, v in row.items() if k not in ("project_id", "cost", "name", "_line")}
        projects.append(Project(row["project_id"], cost, row.get("name", ""),
                                withdrawn=(cost == WITHDRAWN_COST), extra=extra))
    try:
        return Instance(projects, budget, pb.meta)
    except TallyInputError as exc:
        raise PabulibError(None, str(exc), pb.source) from None


def _split(cell: str) -> list[str]:
    return [x.strip() for x in cell.split(",")] if cell.strip() else []


def _build_profile(pb: PabulibFile, instance: Instance) -> Profile:
    kind = pb.ballot_type
    known = instance.by_id
    has_points = "points" in pb.vote_columns
    if kind in ("cumulative", "scoring") and not has_points:
        raise PabulibError(None, f"{kind} votes need a 'points' column", pb.source)
    max_length = pb.meta.get("max_length")
    points_cover = None
    if kind == "ordinal":
        try:
            max_length = int(max_length) if max_length else None
            if max_length is not None and max_length < 0:
                raise ValueError
        except ValueError:
            raise PabulibError(pb._meta_lines.get("max_length"), f"META max_length '{max_length}' is not a "
                               "whole number", pb.source, _meta_col("max_length")) from None
        fn = pb.meta.get("scoring_fn", "").strip().lower()
        if fn and fn not in ("borda", "dowdall"):
            try:
                points_cover = len(ordinal_points(fn, 0))
            except TallyInputError as exc:
                raise PabulibError(pb._meta_lines.get("scoring_fn"), f"META scoring_fn: {exc}", pb.source,
                                   _meta_col("scoring_fn")) from None
    duplicates: list[dict] = []
    pb.duplicates = duplicates
    ballots = _ballots(pb, kind, known, max_length, points_cover, duplicates)
    try:
        if kind == "ordinal":
            return Profile.ordinal(instance, ballots, max_length=max_length)
        return Profile.from_plain(instance, kind, ballots)
    except PabulibError:
        raise             # a ballot's own problem, already naming its line
    except (TallyInputError, ValueError) as exc:
        raise PabulibError(None, str(exc), pb.source) from None


def _ballots(pb: PabulibFile, kind: str, known, max_length, points_cover, duplicates: list[dict]):
    """The ballots, one at a time (the profile groups them as they come: the whole list of
    ballots is never held next to the rows it is made from)."""
    canonical = {pid: pid for pid in known}
    for row in pb.votes:
        line = int(row["_line"])
        ids = _split(row["vote"])
        voter = row["voter_id"]
        for pid in ids:
            if pid not in known:
                raise PabulibError(line, f"voter '{voter}' votes for project '{pid}', which is not in PROJECTS",
                                   pb.source, _cell_column(pb, line, "vote", pb.vote_columns))
        ids = [canonical[pid] for pid in ids]   # the project's own id string, not a copy per ballot
        repeated = len(set(ids)) != len(ids)
        if repeated:
            twice = sorted(pid for pid, times in Counter(ids).items() if times > 1)   # linear, not ids.count
            if pb.strict:
                raise PabulibError(line, f"voter '{voter}' lists project(s) {', '.join(twice)} more than once "
                                         "(strict mode; without it an approval counts once and points are summed)",
                                   pb.source, _cell_column(pb, line, "vote", pb.vote_columns))
            duplicates.append({"line": line, "voter": voter, "projects": twice})
        if kind in ("cumulative", "scoring"):
            pts = _split(row["points"])
            if len(pts) != len(ids):
                raise PabulibError(line, f"voter '{voter}': {len(ids)} projects but {len(pts)} points", pb.source,
                                   _cell_column(pb, line, "points", pb.vote_columns))
            try:
                values = [_number(x) for x in pts]
            except ValueError as exc:
                raise PabulibError(line, f"voter '{voter}': points '{row['points'][:40]}': a value {exc}",
                                   pb.source, _cell_column(pb, line, "points", pb.vote_columns)) from None
            if any(v < 0 for v in values):
                raise PabulibError(line, f"voter '{voter}': negative points", pb.source,
                                   _cell_column(pb, line, "points", pb.vote_columns))
            if repeated:
                summed: dict = {}
                for pid, v in zip(ids, values):
                    summed[pid] = summed.get(pid, 0) + v
                yield summed
            else:
                yield dict(zip(ids, values))
        else:
            if repeated:
                ids = list(dict.fromkeys(ids))   # first occurrence (best place of a ranking) kept
            if kind == "ordinal":
                limit = min(x for x in (max_length, points_cover) if x is not None) \
                    if (max_length or points_cover) else None
                if limit is not None and len(ids) > limit:
                    why = (f"META max_length is {max_length}" if limit == max_length
                           else f"META scoring_fn gives points to {points_cover} places")
                    raise PabulibError(line, f"voter '{voter}' ranks {len(ids)} projects but {why}", pb.source,
                                       _cell_column(pb, line, "vote", pb.vote_columns))
            yield ids


# ----- writing ------------------------------------------------------------------------------
def write_pabulib(pb: PabulibFile, out: str | Path | TextIO) -> None:
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as fh:
            write_pabulib(pb, fh)
        return
    writer = csv.writer(out, delimiter=";", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    out.write("META\n")
    writer.writerow(["key", "value"])
    for k, v in pb.meta.items():
        writer.writerow([k, v])
    out.write("PROJECTS\n")
    writer.writerow(pb.project_columns)
    for row in pb.projects:
        writer.writerow([row.get(c, "") for c in pb.project_columns])
    out.write("VOTES\n")
    writer.writerow(pb.vote_columns)
    for row in pb.votes:
        writer.writerow([row.get(c, "") for c in pb.vote_columns])


def dumps_pabulib(pb: PabulibFile) -> str:
    buf = io.StringIO()
    write_pabulib(pb, buf)
    return buf.getvalue()


def from_election(instance: Instance, profile: Profile, meta: dict[str, str] | None = None,
                  selected: Iterable[str] | None = None) -> PabulibFile:
    """A Pabulib file for an election held in pbvote (voter ids are 1..n)."""
    meta = dict(meta or {})
    meta.setdefault("num_projects", str(len(instance.projects)))
    meta.setdefault("num_votes", str(profile.num_voters))
    meta["budget"] = fmt_exact(instance.budget)
    meta["vote_type"] = meta.get("vote_type", profile.ballot_type)
    supporters = profile.supporters()
    pcols = ["project_id", "cost", "votes", "name"]
    chosen = None if selected is None else set(selected)
    if chosen is not None:
        pcols.append("selected")
    prows = []
    for p in instance.projects:
        row = {"project_id": p.id, "cost": fmt_exact(WITHDRAWN_COST if p.withdrawn else p.cost),
               "votes": str(supporters[p.id]), "name": p.name}
        if chosen is not None:
            row["selected"] = "1" if p.id in chosen else "0"
        prows.append(row)
    cardinal = profile.is_cardinal
    vcols = ["voter_id", "vote"] + (["points"] if cardinal else [])
    vrows, voter = [], 0
    for ballot, count in profile.groups:
        if profile.ballot_type == "approval":
            cells = {"vote": ",".join(sorted(ballot))}
        elif profile.ballot_type == "ordinal":
            cells = {"vote": ",".join(ballot)}
        else:
            cells = {"vote": ",".join(pid for pid, _ in ballot),
                     "points": ",".join(fmt_exact(v) for _, v in ballot)}
        for _ in range(count):
            voter += 1
            vrows.append({"voter_id": str(voter), **cells})
    return PabulibFile(meta, pcols, prows, vcols, vrows)


#: META ``rule`` values that are not rule names here, and the rule that counts them. Chosen from
#: the record: over the 56 greedy-custom files with an official outcome in the shared corpus
#: (Poznań's districts), greedy without skipping reproduces 56, plain greedy 37
#: (tests/unit/tally/test_corpus.py). The note names the reading only; whether the outcome
#: matches *this* file's official one is checked separately (pbvote.tally.reproduce).
META_RULE_ALIASES = {
    "greedy-custom": ("greedy-no-skip", "META rule 'greedy-custom' is counted as greedy-no-skip (by score, "
                                        "stopping at the first project that does not fit)."),
}
#: META keys that set a parameter, for every rule that takes it
META_PARAMS = {
    "min_project_score_threshold": "min_score",
    "scoring_fn": "scoring_fn",
    "exclusive_groups": "exclusive",
    "tie_break": "tie_break",
}
#: a PROJECTS column naming each project's exclusive group (projects sharing a value exclude each other)
EXCLUSIVE_COLUMNS = ("exclusive_group", "exclusive_with")


def default_rule_and_params(pb: PabulibFile) -> tuple[str, dict, list[str]]:
    """The rule the file records (META ``rule``) and the params its META implies.

    Returns ``(rule_name, params, notes)``. ``greedy-custom`` is counted as greedy-no-skip (see
    :data:`META_RULE_ALIASES`); unknown or missing rules fall back to greedy. The notes state
    what was chosen, never whether it matches the official outcome (that is checked, not claimed).
    """
    from .registry import RULES  # local import: registry imports the rules

    notes: list[str] = []
    rule = pb.meta.get("rule", "").strip()
    if rule not in RULES:
        if rule in META_RULE_ALIASES:
            rule, note = META_RULE_ALIASES[rule]
            notes.append(note)
        else:
            if rule and rule != "unknown":
                notes.append(f"META rule '{rule}' is not supported; counted with greedy.")
            elif rule == "unknown":
                notes.append("META rule is 'unknown'; counted with greedy.")
            rule = "greedy"
    return rule, params_from_meta(pb, rule), notes


def params_from_meta(pb: PabulibFile, rule: str) -> dict:
    """Parameters of ``rule`` that the file's META (and PROJECTS) set; only those the rule takes.

    ``min_project_score_threshold`` applies to every greedy rule (not only greedy-threshold);
    ``exclusive_groups`` (META, ``a,b|c,d``) or a PROJECTS column ``exclusive_group`` give
    exclusive groups. A value that cannot be used raises :class:`PabulibError` naming the key."""
    from .registry import COERCE, RULES

    spec = RULES[rule]
    params: dict = {}
    meta = pb.meta
    for key, name in META_PARAMS.items():
        value = meta.get(key, "").strip()
        if not value or name not in spec.params:
            continue
        if name == "scoring_fn" and pb.ballot_type != "ordinal":
            continue
        try:
            params[name] = COERCE[name](value) if name in COERCE else value
        except (TypeError, ValueError) as exc:
            raise PabulibError(pb._meta_lines.get(key), f"META {key} '{value[:40]}' cannot be used as "
                               f"parameter {name}: {exc}", pb.source, _meta_col(key)) from None
    if "exclusive" in spec.params and "exclusive" not in params:
        column = next((c for c in EXCLUSIVE_COLUMNS if c in pb.project_columns), None)
        if column:
            groups: dict[str, list[str]] = {}
            for row in pb.projects:
                for tag in _split(row.get(column, "")):
                    if tag and tag.lower() not in ("none", "0"):
                        groups.setdefault(tag, []).append(row["project_id"])
            found = tuple(tuple(g) for g in groups.values() if len(g) > 1)
            if found:
                params["exclusive"] = found
    return params
