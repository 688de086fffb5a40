"""Render an Outcome's trace as plain-language text (the results page and the CLI use it).

The trace itself is language-neutral data (and published as such); only this rendering is
translated, through the i18n hook: plain English outside the app, the reader's language in a
request. Tie contexts, tie-break reasons and add1 notes are stored as the engine's English
text, so they are recognised here and translated at render time.
"""
from __future__ import annotations

import re

from pbvote.i18n_hook import N_, _, decimal_symbol, format_fixed, format_number, n_, translate

from .exact import fmt_approx, fmt_exact

#: tie-break reasons as the engine records them in ``decided_by``
TIE_REASONS = {"lowest cost": N_("lowest cost"), "highest cost": N_("highest cost"),
               "most votes": N_("most votes"), "lot": N_("lot")}
#: ``add1_skipped`` reasons as the engine records them
ADD1_REASONS = {
    "every supported project is already funded": N_("every supported project is already funded"),
    "every project together fits in the budget": N_("every project together fits in the budget"),
}
#: the orders greedy_order is asked for (the first part of a greedy tie context)
ORDER_NAMES = {"greedy order": N_("greedy order"),
               "utilitarian completion order": N_("utilitarian completion order"),
               "comparison greedy order": N_("comparison greedy order")}
_EQUAL = re.compile(r"^(?P<order>.+): equal (?P<what>score|density) (?P<value>\S+)$")
_FREE = re.compile(r"^(?P<order>.+): free projects$")
_ROUND = re.compile(r"^(?P<rule>Phragmén|equal shares) round (?P<round>\d+)$")


def tie_reason(decided_by: str) -> str:
    """"lowest cost" / "most votes" / "lot" in the reader's language."""
    return translate(TIE_REASONS[decided_by]) if decided_by in TIE_REASONS else decided_by


def tie_context(context: str) -> str:
    """A stored tie context ("greedy order: equal score 12", "equal shares round 3") in the
    reader's language; text the engine does not produce is shown as stored."""
    if match := _ROUND.match(context):
        round_no = match["round"]
        if match["rule"] == "Phragmén":
            return _("Phragmén round %(round)s", round=round_no)
        return _("equal shares round %(round)s", round=round_no)
    if match := _FREE.match(context):
        return _("%(order)s: free projects", order=_order_name(match["order"]))
    if match := _EQUAL.match(context):
        value = _number_text(match["value"])
        if match["what"] == "density":
            return _("%(order)s: equal density %(value)s", order=_order_name(match["order"]),
                     value=value)
        return _("%(order)s: equal score %(value)s", order=_order_name(match["order"]),
                 value=value)
    return context


def _order_name(order: str) -> str:
    return translate(ORDER_NAMES[order]) if order in ORDER_NAMES else order


def _number_text(text: str) -> str:
    """An exact number as stored ("12", "12.5", "1/3"), with the reader's separators."""
    if "/" in text:
        return text
    return format_fixed(text)


def _money(x) -> str:
    if int(x.denominator) == 1:
        return format_number(int(x.numerator))
    whole, _point, cents = fmt_approx(x, 2).partition(".")
    return (format_number(int(whole)) if whole != "-0" else "-0") + decimal_symbol() + cents


def _exact(x) -> str:
    return _number_text(fmt_exact(x))


def _approx(x, places: int) -> str:
    return format_fixed(fmt_approx(x, places))


