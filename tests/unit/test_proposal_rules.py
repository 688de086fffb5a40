"""The pure rules for ideas: every status transition (legal and not), submissions, limits,
search patterns and the one-time sign-in code."""
from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from pbvote.rules import proposals as rules
from pbvote.rules.proposals import TransitionRequest

NEEDS_VALUES = {"question": {"question": "Which corner?"}, "answer": {"answer": "The north one"},
                "reason": {"reason": "Too close to the school"}, "cost": {"cost": 25000},
                "merge_target": {"merge_target_status": "submitted"}}

LEGAL = {
    ("submitted", "under_review", "staff"),
    ("under_review", "needs_information", "staff"),
    ("needs_information", "under_review", "author"),
    ("under_review", "feasible", "staff"),
    ("under_review", "not_feasible", "staff"),
    ("feasible", "accepted", "staff"),
    ("feasible", "under_review", "staff"),
    ("not_feasible", "under_review", "staff"),
    ("submitted", "merged", "staff"),
    ("under_review", "merged", "staff"),
    ("needs_information", "merged", "staff"),
    ("feasible", "merged", "staff"),
    ("not_feasible", "merged", "staff"),
}


def _complete_request(source: str, target: str, actor: str) -> TransitionRequest:
    extra: dict = {}
    transition = next((t for t in rules.TRANSITIONS
                       if (t.source, t.target) == (source, target)), None)
    for need in transition.needs if transition else ():
        extra.update(NEEDS_VALUES[need])
    return TransitionRequest(target, actor, **extra)


@pytest.mark.parametrize("source,target,actor",
                         list(itertools.product(rules.STATUSES, rules.STATUSES, rules.ACTORS)))
def test_every_transition_is_allowed_exactly_when_listed(source, target, actor):
    problems = rules.transition_problems(source, _complete_request(source, target, actor))
    if (source, target, actor) in LEGAL:
        assert problems == []
    else:
        assert problems, f"{source} → {target} by {actor} should be refused"
        assert problems[0].code in ("illegal_transition", "wrong_actor")
        assert problems[0].message  # refused with a reason a person can read


def test_the_table_has_exactly_the_documented_transitions():
    assert {(t.source, t.target, t.actor) for t in rules.TRANSITIONS} == LEGAL


def test_an_illegal_step_names_the_possible_next_steps():
    [reason] = rules.transition_problems("submitted", TransitionRequest("accepted", "staff"))
    assert reason.code == "illegal_transition"
    assert "Under review" in reason.message and "submitted" in reason.message


def test_accepted_and_merged_are_final():
    for final in ("accepted", "merged"):
        assert rules.transitions_from(final, "staff") == []
        assert rules.transitions_from(final, "author") == []


def test_only_the_author_answers_and_only_staff_decide():
    [reason] = rules.transition_problems(
        "needs_information", TransitionRequest("under_review", "staff", answer="x"))
    assert reason.code == "wrong_actor"
    [reason] = rules.transition_problems("submitted", TransitionRequest("under_review", "author"))
    assert reason.code == "wrong_actor"


@pytest.mark.parametrize("source,target,field", [
    ("under_review", "needs_information", "question"),
    ("needs_information", "under_review", "answer"),
    ("under_review", "not_feasible", "reason"),
    ("feasible", "under_review", "reason"),
])
def test_messages_are_required(source, target, field):
    actor = "author" if field == "answer" else "staff"
    for empty in ("", "   \n "):
        [reason] = rules.transition_problems(source, TransitionRequest(target, actor,
                                                                      **{field: empty}))
        assert (reason.field, reason.code) == (field, f"{field}_required")
    too_long = "x" * (rules.MESSAGE_MAX + 1)
    [reason] = rules.transition_problems(source, TransitionRequest(target, actor,
                                                                  **{field: too_long}))
    assert reason.code == f"{field}_too_long"


@pytest.mark.parametrize("cost,code", [(None, "cost_required"), (0, "amount_not_positive"),
                                       (-5, "amount_not_positive"),
                                       (10**15 + 1, "amount_too_large")])
def test_feasible_needs_a_positive_cost(cost, code):
    [reason] = rules.transition_problems("under_review",
                                         TransitionRequest("feasible", "staff", cost=cost))
    assert reason.code == code


@pytest.mark.parametrize("status,is_self,code", [(None, False, "merge_target_missing"),
                                                 ("submitted", True, "merge_into_self"),
                                                 ("merged", False, "merge_target_merged")])
def test_merge_target_rules(status, is_self, code):
    [reason] = rules.transition_problems("submitted", TransitionRequest(
        "merged", "staff", merge_target_status=status, merge_target_is_self=is_self))
    assert reason.code == code


def test_unknown_status_is_refused():
    [reason] = rules.transition_problems("submitted", TransitionRequest("deleted", "staff"))
    assert reason.code == "unknown_status"


