"""Read and write Pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, each a ``;``-separated table with a header row:
META (``key;value``), PROJECTS (``project_id;cost;...``) and VOTES (``voter_id;vote;...``).
Lists inside a cell (``vote``, ``points``) are ``,``-separated; cells may be quoted.
Every column is kept as text so a file can be written back unchanged; the
:class:`~pbvote.tally.instance.Instance` and :class:`~pbvote.tally.instance.Profile`
are built from it with exact numbers. A project whose cost is 999999999 is withdrawn.
Problems raise :class:`PabulibError` naming the line.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .exact import fmt_exact, parse_exact
from .instance import WITHDRAWN_COST, Instance, Profile, Project, TallyInputError

SECTIONS = ("META", "PROJECTS", "VOTES")
VOTE_TYPES = {"approval": "approval", "choose-1": "approval", "knapsack": "approval",
              "ordinal": "ordinal", "cumulative": "cumulative", "scoring": "scoring"}


class PabulibError(ValueError):
    def __init__(self, line: int | None, problem: str, source: str = "<pb>"):
        self.line, self.problem, self.source = line, problem, source
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


@dataclass
class PabulibFile:
    meta: dict[str, str]
    project_columns: list[str]
    projects: list[dict[str, str]]
    vote_columns: list[str]
    votes: list[dict[str, str]]
    source: str = "<pb>"
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
def read_pabulib(path: str | Path) -> PabulibFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PabulibError(None, f"not UTF-8 text ({exc})", str(path)) from None
    except OSError as exc:
        raise PabulibError(None, f"cannot read file: {exc.strerror}", str(path)) from None
    return parse_pabulib(text, str(path))


def parse_pabulib(text: str, source: str = "<pb>") -> PabulibFile:
    reader = csv.reader(io.StringIO(text), delimiter=";", quotechar='"', strict=True)
    section = None
    header: list[str] | None = None
    meta: dict[str, str] = {}
    tables: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    seen_ids: dict[str, set] = {"PROJECTS": set(), "VOTES": set()}
    sections_seen: set[str] = set()
    line = 0
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            first = row[0].strip()
            if first.upper() in SECTIONS and all(not c.strip() for c in row[1:]):
                section = first.upper()
                if section in sections_seen:
                    raise PabulibError(line, f"section {section} appears twice", source)
                sections_seen.add(section)
                header = None
                continue
            if section is None:
                raise PabulibError(line, "data before the first section (expected META, PROJECTS or VOTES)", source)
            if header is None:
                header = [c.strip() for c in row]
                expected = {"META": "key", "PROJECTS": "project_id", "VOTES": "voter_id"}[section]
                if header[0] != expected:
                    raise PabulibError(line, f"{section} header must start with '{expected}', found '{header[0]}'", source)
                if len(set(header)) != len(header):
                    raise PabulibError(line, f"{section} header repeats a column", source)
                if section != "META":
                    tables[section] = (header, [])
                continue
            if len(row) != len(header):
                raise PabulibError(line, f"{section} row has {len(row)} fields but the header has {len(header)}", source)
            if section == "META":
                key = row[0].strip()
                if key in meta:
                    raise PabulibError(line, f"META key '{key}' appears twice", source)
                meta[key] = row[1].strip()
                continue
            record = {col: cell.strip() for col, cell in zip(header, row)}
            ident = record[header[0]]
            if not ident:
                raise PabulibError(line, f"empty {header[0]}", source)
            if ident in seen_ids[section]:
                raise PabulibError(line, f"{header[0]} '{ident}' appears twice", source)
            seen_ids[section].add(ident)
            record["_line"] = str(line)
            tables[section][1].append(record)
    except csv.Error as exc:
        raise PabulibError(reader.line_num or line, f"malformed line ({exc})", source) from None

    for name in SECTIONS:
        if name not in sections_seen:
            raise PabulibError(None, f"missing {name} section", source)
        if name != "META" and name not in tables:
            raise PabulibError(None, f"{name} section has no header row", source)
    if "budget" not in meta:
        raise PabulibError(None, "META has no 'budget'", source)
    vote_type = meta.get("vote_type", "approval").strip().lower()
    if vote_type not in VOTE_TYPES:
        raise PabulibError(None, f"unknown vote_type '{vote_type}'", source)
    pcols, prows = tables["PROJECTS"]
    vcols, vrows = tables["VOTES"]
    if "cost" not in pcols:
        raise PabulibError(None, "PROJECTS has no 'cost' column", source)
    if "vote" not in vcols:
        raise PabulibError(None, "VOTES has no 'vote' column", source)
    pb = PabulibFile(meta, pcols, prows, vcols, vrows, source)
    pb.instance  # validate eagerly so errors name the line
    pb.profile
    return pb


def _shown(text: str) -> str:
    """A value as an error message quotes it: long ones cut short."""
    return text if len(text) <= 40 else f"{text[:20]}…{text[-8:]} ({len(text)} characters)"


def _why(exc: ValueError) -> str:
    return "is beyond the bound" + str(exc).split("beyond the bound")[1] \
        if "beyond the bound" in str(exc) else "is not a number"


def _build_instance(pb: PabulibFile) -> Instance:
    try:
        budget = parse_exact(pb.meta["budget"])
    except ValueError as exc:
        raise PabulibError(None, f"META budget '{_shown(pb.meta['budget'])}' {_why(exc)}",
                           pb.source) from None
    projects = []
    for row in pb.projects:
        line = int(row["_line"])
        try:
            cost = parse_exact(row["cost"])
        except ValueError as exc:
            raise PabulibError(line, f"project '{row['project_id']}': cost '{_shown(row['cost'])}' "
                               f"{_why(exc)}", pb.source) from None
        if cost < 0:
            raise PabulibError(line, f"project '{row['project_id']}': negative cost", pb.source)
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
    ballots = []
    for row in pb.votes:
        line = int(row["_line"])
        ids = _split(row["vote"])
        for pid in ids:
            if pid not in known:
                raise PabulibError(line, f"voter '{row['voter_id']}' votes for unknown project '{pid}'", pb.source)
        if len(set(ids)) != len(ids):
            raise PabulibError(line, f"voter '{row['voter_id']}' lists a project twice", pb.source)
        if kind in ("cumulative", "scoring"):
            pts = _split(row["points"])
            if len(pts) != len(ids):
                raise PabulibError(line, f"voter '{row['voter_id']}': {len(ids)} projects but {len(pts)} points",
                                   pb.source)
            try:
                values = [parse_exact(x) for x in pts]
            except ValueError as exc:
                raise PabulibError(line, f"voter '{row['voter_id']}': points '{_shown(row['points'])}' "
                                   f"{_why(exc)}", pb.source) from None
            if any(v < 0 for v in values):
                raise PabulibError(line, f"voter '{row['voter_id']}': negative points", pb.source)
            ballots.append(dict(zip(ids, values)))
        else:
            ballots.append(ids)
    max_length = pb.meta.get("max_length")
    try:
        if kind == "ordinal":
            return Profile.ordinal(instance, ballots, max_length=int(max_length) if max_length else None)
        return Profile.from_plain(instance, kind, ballots)
    except (TallyInputError, ValueError) as exc:
        raise PabulibError(None, str(exc), pb.source) from None


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


def default_rule_and_params(pb: PabulibFile) -> tuple[str, dict, list[str]]:
    """The rule the file records (META ``rule``) and the params its META implies.

    Returns ``(rule_name, params, notes)``. Unknown or missing rules fall back to greedy;
    ``greedy-custom`` (Poznań's 80%-reserve top-up) is counted as plain greedy, which
    reproduces the projects marked ``selected=1``.
    """
    from .registry import RULES  # local import: registry imports the rules

    notes: list[str] = []
    rule = pb.meta.get("rule", "").strip()
    if rule not in RULES:
        if rule == "greedy-custom":
            notes.append("META rule 'greedy-custom' (reserve top-up) is not implemented; counted as plain greedy, "
                         "which gives the projects marked selected=1.")
        elif rule and rule != "unknown":
            notes.append(f"META rule '{rule}' is not supported; counted with greedy.")
        rule = "greedy"
    return rule, params_from_meta(pb, rule), notes


def params_from_meta(pb: PabulibFile, rule: str) -> dict:
    params: dict = {}
    meta = pb.meta
    if rule.startswith("greedy") and meta.get("min_project_score_threshold") and rule == "greedy-threshold":
        params["min_score"] = parse_exact(meta["min_project_score_threshold"])
    if pb.ballot_type == "ordinal" and meta.get("scoring_fn"):
        params["scoring_fn"] = meta["scoring_fn"]
    return params
