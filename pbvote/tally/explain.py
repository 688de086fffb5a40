"""Render an Outcome's trace as plain-language text (the results page and the CLI use it)."""
from __future__ import annotations

from .exact import fmt_approx, fmt_exact


def _money(x) -> str:
    if int(x.denominator) == 1:
        return f"{int(x.numerator):,}"
    whole, _, cents = fmt_approx(x, 2).partition(".")
    return f"{int(whole):,}.{cents}" if whole != "-0" else f"-0.{cents}"


def explain(outcome, instance=None) -> str:
    def name(pid):
        if instance is not None and pid in instance.by_id and instance.by_id[pid].name:
            return f"{pid} ({instance.by_id[pid].name})"
        return str(pid)

    lines = [f"Rule: {outcome.rule}",
             "Parameters: " + ", ".join(f"{k}={v}" for k, v in sorted(outcome.params.items())),
             f"Budget: {_money(outcome.budget)}", ""]
    for note in outcome.notes:
        lines.append(f"Note: {note}")
    for step in outcome.trace:
        lines.extend(_render(step, name))
    if outcome.ties:
        lines.append("")
        lines.append("Ties:")
        for t in outcome.ties:
            order = t.get("order")
            how = f"order {', '.join(order)}" if order else f"chose {t['chosen']}"
            lines.append(f"  {t['context']}: {', '.join(t['tied'])} were tied; {how} "
                         f"(decided by {t['decided_by']}).")
    lines.append("")
    lines.append(f"Selected ({len(outcome.selected)}): " + ", ".join(name(p) for p in outcome.selected))
    lines.append(f"Total cost: {_money(outcome.total_cost)}; left over: {_money(outcome.leftover)}")
    return "\n".join(lines)


def _render(step, name) -> list[str]:
    kind = step.get("type")
    if kind == "withdrawn":
        return [f"{name(step['project'])} was withdrawn and cannot be funded."]
    if kind == "no_support":
        return [f"{name(step['project'])} has no support and is not funded."]
    if kind == "greedy":
        head = f"{step['rank']}. {name(step['project'])}: score {fmt_exact(step['score'])}, cost {_money(step['cost'])}"
        if "density" in step and step["density"] != "free":
            head += f" (score per unit of cost {fmt_approx(step['density'], 6)})"
        decision = step["decision"]
        if decision == "funded":
            return [f"{head} -> funded; {_money(step['remaining'] - step['cost'])} left."]
        if decision == "skipped":
            return [f"{head} -> skipped: only {_money(step['remaining'])} left."]
        if decision == "stopped":
            return [f"{head} -> does not fit in the remaining {_money(step['remaining'])}; the count stops here."]
        if decision == "below threshold":
            return [f"{head} -> not eligible: score below the threshold {fmt_exact(step['threshold'])}."]
        return [f"{head} -> not considered (the count had stopped)."]
    if kind == "mes_start":
        return [f"Method of Equal Shares with {step['voters']:,} voters; each voter starts with "
                f"{_money(step['per_voter'])} (budget used: {_money(step['budget_used'])})."]
    if kind == "mes_round":
        pays = (f"each of its {step['full_payers']:,} supporters pays {fmt_approx(step['payment'], 2)}"
                if step["utilities"] != "cardinal" else
                f"supporters pay {fmt_approx(step['price_per_point'], 4)} per point")
        partial = (f", {step['partial_payers']:,} supporters pay all they have left"
                   if step.get("partial_payers") else "")
        b = step["budgets_after"]
        return [f"Round {step['round']}: {name(step['project'])} (cost {_money(step['cost'])}) is funded with "
                f"{fmt_approx(step['effective_votes'], 2)} effective votes; {pays}{partial}. "
                f"Afterwards {b['voters_with_money']:,} voters have money left, "
                f"{_money(b['total_left'])} in all."]
    if kind == "mes_end":
        return [f"No remaining project can be paid for by its supporters; equal shares selected "
                f"{len(step['selected'])} projects costing {_money(step['total_cost'])}."]
    if kind == "add1":
        if step["result"] == "overspends":
            return [f"Add1 step {step['step']}: {_money(step['per_voter'])} per voter would select projects "
                    f"costing at least {_money(step['total_cost_at_least'])}, more than the budget -> rejected; "
                    "the previous outcome is kept."]
        verdict = {"accepted": "accepted", "start": "starting point"}[step["result"]]
        ex = " (exhaustive)" if step.get("exhaustive") else ""
        if "last_step" in step:
            return [f"Add1 steps {step['step']}-{step['last_step']}: {_money(step['per_voter'])} to "
                    f"{_money(step['last_per_voter'])} per voter give {len(step['selected'])} projects costing "
                    f"{_money(step['total_cost'])}{ex} -> accepted."]
        return [f"Add1 step {step['step']}: {_money(step['per_voter'])} per voter gives "
                f"{len(step['selected'])} projects costing {_money(step['total_cost'])}{ex} -> {verdict}."]
    if kind == "add1_skipped":
        return [f"Add1 not used: {step['reason']}."]
    if kind == "completion":
        return [f"Completion: {name(step['project'])} (votes {fmt_exact(step['score'])}, cost "
                f"{_money(step['cost'])}) is added with leftover money."]
    if kind == "comparison":
        verdict = ("the greedy outcome is used instead" if step["use_greedy"]
                   else "the equal-shares outcome is kept")
        return [f"Comparison ({step['measure']}): {step['prefer_mes']:,} voters prefer the equal-shares outcome, "
                f"{step['prefer_greedy']:,} prefer the greedy outcome; {verdict}."]
    if kind == "phragmen_round":
        return [f"Round {step['round']}: {name(step['project'])} (cost {_money(step['cost'])}) is funded; its "
                f"{step['supporters']:,} supporters' load rises to {fmt_approx(step['load'], 4)}."]
    if kind == "phragmen_stop":
        return [f"The next project, {name(step['project'])}, does not fit in the remaining "
                f"{_money(step['remaining'])}; the count stops."]
    return [str(step)]
