"""Method of Equal Shares (MES), following equalshares.net's reference implementation.

The budget is split equally among all voters. In each round every remaining project is
priced: its cost is shared among its supporters in proportion to their utility, and a
supporter who cannot pay their share pays all they have left. The project whose price per
unit of utility is lowest is funded (equivalently: the most *effective votes*, cost divided
by the price) and its supporters pay. The count ends when no project can be paid for.

Utilities (approval ballots): ``cost`` (equalshares.net's default; a voter's utility for an
approved project is its cost) or ``cardinality`` (1 per approved project). Cumulative and
scoring ballots use the points as utilities; ranked ballots use the scoring function.

Completion ``add1`` (equalshares.net): start from a per-voter budget rounded down to a whole
currency unit (``integral``), then raise everyone's budget by ``increment`` per step while the
outcome stays within the real budget; with ``exhaustive`` stop as soon as no further project
fits. Add1 is not used when everything is affordable. Optionally a utilitarian greedy
completion spends the rest, and the comparison step falls back to the greedy outcome when
more voters prefer it.

Speed: identical ballots are grouped; voters are further grouped into *budget classes* (all
voters of a class have the same money left, because they have paid for the same projects).
Approval ballots: a project's voters per class are counted only when it is priced (a C-speed
``Counter`` over its supporter groups; groups with no money left are dropped once they are a
quarter), so a payment only moves the payers' groups to their new classes; ballots are first
reduced to the projects the run can fund and regrouped. Projects are priced in order of a
lower bound (prices never fall during a run), as in equalshares.net. Affordability and the
price come from one pass over the classes, poorest first. All arithmetic is exact.

Why one module of this length: the rule and its add1 completion variants run the same
exact-arithmetic loop with shared state (each voter's budget, the prices paid); the
variants differ in a few lines of it, which is clearer side by side than across files.
"""
from __future__ import annotations

from collections import Counter
from itertools import chain

from ..exact import Rational as Q
from ..exact import normalize
from ..instance import Instance, Profile
from ..outcome import Outcome
from ..ties import TieBreaker
from .greedy import greedy_order
from .scoring import project_scores


