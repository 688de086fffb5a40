"""Plain sentences from a district's stored analysis (pbvote.tally.analysis), for the results page.

Pure: reads the results document only (the page never recounts). Money is formatted by a
function the caller passes in, as in :mod:`pbvote.rules.results_reading`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from pbvote.i18n_hook import _, format_fixed, format_number, n_, translate
from pbvote.tally.exact import fmt_approx, fmt_exact, parse_exact

Money = Callable[[int | Fraction], str]


def exact(value) -> int | Fraction:
    if isinstance(value, int):
        return value
    return parse_exact(str(value))


def percent_text(value) -> str:
    """An exact share (1 = 100 %) as a whole percent, rounded down as the analysis stores it."""
    return format_number(int(exact(value) * 100 // 1))


@dataclass
class DistrictInsight:
    kind: str
    #: project id → sentences
    sentences: dict[str, list[str]] = field(default_factory=dict)
    #: district-level sentences: voters with nothing funded
    summary: list[str] = field(default_factory=list)
    #: the sentence introducing the average-share chart
    share_note: str = ""
    #: project id → effective support (exact share), MES only
    effective_support: dict[str, int | Fraction] = field(default_factory=dict)
    #: project id → average share of the money its supporters got
    group_share: dict[str, int | Fraction] = field(default_factory=dict)
    equal_share: int | Fraction = 0
    none_funded: int = 0
    none_funded_greedy: int = 0
    voters_with_choices: int = 0


def read_insight(district: dict, titles: dict[str, str], money: Money) -> DistrictInsight | None:
    """The explanations of one district of a results document, or None when it has none."""
    analysis = district.get("analysis")
    if not analysis:
        return None
    label = translate(district["score_label"])
    figures = analysis["district"]
    insight = DistrictInsight(
        kind=analysis["kind"],
        group_share={pid: exact(v) for pid, v in figures["group_share"].items()},
        equal_share=exact(figures["equal_share"]), none_funded=figures["none_funded"],
        none_funded_greedy=figures["none_funded_greedy"],
        voters_with_choices=figures["voters_with_choices"])
    supporters = {p["id"]: p["supporters"] for p in district["projects"]}
    costs = {p["id"]: p["cost"] for p in district["projects"]}

    def name(pid: str) -> str:
        return titles.get(pid, pid)

    for pid, entry in analysis["projects"].items():
        if analysis["kind"] == "mes":
            insight.effective_support[pid] = exact(entry["effective_support"])
            insight.sentences[pid] = _mes_sentences(entry, supporters.get(pid, 0),
                                                    costs.get(pid, 0), name, money)
        elif analysis["kind"] == "greedy":
            insight.sentences[pid] = _greedy_sentences(entry, label, name, money,
                                                       district["budget"])
    voters = figures["voters_with_choices"]
    insight.summary.append(n_(
        "%(none)s of the %(num)s voter who chose a project had none of their projects funded "
        "under this rule.",
        "%(none)s of the %(num)s voters who chose projects had none of their projects funded "
        "under this rule.", voters, none=format_number(figures["none_funded"])))
    if not district["rule"].startswith("greedy"):
        insight.summary.append(_(
            "Under plain greedy counting (most %(label)s first, while the money lasts) it "
            "would have been %(greedy)s.", label=label,
            greedy=format_number(figures["none_funded_greedy"])))
    insight.share_note = (_(
        "An equal share of the budget is %(share)s per voter. The chart below shows, for the "
        "supporters of each project, the average share of the money spent that went to "
        "projects they supported (each funded project's cost split equally among its "
        "supporters).", share=money(exact(figures["equal_share"]))))
    return insight


def _paid_for(entry: dict, name, money: Money) -> str:
    return ", ".join(
        n_("%(project)s (%(amount)s from %(num)s supporter)",
           "%(project)s (%(amount)s from %(num)s supporters)", s["voters"],
           project=name(s["project"]), amount=money(exact(s["amount"])))
        for s in entry["spent_on"])


def _mes_sentences(entry: dict, supporters: int, cost, name, money: Money) -> list[str]:
    sentences = []
    percent = percent_text(entry["effective_support"])
    have = money(exact(entry["supporters_money"]))
    paid = entry.get("supporters_who_paid", 0)
    if "funded_in_round" in entry:
        sentences.append(_(
            "Its effective support was %(percent)s %%: at the price other projects were paid "
            "at, its supporters could have paid that share of its cost, so it was funded in "
            "round %(round)s.", percent=percent, round=entry["funded_in_round"]))
        if entry["spent_on"]:
            sentences.append(n_(
                "When it was funded, %(num)s of its supporters had already paid for %(projects)s.",
                "When it was funded, %(num)s of its supporters had already paid for %(projects)s.",
                paid, projects=_paid_for(entry, name, money)))
        return sentences
    if entry["considered_round"] == 0:
        sentences.append(n_(
            "It had %(num)s supporter. Even with their full equal share of the budget, they "
            "had only %(have)s together, less than its cost of %(cost)s.",
            "It had %(num)s supporters. Even with their full equal shares of the budget, they "
            "had only %(have)s together, less than its cost of %(cost)s.",
            supporters, have=have, cost=money(exact(cost))))
    else:
        sentences.append(n_(
            "It had %(num)s supporter. By the time it was considered they had %(have)s left "
            "between them, less than its cost of %(cost)s.",
            "It had %(num)s supporters. By the time it was considered they had %(have)s left "
            "between them, less than its cost of %(cost)s.",
            supporters, have=have, cost=money(exact(cost))))
        if entry["spent_on"]:
            sentences.append(n_(
                "That is because %(num)s of them had already paid for %(projects)s.",
                "That is because %(num)s of them had already paid for %(projects)s.",
                paid, projects=_paid_for(entry, name, money)))
    if entry.get("closest_round") is not None:
        sentences.append(_(
            "Its effective support was %(percent)s %%: in round %(round)s, at the price the "
            "funded project was paid at, its supporters could have paid that share of its cost.",
            percent=percent, round=entry["closest_round"]))
    else:
        sentences.append(_(
            "Its effective support was %(percent)s %%: all its supporters' money together "
            "would have paid that share of its cost.", percent=percent))
    more = entry.get("more_supporters")
    if more:
        sentences.append(n_(
            "It was %(short)s short; at least %(num)s more supporter with the same ballot "
            "would have been needed.",
            "It was %(short)s short; at least %(num)s more supporters with the same ballot "
            "would have been needed.", more, short=money(exact(entry["shortfall"]))))
    return sentences


def _greedy_sentences(entry: dict, label: str, name, money: Money, budget) -> list[str]:
    if entry.get("never_fits"):
        return [_("Its cost is more than the whole budget of %(budget)s, so it could not be "
                  "funded however many %(label)s it had.", budget=money(exact(budget)),
                  label=label)]
    if "taker" not in entry:
        return []
    gap = exact(entry["score_gap"])
    sentences = [_("The last money it needed went to %(taker)s: once that project was funded, "
                   "less than its cost was left.", taker=name(entry["taker"]))]
    if gap == 0:
        sentences.append(_("It had as many %(label)s as %(taker)s and came after it on the "
                           "tie-break.", label=label, taker=name(entry["taker"])))
    else:
        text = (format_number(gap) if isinstance(gap, int)
                else format_fixed(fmt_exact(gap) if Fraction(gap).denominator in (2, 4, 5, 10)
                                  else fmt_approx(gap, 2)))
        sentences.append(_("It was %(gap)s %(label)s behind %(taker)s; with more %(label)s "
                           "than %(taker)s it would have come before it and been funded.",
                           gap=text, label=label, taker=name(entry["taker"])))
    return sentences
