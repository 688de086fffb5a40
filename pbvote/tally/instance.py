"""Election data: projects, the instance (projects + budget) and the profile (ballots).

Build them from plain data, the way the web app stores an election::

    from pbvote.tally import Instance, Profile
    inst = Instance.from_plain(
        budget=100_000,
        projects=[{"id": "p1", "cost": 60_000, "name": "Park"},
                  {"id": "p2", "cost": "40000.50", "name": "Library"}],
    )
    approval = Profile.approval(inst, [{"p1"}, {"p1", "p2"}])
    ordinal = Profile.ordinal(inst, [("p2", "p1"), ("p1",)])        # best first
    points = Profile.cumulative(inst, [{"p1": 3, "p2": 2}])          # or Profile.scoring

Costs and budgets are ints, Fractions or exact decimal strings (never floats).
Identical ballots are grouped with a count, so a million ballots cost little memory.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .exact import Number, gc_paused, to_number

WITHDRAWN_COST = 999_999_999  # Pabulib's sentinel for a withdrawn project
BALLOT_TYPES = ("approval", "ordinal", "cumulative", "scoring")


class TallyInputError(ValueError):
    """Inconsistent election data (unknown project, bad cost, malformed ballot...)."""


@dataclass(frozen=True)
class Project:
    id: str
    cost: Number
    name: str = ""
    withdrawn: bool = False
    # Other columns (Pabulib's votes, score, selected, category...), kept for round trips.
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def selectable(self) -> bool:
        """A withdrawn project (or one with the sentinel cost) is never funded."""
        return not self.withdrawn and self.cost != WITHDRAWN_COST


class Instance:
    """Projects (in a fixed order) and the budget."""

    def __init__(self, projects: Iterable[Project], budget, meta: Mapping[str, str] | None = None):
        self.projects: tuple[Project, ...] = tuple(projects)
        self.budget: Number = to_number(budget)
        self.meta: dict[str, str] = dict(meta or {})
        self.by_id: dict[str, Project] = {}
        for p in self.projects:
            if p.id in self.by_id:
                raise TallyInputError(f"duplicate project id {p.id!r}")
            if p.cost < 0:
                raise TallyInputError(f"project {p.id!r} has a negative cost")
            self.by_id[p.id] = p
        if self.budget < 0:
            raise TallyInputError("the budget is negative")

    @classmethod
    def from_plain(cls, budget, projects: Iterable[Any], meta: Mapping[str, str] | None = None):
        """Projects as dicts ``{"id", "cost", "name"?, "withdrawn"?}``, ``(id, cost[, name])``
        tuples or :class:`Project` objects."""
        built = []
        for item in projects:
            if isinstance(item, Project):
                built.append(item)
            elif isinstance(item, Mapping):
                built.append(
                    Project(
                        id=str(item["id"]),
                        cost=_cost(item["cost"], item["id"]),
                        name=str(item.get("name", "")),
                        withdrawn=bool(item.get("withdrawn", False)),
                    )
                )
            else:
                pid, cost, *rest = item
                built.append(Project(str(pid), _cost(cost, pid), str(rest[0]) if rest else ""))
        return cls(built, budget, meta)

    def __iter__(self):
        return iter(self.projects)

    def __len__(self):
        return len(self.projects)

    def cost_of(self, ids: Iterable[str]) -> Number:
        return sum((self.by_id[i].cost for i in ids), 0)


def _cost(value, pid) -> Number:
    try:
        return to_number(value)
    except (TypeError, ValueError) as exc:
        raise TallyInputError(f"project {pid!r}: bad cost {value!r}: {exc}") from None


class Profile:
    """Ballots of one type, grouped: ``groups`` is a list of ``(ballot, count)``.

    A ballot is a ``frozenset`` of project ids (approval), a tuple of ids best first
    (ordinal) or a tuple of ``(project_id, points)`` pairs sorted by id, zero points
    dropped (cumulative, scoring).
    """

    def __init__(self, instance: Instance, ballot_type: str, groups: Iterable[tuple[Any, int]],
                 max_length: int | None = None, _checked: bool = False):
        if ballot_type not in BALLOT_TYPES:
            raise TallyInputError(f"unknown ballot type {ballot_type!r}; use one of {BALLOT_TYPES}")
        self.instance = instance
        self.ballot_type = ballot_type
        self.groups: list[tuple[Any, int]] = [(b, int(c)) for b, c in groups if c > 0]
        self.num_voters: int = sum(c for _, c in self.groups)
        self.max_length = max_length  # ballot length for Borda (ordinal); META max_length
        self._cache: dict = {}          # derived views; a Profile is not modified after construction
        known = instance.by_id
        for ballot, _ in ([] if _checked else self.groups):   # approval() checked them already
            for pid in self._ids(ballot):
                if pid not in known:
                    raise TallyInputError(f"a ballot names unknown project {pid!r}")

    # ----- constructors from plain data -------------------------------------------------
    @classmethod
    def approval(cls, instance: Instance, ballots: Iterable[Iterable[str]]) -> Profile:
        """Each ballot is a set (or any iterable) of approved project ids; also knapsack and choose-1."""
        with gc_paused():
            counts = Counter(map(frozenset, ballots))  # C speed; ids are checked once per distinct ballot
            known = instance.by_id.keys()               # string ids only
            if not all(map(known.__ge__, counts)):      # C speed too; the slow loop only names the culprit
                for ballot in counts:
                    for pid in ballot:
                        if not isinstance(pid, str):
                            raise TallyInputError(f"project ids in ballots must be strings, got {pid!r}")
                        if pid not in known:
                            raise TallyInputError(f"a ballot names unknown project {pid!r}")
            return cls(instance, "approval", counts.items(), _checked=True)

    @classmethod
    def ordinal(cls, instance: Instance, ballots: Iterable[Sequence[str]],
                max_length: int | None = None) -> Profile:
        """Each ballot is a sequence of project ids, best first, without repeats."""
        counts: Counter = Counter()
        for ballot in ballots:
            ranking = tuple(str(p) for p in ballot)
            if len(set(ranking)) != len(ranking):
                raise TallyInputError(f"ranking {ranking} lists a project twice")
            counts[ranking] += 1
        return cls(instance, "ordinal", counts.items(), max_length=max_length)

    @classmethod
    def cumulative(cls, instance: Instance, ballots: Iterable[Mapping[str, Any]]) -> Profile:
        """Each ballot maps project id -> points (non-negative; exact numbers)."""
        return cls(instance, "cumulative", _point_groups(ballots))

    @classmethod
    def scoring(cls, instance: Instance, ballots: Iterable[Mapping[str, Any]]) -> Profile:
        """Like :meth:`cumulative`, for cardinal (scoring) ballots."""
        return cls(instance, "scoring", _point_groups(ballots))

    @classmethod
    def from_plain(cls, instance: Instance, ballot_type: str, ballots, **kw) -> Profile:
        builders = {"approval": cls.approval, "ordinal": cls.ordinal,
                    "cumulative": cls.cumulative, "scoring": cls.scoring}
        if ballot_type not in builders:
            raise TallyInputError(f"unknown ballot type {ballot_type!r}; use one of {BALLOT_TYPES}")
        return builders[ballot_type](instance, ballots, **kw)

    @classmethod
    def counted(cls, instance: Instance, ballot_type: str, counts: Iterable[tuple[Any, int]],
                **kw) -> Profile:
        """The profile of :meth:`from_plain` over the ballots repeated, from ``(ballot, voters)``
        pairs, each distinct ballot given once (in the order of first appearance): the same
        groups in the same order, so every rule gives the same outcome, without a list of
        ballots per voter. Each ballot is checked as :meth:`from_plain` checks it."""
        pairs = []
        for ballot, voters in counts:
            if type(voters) is not int or voters < 0:
                raise TallyInputError(f"a ballot's number of voters must be a whole number ≥ 0, "
                                      f"got {voters!r}")
            if voters:
                pairs.append((ballot, voters))
        once = cls.from_plain(instance, ballot_type, [ballot for ballot, _ in pairs], **kw)
        if len(once.groups) == len(pairs):  # each given ballot its own group, in the same order
            groups = [(group, voters) for (group, _), (_, voters) in zip(once.groups, pairs)]
        else:  # some given ballots are one ballot to the engine (["a", "b"] and ["b", "a"])
            merged: dict = dict.fromkeys((group for group, _ in once.groups), 0)
            for ballot, voters in pairs:
                (group, _), = cls.from_plain(instance, ballot_type, [ballot], **kw).groups
                merged[group] += voters
            groups = list(merged.items())
        return cls(instance, once.ballot_type, groups, max_length=once.max_length, _checked=True)

    # ----- views used by the rules ------------------------------------------------------
    def _ids(self, ballot) -> Iterable[str]:
        if self.ballot_type in ("approval", "ordinal"):
            return ballot
        return (pid for pid, _ in ballot)

    @property
    def is_cardinal(self) -> bool:
        return self.ballot_type in ("cumulative", "scoring")

    def supporters(self) -> dict[str, int]:
        """Voters who approve / rank / give points to each project (Pabulib's ``votes``).
        Cached: do not modify the returned dict."""
        if "supporters" not in self._cache:
            counts = {p.id: 0 for p in self.instance.projects}
            for ballot, n in self.groups:
                for pid in self._ids(ballot):
                    counts[pid] += n
            self._cache["supporters"] = counts
        return self._cache["supporters"]

    def ballot_length(self) -> int:
        """Length that Borda counts over: META max_length, else the longest ranking."""
        if self.max_length:
            return int(self.max_length)
        return max((len(b) for b, _ in self.groups), default=0)

    def utilities(self, scoring_fn: str | None = None) -> list[tuple[int, list[tuple[str, Number]]]]:
        """``[(count, [(project_id, utility > 0), ...]), ...]``: 1 per approval, points for
        cardinal ballots, the scoring function's points for rankings. Cached: do not modify."""
        key = ("utilities", scoring_fn if self.ballot_type == "ordinal" else None)
        if key not in self._cache:
            self._cache[key] = self._utilities(scoring_fn)
        return self._cache[key]

    def _utilities(self, scoring_fn):
        if self.ballot_type == "approval":
            return [(n, [(pid, 1) for pid in b]) for b, n in self.groups]
        if self.is_cardinal:
            return [(n, list(b)) for b, n in self.groups]
        points = ordinal_points(scoring_fn or "borda", self.ballot_length())
        out = []
        for ranking, n in self.groups:
            if len(ranking) > len(points):
                raise TallyInputError(
                    f"a ranking has {len(ranking)} entries but the scoring function covers {len(points)}")
            out.append((n, [(pid, points[i]) for i, pid in enumerate(ranking) if points[i] > 0]))
        return out

    def scores(self, scoring_fn: str | None = None) -> dict[str, Number]:
        """Votes (approval), total points (cardinal) or scoring-function points (ordinal)."""
        if self.ballot_type == "approval":
            return dict(self.supporters())
        totals: dict[str, Number] = {p.id: 0 for p in self.instance.projects}
        for n, items in self.utilities(scoring_fn):
            for pid, u in items:
                totals[pid] += n * u
        return totals


def ordinal_points(scoring_fn: str, length: int) -> list[Number]:
    """Points by position (best first).

    ``borda``: length, length-1, ..., 1 (a top-3 ballot gives 3-2-1 as in Kraków);
    ``dowdall``: 1, 1/2, 1/3, ...; or an explicit list such as ``"5,3,1"``.
    """
    name = scoring_fn.strip().lower()
    if name == "borda":
        return list(range(length, 0, -1))
    if name == "dowdall":
        return [Fraction(1, i + 1) if i else 1 for i in range(length)]
    try:
        return [to_number(x) for x in name.split(",")]
    except (TypeError, ValueError):
        raise TallyInputError(
            f"unknown scoring function {scoring_fn!r}; use borda, dowdall or a list like 3,2,1") from None


def _frozen_ids(ballot) -> frozenset:
    if isinstance(ballot, str):
        raise TallyInputError("an approval ballot must be a collection of ids, not a string")
    return frozenset(str(p) for p in ballot)


def _point_groups(ballots) -> list[tuple[tuple, int]]:
    counts: Counter = Counter()
    for ballot in ballots:
        items = []
        for pid, pts in ballot.items():
            try:
                value = to_number(pts)
            except (TypeError, ValueError) as exc:
                raise TallyInputError(f"bad points {pts!r} for {pid!r}: {exc}") from None
            if value < 0:
                raise TallyInputError(f"negative points for {pid!r}")
            if value:
                items.append((str(pid), value))
        counts[tuple(sorted(items))] += 1
    return list(counts.items())