def explain(outcome, instance=None, parameters: bool = True) -> str:
    """The count in words; without `parameters` the rule's name and raw parameters are left
    out (the public results page explains them in words and gives them to auditors apart)."""
    def name(pid):
        if instance is not None and pid in instance.by_id and instance.by_id[pid].name:
            return f"{pid} ({instance.by_id[pid].name})"
        return str(pid)

    lines = [_("Rule: %(rule)s", rule=outcome.rule),
             _("Parameters: %(params)s",
               params=", ".join(f"{k}={v}" for k, v in sorted(outcome.params.items())))]
    if not parameters:
        lines = []
    lines += [_("Budget: %(budget)s", budget=_money(outcome.budget)), ""]
    for note in outcome.notes:
        lines.append(_("Note: %(note)s", note=translate(note)))
    for step in outcome.trace:
        lines.extend(_render(step, name))
    if outcome.ties:
        lines.append("")
        lines.append(_("Ties:"))
        for t in outcome.ties:
            order = t.get("order")
            tied = ", ".join(t["tied"])
            context, how = tie_context(t["context"]), tie_reason(t["decided_by"])
            if order:
                lines.append("  " + _("%(context)s: %(tied)s were tied; order %(order)s "
                                      "(decided by %(how)s).", context=context, tied=tied,
                                      order=", ".join(order), how=how))
            else:
                lines.append("  " + _("%(context)s: %(tied)s were tied; chose %(chosen)s "
                                      "(decided by %(how)s).", context=context, tied=tied,
                                      chosen=t["chosen"], how=how))
    lines.append("")
    lines.append(_("Selected (%(count)s): %(projects)s", count=str(len(outcome.selected)),
                   projects=", ".join(name(p) for p in outcome.selected)))
    lines.append(_("Total cost: %(cost)s; left over: %(left)s", cost=_money(outcome.total_cost),
                   left=_money(outcome.leftover)))
    return "\n".join(lines)


def _render(step, name) -> list[str]:
    kind = step.get("type")
    if kind == "withdrawn":
        return [_("%(project)s was withdrawn and cannot be funded.", project=name(step["project"]))]
    if kind == "no_support":
        return [_("%(project)s has no support and is not funded.", project=name(step["project"]))]
    if kind == "greedy":
        return [_greedy_line(step, name)]
    if kind == "mes_start":
        return [_("Method of Equal Shares with %(voters)s voters; each voter starts with "
                  "%(per_voter)s (budget used: %(used)s).", voters=format_number(step["voters"]),
                  per_voter=_money(step["per_voter"]), used=_money(step["budget_used"]))]
    if kind == "mes_round":
        return [_mes_round_line(step, name)]
    if kind == "mes_end":
        return [_("No remaining project can be paid for by its supporters; equal shares selected "
                  "%(count)s projects costing %(cost)s.",
                  count=str(len(step["selected"])), cost=_money(step["total_cost"]))]
    if kind == "add1":
        return [_add1_line(step)]
    if kind == "add1_skipped":
        reason = step["reason"]
        return [_("Add1 not used: %(reason)s.",
                  reason=translate(ADD1_REASONS[reason]) if reason in ADD1_REASONS else reason)]
    if kind == "completion":
        return [_("Completion: %(project)s (votes %(score)s, cost %(cost)s) is added with "
                  "leftover money.", project=name(step["project"]), score=_exact(step["score"]),
                  cost=_money(step["cost"]))]
    if kind == "comparison":
        measure = step["measure"]
        params = {"measure": measure, "mes": format_number(step["prefer_mes"]),
                  "greedy": format_number(step["prefer_greedy"])}
        if step["use_greedy"]:
            return [_("Comparison (%(measure)s): %(mes)s voters prefer the equal-shares outcome, "
                      "%(greedy)s prefer the greedy outcome; the greedy outcome is used instead.",
                      **params)]
        return [_("Comparison (%(measure)s): %(mes)s voters prefer the equal-shares outcome, "
                  "%(greedy)s prefer the greedy outcome; the equal-shares outcome is kept.",
                  **params)]
    if kind == "phragmen_round":
        return [_("Round %(round)s: %(project)s (cost %(cost)s) is funded; its %(supporters)s "
                  "supporters' load rises to %(load)s.", round=str(step["round"]),
                  project=name(step["project"]), cost=_money(step["cost"]),
                  supporters=format_number(step["supporters"]), load=_approx(step["load"], 4))]
    if kind == "phragmen_stop":
        return [_("The next project, %(project)s, does not fit in the remaining %(left)s; the "
                  "count stops.", project=name(step["project"]), left=_money(step["remaining"]))]
    return [str(step)]


