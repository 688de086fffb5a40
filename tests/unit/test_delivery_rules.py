"""The pure delivery rules: the editing checks agree with the fold the verifier uses, and the
fold refuses what the rules refuse."""
from __future__ import annotations

import pytest

from pbvote.audit import delivery as fold_rules
from pbvote.rules import delivery as rules

OPENED = (1, "delivery.opened", {
    "cycle": "c", "results_hash": "0" * 64, "cycle_chain": {"length": 3, "head": "a" * 64},
    "funded": [{"project": "P1", "district": "d", "title": "Lamps", "cost": 100}],
    "role": "administrator", "day": "2027-01-01"})


def _entry(position, kind, **data):
    return (position, kind, {"project": "P1", "day": "2027-01-02", "role": "administrator",
                             **data})


def test_the_editing_rules_and_the_fold_agree_on_statuses_and_transitions():
    assert rules.STATUSES == fold_rules.STATUSES
    assert {k: frozenset(v) for k, v in rules.TRANSITIONS.items()} == fold_rules.TRANSITIONS
    assert set(rules.REASON_NEEDED) == fold_rules.REASON_NEEDED


@pytest.mark.parametrize("entries,problem", [
    ([_entry(1, "delivery.progress", percent=5)], "before delivery.opened"),
    ([OPENED, _entry(2, "delivery.status", status="delivered")], "cannot become"),
    ([OPENED, _entry(2, "delivery.status", status="cancelled", reason=" ")], "public reason"),
    ([OPENED, _entry(2, "delivery.money", committed=101, spent=0, reason="")], "over the cost"),
    ([OPENED, _entry(2, "delivery.money", committed=-1, spent=0)], "non-negative"),
    ([OPENED, _entry(2, "delivery.progress", percent=101)], "0 to 100"),
    ([OPENED, _entry(2, "delivery.progress", percent=5, project="P9")], "no delivery record"),
    ([OPENED, _entry(2, "delivery.update", text="x", photo=None),
      _entry(3, "delivery.progress", percent=5, corrects=2)], "corrects entry 2"),
    ([OPENED, OPENED], "already opened"),
])
def test_the_fold_refuses_what_the_rules_refuse(entries, problem):
    with pytest.raises(fold_rules.FoldError) as refused:
        fold_rules.fold(entries)
    assert problem in str(refused.value)


def test_a_correction_replaces_the_news_it_corrects_and_keeps_both():
    state = fold_rules.fold([OPENED, _entry(2, "delivery.update", text="Wrong", photo=None),
                             _entry(3, "delivery.update", text="Right", photo=None,
                                    corrects=2)])
    first, second = state["projects"]["P1"]["updates"]
    assert (first["text"], first["corrected_by"]) == ("Wrong", 3)
    assert (second["text"], second["corrects"]) == ("Right", 2)


@pytest.mark.parametrize("responses,shown", [(9, False), (10, True)])
def test_survey_figures_only_from_ten(responses, shown):
    answers = [responses, 0, 0, 0, 0] if shown else None
    state = fold_rules.fold([OPENED, (2, "survey.opened", {
        "round": "r", "district": "d", "label": "Baseline", "question": "Q",
        "day": "2027-01-02", "role": "administrator"}), (3, "survey.closed", {
        "round": "r", "responses": responses, "answers": answers, "day": "2027-01-03",
        "role": "administrator"})])
    figures = fold_rules.survey_figures(state["surveys"]["r"])
    assert figures["shown"] is shown and figures["responses"] == responses


def test_survey_counts_below_ten_may_not_carry_answers():
    with pytest.raises(fold_rules.FoldError):
        fold_rules.fold([OPENED, (2, "survey.opened", {
            "round": "r", "district": "d", "label": "B", "question": "Q", "day": "2027-01-02"}),
            (3, "survey.closed", {"round": "r", "responses": 3, "answers": [3, 0, 0, 0, 0],
                                  "day": "2027-01-03"})])


@pytest.mark.parametrize("text,ok", [("12", True), ("3.75", True), ("-1", False),
                                     ("1e3", False), ("", False), ("1,5", False)])
def test_decimal_values_are_exact_and_non_negative(text, ok):
    reasons: list = []
    assert (rules.parse_decimal(text, "value", reasons) is not None) == ok
    if ok:
        assert fold_rules.decimal_value(text) >= 0


def test_values_csv_accepts_a_bom_and_any_column_order():
    data = "\ufeffsource,value,period,indicator\npolice,4,2026-Q4,k\n".encode()
    parsed = rules.parse_values_csv(data, {"k": ["2026-Q4"]})
    assert not parsed.errors and parsed.rows[0].value == "4"