class _MesProblem:
    """Data that stays the same across runs with different per-voter budgets (add1)."""

    def __init__(self, instance: Instance, profile: Profile, utilities: str, scoring_fn: str | None):
        self.instance = instance
        self.approval = profile.ballot_type == "approval"
        self.utilities = utilities if self.approval else "cardinal"
        projects = instance.projects
        self.pids = [p.id for p in projects]
        self.cost = [Q(p.cost) for p in projects]
        fundable = {i for i, p in enumerate(projects) if p.selectable and p.cost > 0}
        self.n_voters = profile.num_voters
        self.weights: list[int] = []
        self.items: list[tuple] = []          # approval: project indices; else (index, utility) pairs
        self.supporters: list[list[int]] = [[] for _ in projects]   # group indices
        self.group_utility: list[dict[int, object]] = [dict() for _ in projects] if not self.approval else []
        total_util = [0] * len(projects)
        fundable_index = {projects[i].id: i for i in fundable}
        if self.approval:  # fast path: no utilities to carry, every approval counts 1
            every = len(fundable) == len(projects)
            getter = fundable_index.__getitem__
            weights, items = self.weights, self.items
            for ballot, weight in profile.groups:
                kept = tuple(map(getter, ballot)) if every else tuple(
                    fundable_index[pid] for pid in ballot if pid in fundable_index)
                if kept:
                    weights.append(weight)
                    items.append(kept)
            # approvals per project: single-voter groups counted at C speed, the others by weight
            for c, k in Counter(chain.from_iterable(
                    [it for it, w in zip(items, weights) if w == 1])).items():
                total_util[c] += k
            for it, w in zip(items, weights):
                if w != 1:
                    for c in it:
                        total_util[c] += w
            self.supporters = None      # built when a run needs every ballot as it is
            if every and "supporters" not in profile._cache:
                # every project can be funded: the supporter counts are the ones just made
                # (saves the profile a pass over all ballots for the tie-breaker)
                profile._cache["supporters"] = {projects[c].id: total_util[c] for c in range(len(projects))}
            self._view_key, self._view = frozenset(), None
            self.widen = Q(1)      # add1 sets 3/2: one view serves several steps
        else:
            for weight, pairs in profile.utilities(scoring_fn):
                kept = [(fundable_index[pid], Q(u)) for pid, u in pairs if pid in fundable_index]
                if not kept:
                    continue
                g = len(self.weights)
                self.weights.append(weight)
                self.items.append(tuple(kept))
                for c, u in kept:
                    self.supporters[c].append(g)
                    total_util[c] += weight * u
                    self.group_utility[c][g] = u
        self.total_util = total_util
        self.candidates = [c for c in sorted(fundable) if total_util[c] > 0]
        # rank = price per unit of utility; with cost utilities a voter's utility is the cost
        self.scale = [Q(1) / self.cost[c] if (self.utilities == "cost" and self.cost[c]) else Q(1)
                      for c in range(len(projects))]
        # initial per-project counts: class 0 holds everyone
        self.initial_counts = []
        for c in range(len(projects) if not self.approval else 0):
            counts: dict = {}
            for g in self.supporters[c]:
                key = (0, self.group_utility[c][g])
                counts[key] = counts.get(key, 0) + self.weights[g]
            self.initial_counts.append(counts)

    def _approval_view(self, per_voter):
        """Approval ballots reduced to the projects the supporters can afford at the start of a
        run with ``per_voter`` each (no other project can ever be funded in that run), then
        regrouped: fewer distinct ballots, shorter supporter lists. A view made for a larger
        budget serves too (its extra projects are never priced): for add1 one is made with half
        as much again (``widen``), and kept for the next steps."""
        key = tuple(c for c in self.candidates if self.total_util[c] * per_voter >= self.cost[c])
        if self._view is not None and self._view_key.issuperset(key):
            return (key, *self._view)
        wider = per_voter * self.widen
        relevant = {c for c in self.candidates if self.total_util[c] * wider >= self.cost[c]}
        if len(relevant) == len(self.candidates):   # nothing to leave out: the ballots as they are
            weights, items = self.weights, self.items
            if self.supporters is None:
                self.supporters = [[] for _ in self.cost]
                for g, kept in enumerate(items):
                    for c in kept:
                        self.supporters[c].append(g)
            supporters = self.supporters
        else:
            regrouped: dict = {}
            for its, w in zip(self.items, self.weights):
                kept = tuple(filter(relevant.__contains__, its))
                if kept:
                    regrouped[kept] = regrouped.get(kept, 0) + w
            items = list(regrouped)
            weights = list(regrouped.values())
            supporters = [[] for _ in self.cost]
            for g, kept in enumerate(items):
                for c in kept:
                    supporters[c].append(g)
        self._view_key = frozenset(relevant)
        self._view = (weights, items, supporters, *_split_by_weight(supporters, weights))
        return (key, *self._view)

    # ------------------------------------------------------------------------------------
    def run(self, per_voter, ties: TieBreaker, spend_limit=None, want_trace=False):
        """One MES count with ``per_voter`` money each. Returns ``(winners, total_cost, rounds)``;
        ``winners`` is None when ``spend_limit`` is exceeded (the run is abandoned early)."""
        approval = self.approval
        cost, scale = self.cost, self.scale
        budget_of = [Q(per_voter)]                 # class id -> money left per voter
        if approval:
            # approval: a project's voters per budget class are counted when it is priced
            # (C-speed Counter over its supporter groups), not kept up to date for every project
            candidates, weights, items, supporters, ones, heavy = self._approval_view(budget_of[0])
            counts = None
        else:
            candidates, weights = self.candidates, self.weights
            counts = [dict(d) for d in self.initial_counts]
        class_weight = {0: self.n_voters}           # non-empty classes -> voters (incl. those not counted)
        group_class = [0] * len(weights)            # group -> budget class (-1: no money left)
        remaining = {c: Q(0) for c in candidates}   # candidate -> lower bound on its rank
        winners, spent, rounds = [], Q(0), []
        class_counts: dict = {}
        alive: dict = {}    # approval: a project's single-voter groups that still have money, once pruned
        while remaining:
            best_rank, best, best_price = None, [], {}
            for c in sorted(remaining, key=remaining.__getitem__):
                if best_rank is not None and remaining[c] > best_rank:
                    break  # prices only rise, so c cannot beat the best this round
                if approval:
                    single, several = alive.get(c) or (ones[c], heavy[c])
                    at = Counter(map(group_class.__getitem__, single))
                    for g, w in several:
                        at[group_class[g]] += w
                    dead = at.pop(-1, 0)
                    if dead and dead * 4 > len(single) + len(several):   # many have no money left:
                        alive[c] = ([g for g in single if group_class[g] >= 0],   # leave them out
                                    [(g, w) for g, w in several if group_class[g] >= 0])
                    class_counts[c] = at
                    price = self._price(c, at, budget_of)
                else:
                    price = self._price(c, counts[c], budget_of)
                if price is None:
                    del remaining[c]  # supporters cannot afford it; they never will
                    continue
                rank = price * scale[c]
                remaining[c] = rank
                if best_rank is None or rank < best_rank:
                    best_rank, best = rank, [c]
                elif rank == best_rank:
                    best.append(c)
                best_price[c] = price
            if not best:
                break
            chosen = best[0] if len(best) == 1 else self.pids.index(
                ties.choose([self.pids[c] for c in best], f"equal shares round {len(winners) + 1}"))
            price = best_price[chosen]
            del remaining[chosen]
            winners.append(chosen)
            spent += cost[chosen]
            if spend_limit is not None and spent > spend_limit:
                return None, spent, rounds
            if approval:
                step = self._charge_approval(price, class_counts[chosen], budget_of, class_weight, group_class,
                                             supporters[chosen], want_trace)
            else:
                step = self._charge(chosen, price, counts, budget_of, class_weight, group_class, remaining,
                                    want_trace)
            if want_trace:
                step.update(type="mes_round", round=len(winners), project=self.pids[chosen], cost=normalize(cost[chosen]),
                            effective_votes=normalize(cost[chosen] / price), utilities=self.utilities)
                rounds.append(step)
        return winners, spent, rounds

    def _price(self, c, counts, budget_of):
        """Price per unit of utility at which c's supporters can pay for it, or None."""
        cost = self.cost[c]
        if self.approval:
            # poorest class first; a class whose money is below the equal share of what is left
            # pays all it has. If every class does, even all their money is short: unaffordable.
            left, payers = cost, sum(counts.values())
            for k in sorted(counts, key=budget_of.__getitem__):
                b, w = budget_of[k], counts[k]
                if left > b * payers:      # equal share left/payers exceeds b: they pay all they have
                    left -= b * w
                    payers -= w
                else:
                    return left / payers
            return None
        entries = [(budget_of[k], u, w) for (k, u), w in counts.items()]
        if sum((b * w for b, _, w in entries), Q(0)) < cost:
            return None
        entries.sort(key=lambda e: e[0] / e[1])
        left, util = cost, sum(u * w for _, u, w in entries)
        for b, u, w in entries:
            if left * u > b * util:
                left -= b * w
                util -= u * w
            else:
                break
        return left / util

    def _charge_approval(self, price, at, budget_of, class_weight, group_class, supporters, want_trace):
        """Supporters of the winner (``at``: its voters per budget class) pay ``price`` each, or all
        they have; they move to new budget classes, or drop out (-1) at zero."""
        new_class: dict = {}
        full = partial = 0
        for k, w in at.items():
            b = budget_of[k]
            if b > price:
                budget_of.append(b - price)
                nk = new_class[k] = len(budget_of) - 1
                class_weight[nk] = w
                full += w
            else:
                new_class[k] = -1   # pays everything; no money left, so no longer counted
                partial += w
            class_weight[k] -= w
            if not class_weight[k]:
                del class_weight[k]
        new_class[-1] = -1
        for g in supporters:
            group_class[g] = new_class[group_class[g]]
        if not want_trace:
            return {}
        return {"full_payers": full, "partial_payers": partial, "payment": normalize(price),
                "budgets_after": _budget_summary(budget_of, class_weight, self.n_voters)}

    def _charge(self, c, price, counts, budget_of, class_weight, group_class, remaining, want_trace):
        """Cardinal ballots: supporters of c pay; voters move to new budget classes (or drop out at zero)."""
        approval, weights, items = self.approval, self.weights, self.items
        new_class: dict = {}
        full = partial = 0
        for key, w in counts[c].items():
            k, u = (key, 1) if approval else key
            b = budget_of[k]
            pay = price * u
            if b > pay:
                budget_of.append(b - pay)
                new_class[key] = len(budget_of) - 1
                full += w
            else:
                new_class[key] = -1   # pays everything; no money left, so no longer counted
                partial += w
        for key, nk in new_class.items():
            k = key if approval else key[0]
            w = counts[c][key]
            class_weight[k] -= w
            if not class_weight[k]:
                del class_weight[k]
            if nk >= 0:
                class_weight[nk] = class_weight.get(nk, 0) + w
        utility_of = None if approval else self.group_utility[c]
        for g in self.supporters[c]:
            old = group_class[g]
            if old < 0:
                continue
            nk = new_class[old] if approval else new_class[(old, utility_of[g])]
            group_class[g] = nk
            w = weights[g]
            if approval:
                for p in items[g]:
                    if p in remaining:
                        d = counts[p]
                        left = d[old] - w
                        if left:
                            d[old] = left
                        else:
                            del d[old]
                        if nk >= 0:
                            d[nk] = d.get(nk, 0) + w
            else:
                for p, u in items[g]:
                    if p in remaining:
                        d = counts[p]
                        key = (old, u)
                        left = d[key] - w
                        if left:
                            d[key] = left
                        else:
                            del d[key]
                        if nk >= 0:
                            nkey = (nk, u)
                            d[nkey] = d.get(nkey, 0) + w
        if not want_trace:
            return {}
        step = {"full_payers": full, "partial_payers": partial,
                "budgets_after": _budget_summary(budget_of, class_weight, self.n_voters)}
        if approval:
            step["payment"] = normalize(price)
        else:
            step["price_per_point"] = normalize(price)
        return step