def test_authors_edit_only_before_review():
    assert [s for s in rules.STATUSES if rules.author_may_edit(s)] == ["submitted"]


def test_promotion_needs_an_accepted_idea_not_yet_promoted():
    assert rules.can_promote("accepted", False) == []
    assert rules.can_promote("accepted", True)[0].code == "already_promoted"
    for status in set(rules.STATUSES) - {"accepted"}:
        assert rules.can_promote(status, False)[0].code == "not_accepted"


# ---------------------------------------------------------------- submissions

def _draft(**changes):
    fields = {"title": "Brighter lights", "description": "Line one\r\nLine two",
              "category": "Street lighting", "district": "north", "location": "Elm St",
              "cost_estimate": ""}
    fields.update(changes)
    return rules.draft_from(**fields)


def test_a_good_draft_is_cleaned_and_accepted():
    draft, reasons = _draft(title="  Brighter \t lights ", cost_estimate="12,000")
    assert reasons == []
    assert draft.title == "Brighter lights"
    assert draft.description == "Line one\nLine two"
    assert draft.cost_estimate == 12000
    assert rules.draft_problems(draft, rules.DEFAULT_CATEGORIES, ["north"]) == []


def test_html_is_kept_as_text_and_control_characters_go():
    draft, _ = _draft(title="<b>bold</b>\x00", description="<script>alert(1)</script>\x07")
    assert draft.title == "<b>bold</b>"
    assert draft.description == "<script>alert(1)</script>"


@pytest.mark.parametrize("changes,field,code", [
    ({"title": ""}, "title", "title_required"),
    ({"title": "x" * 121}, "title", "title_too_long"),
    ({"description": " "}, "description", "description_required"),
    ({"description": "x" * 5001}, "description", "description_too_long"),
    ({"category": "Casinos"}, "category", "category_unknown"),
    ({"district": "south"}, "district", "district_unknown"),
    ({"location": ""}, "location", "location_required"),
    ({"location": "x" * 301}, "location", "location_too_long"),
    ({"cost_estimate": "0"}, "cost_estimate", "amount_not_positive"),
])
def test_draft_problems_name_their_field(changes, field, code):
    draft, reasons = _draft(**changes)
    reasons += rules.draft_problems(draft, rules.DEFAULT_CATEGORIES, ["north"])
    assert [(r.field, r.code) for r in reasons] == [(field, code)]


@pytest.mark.parametrize("text", ["12.5", "-3", "a lot", "1e6", "99999999999999999"])
def test_cost_estimates_must_be_whole_numbers(text):
    _, reasons = _draft(cost_estimate=text)
    assert [r.code for r in reasons] == ["amount_invalid"]


def test_limit_per_person():
    assert rules.limit_problem(5, None) is None
    assert rules.limit_problem(1, 2) is None
    reason = rules.limit_problem(2, 2)
    assert reason.code == "limit_reached" and "at most 2" in reason.message


def test_category_lists():
    assert rules.parse_category_lines(" Lights \n\n Parks\r\n") == ["Lights", "Parks"]
    assert rules.category_list_problems([])[0].code == "categories_required"
    assert rules.category_list_problems(["A", "a"])[0].code == "category_repeated"
    assert rules.category_list_problems(["x" * 81])[0].code == "category_too_long"
    assert rules.category_list_problems(list(rules.DEFAULT_CATEGORIES)) == []
    assert "Street lighting" in rules.DEFAULT_CATEGORIES


def test_like_pattern_makes_wildcards_literal():
    assert rules.like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_windows_are_half_open():
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    assert rules.in_window(start, end, start)
    assert not rules.in_window(start, end, end)
    assert not rules.in_window(None, None, start)


# ---------------------------------------------------------------- sign-in codes

def test_codes_are_six_digits_and_vary():
    codes = {rules.new_sign_in_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert len(codes) > 150


def test_typed_codes_are_normalised():
    assert rules.normalise_sign_in_code(" 123 456 ") == "123456"
    assert rules.normalise_sign_in_code("123-456") == "123456"
    for bad in ("12345", "1234567", "abcdef", "", None):
        assert rules.normalise_sign_in_code(bad) is None


def test_code_state():
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    expires = now + rules.CODE_LIFETIME
    assert rules.CODE_LIFETIME == dt.timedelta(minutes=10)
    assert rules.code_state(expires, 0, False, now) == "usable"
    assert rules.code_state(expires, rules.MAX_CODE_ATTEMPTS - 1, False, now) == "usable"
    assert rules.code_state(expires, rules.MAX_CODE_ATTEMPTS, False, now) == "exhausted"
    assert rules.code_state(expires, 0, False, expires) == "expired"
    assert rules.code_state(expires, 0, True, now) == "used"