def _greedy_line(step, name) -> str:
    params = {"rank": str(step["rank"]), "project": name(step["project"]),
              "score": _exact(step["score"]), "cost": _money(step["cost"])}
    if "density" in step and step["density"] != "free":
        head = _("%(rank)s. %(project)s: score %(score)s, cost %(cost)s (score per unit of cost "
                 "%(density)s)", density=_approx(step["density"], 6), **params)
    else:
        head = _("%(rank)s. %(project)s: score %(score)s, cost %(cost)s", **params)
    decision = step["decision"]
    if decision == "funded":
        return _("%(head)s -> funded; %(left)s left.", head=head,
                 left=_money(step["remaining"] - step["cost"]))
    if decision == "skipped":
        return _("%(head)s -> skipped: only %(left)s left.", head=head,
                 left=_money(step["remaining"]))
    if decision == "stopped":
        return _("%(head)s -> does not fit in the remaining %(left)s; the count stops here.",
                 head=head, left=_money(step["remaining"]))
    if decision == "below threshold":
        return _("%(head)s -> not eligible: score below the threshold %(threshold)s.", head=head,
                 threshold=_exact(step["threshold"]))
    if decision == "excluded":
        return _("%(head)s -> excluded: %(others)s, which excludes it, is already funded.", head=head,
                 others=", ".join(name(pid) for pid in step["excluded_by"]))
    return _("%(head)s -> not considered (the count had stopped).", head=head)


def _mes_round_line(step, name) -> str:
    parts = []
    if step["utilities"] == "cardinal":
        parts.append(_("supporters pay %(price)s per point",
                       price=_approx(step["price_per_point"], 4)))
    elif step["full_payers"]:  # none when every supporter pays all they have left
        parts.append(n_("%(num)s supporter pays %(payment)s",
                        "each of its %(num)s supporters pays %(payment)s", step["full_payers"],
                        payment=_approx(step["payment"], 2)))
    if step.get("partial_payers"):
        parts.append(n_("%(num)s supporter pays all they have left",
                        "%(num)s supporters pay all they have left", step["partial_payers"]))
    pays = ", ".join(parts)
    after = step["budgets_after"]
    return _("Round %(round)s: %(project)s (cost %(cost)s) is funded with %(votes)s effective "
             "votes; %(pays)s. Afterwards %(voters)s voters have money left, %(left)s in all.",
             round=str(step["round"]), project=name(step["project"]),
             cost=_money(step["cost"]), votes=_approx(step["effective_votes"], 2), pays=pays,
             voters=format_number(after["voters_with_money"]), left=_money(after["total_left"]))


def _add1_line(step) -> str:
    if step["result"] == "overspends":
        return _("Add1 step %(step)s: %(per_voter)s per voter would select projects costing at "
                 "least %(cost)s, more than the budget -> rejected; the previous outcome is kept.",
                 step=str(step["step"]), per_voter=_money(step["per_voter"]),
                 cost=_money(step["total_cost_at_least"]))
    exhaustive = step.get("exhaustive")
    params = {"step": str(step["step"]), "per_voter": _money(step["per_voter"]),
              "count": str(len(step["selected"])), "cost": _money(step["total_cost"])}
    if "last_step" in step:
        params.update(last_step=str(step["last_step"]),
                      last_per_voter=_money(step["last_per_voter"]))
        if exhaustive:
            return _("Add1 steps %(step)s-%(last_step)s: %(per_voter)s to %(last_per_voter)s per "
                     "voter give %(count)s projects costing %(cost)s (exhaustive) -> accepted.",
                     **params)
        return _("Add1 steps %(step)s-%(last_step)s: %(per_voter)s to %(last_per_voter)s per voter "
                 "give %(count)s projects costing %(cost)s -> accepted.", **params)
    if step["result"] == "start":
        if exhaustive:
            return _("Add1 step %(step)s: %(per_voter)s per voter gives %(count)s projects costing "
                     "%(cost)s (exhaustive) -> starting point.", **params)
        return _("Add1 step %(step)s: %(per_voter)s per voter gives %(count)s projects costing "
                 "%(cost)s -> starting point.", **params)
    if exhaustive:
        return _("Add1 step %(step)s: %(per_voter)s per voter gives %(count)s projects costing "
                 "%(cost)s (exhaustive) -> accepted.", **params)
    return _("Add1 step %(step)s: %(per_voter)s per voter gives %(count)s projects costing "
             "%(cost)s -> accepted.", **params)