def _split_by_weight(supporters, weights):
    """Per project: its single-voter supporter groups, and its (group, weight) pairs for the rest."""
    ones = [[g for g in sup if weights[g] == 1] for sup in supporters]
    heavy = [[(g, weights[g]) for g in sup if weights[g] != 1] for sup in supporters]
    return ones, heavy


def _budget_summary(budget_of, class_weight, n_voters):
    with_money = {k: w for k, w in class_weight.items() if budget_of[k] > 0}
    total = sum((budget_of[k] * w for k, w in with_money.items()), Q(0))
    amounts = [budget_of[k] for k in with_money]
    return {
        "voters_with_money": sum(with_money.values()),
        "voters_without_money": n_voters - sum(with_money.values()),
        "total_left": normalize(total),
        "max_left": normalize(max(amounts)) if amounts else 0,
        "min_left": normalize(min(amounts)) if amounts else 0,
    }


def _is_exhaustive(instance: Instance, selected_ids, spent, among=None) -> bool:
    """No further project fits. ``among``: only these project ids count (pabutools asks about
    supported projects only; equalshares.net about every project)."""
    chosen = set(selected_ids)
    return not any(p.selectable and p.id not in chosen and spent + p.cost <= instance.budget
                   and (among is None or p.id in among) for p in instance.projects)


#: add1 completion variants beyond ``exhaustive``/``integral``/``increment``, with the default
#: (equalshares.net's reference code, which reproduces the official outcomes); recorded in
#: ``Outcome.params`` and in the ``mes_start`` trace step only when not the default.
ADD1_VARIANT_DEFAULTS = {"increment_unit": "voter", "exhaustive_over": "all",
                         "add1_if_all_fit": False, "first_at_budget": False}


def _add1_step(params, budget, n):
    """How much the *total* budget rises per add1 step."""
    unit, inc = params.get("increment_unit", "voter"), Q(params["increment"])
    if inc <= 0:
        raise ValueError("increment must be positive")
    if unit == "voter":
        return inc * n
    if unit == "total":
        return inc
    return Q(budget) * inc / 100     # percent of the budget


def _add1(problem: _MesProblem, instance: Instance, params: dict, make_ties, trace: list):
    """The add1 completion: returns the total budget of the accepted run."""
    budget, n, ids = instance.budget, problem.n_voters, problem.pids
    step_total = _add1_step(params, budget, n)
    among = ({ids[c] for c in problem.candidates} if params.get("exhaustive_over", "all") == "supported"
             else None)

    problem.widen = Q(3, 2)

    def outcome_at(total, limit=None):
        winners, spent, _ = problem.run(Q(total) / n, make_ties(), spend_limit=limit)
        return winners, spent

    start = Q((budget // n) * n if params["integral"] else budget)
    if params.get("first_at_budget"):
        accepted = Q(budget)          # the count at the real budget, then raised from the start
        winners, spent = outcome_at(accepted)
    else:
        accepted = start
        winners, spent = outcome_at(start)
    used = start
    exhaustive = _is_exhaustive(instance, [ids[c] for c in winners], spent, among)
    trace.append({"type": "add1", "step": 0, "per_voter": normalize(accepted / n),
                  "selected": [ids[c] for c in winners], "total_cost": normalize(spent),
                  "exhaustive": exhaustive, "result": "start"})
    step_no = 0
    while not (params["exhaustive"] and exhaustive):
        if len(winners) == len(problem.candidates):
            # every supported project is already funded: more money cannot change anything
            # (equalshares.net would loop forever here when an unsupported project still fits)
            trace.append({"type": "add1_skipped", "reason": "every supported project is already funded"})
            break
        step_no += 1
        used = used + step_total
        nxt, nxt_spent = outcome_at(used, budget)
        if nxt is None:
            trace.append({"type": "add1", "step": step_no, "per_voter": normalize(used / n),
                          "total_cost_at_least": normalize(nxt_spent), "result": "overspends"})
            break
        accepted, winners, spent = used, nxt, nxt_spent
        exhaustive = _is_exhaustive(instance, [ids[c] for c in winners], spent, among)
        trace.append({"type": "add1", "step": step_no, "per_voter": normalize(used / n),
                      "selected": [ids[c] for c in winners], "total_cost": normalize(spent),
                      "exhaustive": exhaustive, "result": "accepted"})
    return accepted


def equal_shares(instance: Instance, profile: Profile, params: dict, rule_name: str = "equalshares") -> Outcome:
    scoring_fn = params.get("scoring_fn")
    problem = _MesProblem(instance, profile, params["utilities"], scoring_fn)
    supporters = profile.supporters()

    def make_ties():
        return TieBreaker(instance, supporters, params["ties"], params["tie_seed"],
                          params.get("tie_break", "lowest-cost"))

    ties = make_ties()
    budget, n = instance.budget, profile.num_voters
    trace: list[dict] = []
    ids = problem.pids
    variant = {k: params[k] for k, d in ADD1_VARIANT_DEFAULTS.items() if k in params and params[k] != d}

    all_fit = sum(p.cost for p in instance.projects if p.selectable) <= budget
    if n == 0:
        winners, spent, rounds, per_voter, used_budget = [], 0, [], 0, budget
    elif params["completion"] == "add1" and (not all_fit or params.get("add1_if_all_fit")):
        # Tie records of the add1 steps are not part of the outcome: the accepted run is
        # counted again below, in detail, with the outcome's tie-breaker.
        used_budget = _add1(problem, instance, params, make_ties, trace)
        per_voter = Q(used_budget) / n
        winners, spent, rounds = problem.run(per_voter, ties, want_trace=True)  # the accepted run, in detail
    else:
        if params["completion"] == "add1":
            trace.append({"type": "add1_skipped", "reason": "every project together fits in the budget"})
        used_budget = budget
        per_voter = Q(budget) / n if n else Q(0)
        winners, spent, rounds = problem.run(per_voter, ties, want_trace=True)

    trace = _merge_add1_steps(trace)
    start = {"type": "mes_start", "voters": n, "per_voter": normalize(per_voter) if n else 0,
             "budget_used": normalize(Q(used_budget)), "utilities": problem.utilities}
    if variant and params["completion"] == "add1":
        start["add1_variant"] = variant
    trace.insert(0, start)
    trace.extend(rounds)
    selected = [ids[c] for c in winners]
    total = normalize(spent) if n else 0
    trace.append({"type": "mes_end", "selected": list(selected), "total_cost": total})

    scores = None
    if params["utilitarian_completion"] or params["comparison"] != "none":
        scores = project_scores(instance, profile, scoring_fn)
    if params["utilitarian_completion"]:
        for pid in greedy_order(instance, scores, ties, False, "utilitarian completion order"):
            cost = instance.by_id[pid].cost
            if pid not in selected and total + cost <= budget:
                selected.append(pid)
                total += cost
                trace.append({"type": "completion", "project": pid, "score": scores[pid], "cost": cost})

    if params["comparison"] != "none":
        greedy_sel, greedy_total = [], 0
        for pid in greedy_order(instance, scores, ties, False, "comparison greedy order"):
            cost = instance.by_id[pid].cost
            if greedy_total + cost <= budget:
                greedy_sel.append(pid)
                greedy_total += cost
        prefer_mes, prefer_greedy = _compare(profile, selected, greedy_sel, params["comparison"], scoring_fn)
        use_greedy = prefer_greedy > prefer_mes
        trace.append({"type": "comparison", "measure": params["comparison"], "prefer_mes": prefer_mes,
                      "prefer_greedy": prefer_greedy, "greedy_selected": greedy_sel, "use_greedy": use_greedy})
        if use_greedy:
            selected, total = greedy_sel, greedy_total

    return Outcome(rule=rule_name, params=dict(params), selected=selected, total_cost=total,
                   budget=budget, trace=trace, ties=ties.records)


def _merge_add1_steps(trace: list[dict]) -> list[dict]:
    """Consecutive add1 steps with the same outcome become one entry (``step`` .. ``last_step``)."""
    merged: list[dict] = []
    for step in trace:
        prev = merged[-1] if merged else None
        if (prev is not None and step.get("type") == "add1" and prev.get("type") == "add1"
                and step["result"] == "accepted" and prev["result"] in ("start", "accepted")
                and step["selected"] == prev["selected"] and step["exhaustive"] == prev["exhaustive"]):
            if prev["result"] == "start":
                merged.append(dict(step))
                continue
            prev["last_step"] = step["step"]
            prev["last_per_voter"] = step["per_voter"]
            continue
        merged.append(dict(step))
    return merged


def _compare(profile: Profile, mes_sel, greedy_sel, measure: str, scoring_fn):
    """Voters (weighted) who strictly prefer each outcome. ``satisfaction``: total utility
    (approved projects funded, or points); ``exclusion_ratio``: whether any supported project
    is funded at all.

    Differences from equalshares.net's JavaScript, on purpose: a voter with none of their
    projects funded in one outcome counts as preferring the other (the JS compares against
    ``undefined`` and counts nobody), and the greedy outcome breaks ties with our tie-break
    rather than file order."""
    mes_set, greedy_set = set(mes_sel), set(greedy_sel)
    prefer_mes = prefer_greedy = 0
    for weight, pairs in profile.utilities(scoring_fn):
        a = sum((u for pid, u in pairs if pid in mes_set), 0)
        b = sum((u for pid, u in pairs if pid in greedy_set), 0)
        if measure == "exclusion_ratio":
            a, b = int(a > 0), int(b > 0)
        if a > b:
            prefer_mes += weight
        elif b > a:
            prefer_greedy += weight
    return prefer_mes, prefer_greedy
