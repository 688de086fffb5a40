"""Outcome indicators and values, the perception survey and following a project by email,
on SQLite and PostgreSQL, including the bad input the issue lists."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, inspect, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import (
    FollowSubscription,
    OutboxMessage,
    SurveyAnswered,
    SurveyResponse,
)
from pbvote.services.delivery import follow, outcomes, records, survey
from pbvote.services.errors import DomainError
from tests.delivery_helpers import funded_codes, tracked_cycle
from tests.staff_helpers import make_account


@pytest.fixture
def tracked(app_context):
    with write_intent():
        cycle, accounts = tracked_cycle()
        db.session.commit()
    return cycle, accounts


def _chain_length(cycle) -> int:
    return records.delivery_chain(cycle).length


def _indicator(cycle, editor, code=None) -> str:
    code = code or funded_codes(cycle)[0]
    entry = outcomes.define_indicator(cycle, editor, code, {
        "name": "Reported incidents after dark", "unit": "incidents per quarter",
        "area": "Main Street", "source": "police open data", "baseline_period": "2026-Q1",
        "baseline_value": "23", "followup_periods": "2026-Q4, 2027-Q2"})
    return json.loads(entry.entry_json)["data"]["indicator"]


# ----- indicators -------------------------------------------------------------------------
def test_an_indicator_and_its_values_by_hand(tracked):
    cycle, accounts = tracked
    key = _indicator(cycle, accounts["editor"])
    outcomes.add_value(cycle, accounts["editor"], key, "2026-Q4", "17.5", "police open data")
    indicator = records.require_state(cycle)["indicators"][key]
    assert indicator["baseline"] == {"period": "2026-Q1", "value": "23"}
    assert indicator["values"]["2026-Q4"]["value"] == "17.5"
    for period, value in [("2030-Q1", "3"), ("2026-Q4", "-3"), ("2026-Q4", "many")]:
        with pytest.raises(DomainError) as refused:
            outcomes.add_value(cycle, accounts["editor"], key, period, value, "x")
        assert refused.value.status == 422


@pytest.mark.parametrize("form,field", [
    ({"baseline_value": "-1"}, "baseline_value"),
    ({"baseline_value": "ten"}, "baseline_value"),
    ({"followup_periods": ""}, "followup_periods"),
    ({"followup_periods": "2026-Q1"}, "followup_periods"),  # the baseline period itself
    ({"name": ""}, "name"),
])
def test_a_bad_indicator_is_refused_field_by_field(tracked, form, field):
    cycle, accounts = tracked
    good = {"name": "Lights out", "unit": "reports", "area": "Canal St", "source": "311",
            "baseline_period": "2026-Q1", "baseline_value": "41", "followup_periods": "2026-Q4"}
    before = _chain_length(cycle)
    with pytest.raises(DomainError) as refused:
        outcomes.define_indicator(cycle, accounts["editor"], funded_codes(cycle)[0],
                                  {**good, **form})
    assert field in dict(refused.value.reasons)
    assert _chain_length(cycle) == before


def test_csv_values_are_previewed_then_appended_all_together(tracked):
    cycle, accounts = tracked
    key = _indicator(cycle, accounts["editor"])
    data = f"indicator,period,value,source\n{key},2026-Q4,17,police\n{key},2027-Q2,12,police\n"
    preview = outcomes.preview_values(cycle, data.encode())
    assert not preview.errors and len(preview.rows) == 2
    before = _chain_length(cycle)
    assert _chain_length(cycle) == before  # a preview stores nothing
    assert outcomes.import_values(cycle, accounts["editor"], data.encode()) == 2
    assert _chain_length(cycle) == before + 2


@pytest.mark.parametrize("data,line,words", [
    (b"indicator,period,amount,source\n", 1, "header"),
    (b"indicator,period,value,source\n{key},2026-Q4,-3,police\n", 2, "negative"),
    (b"indicator,period,value,source\n{key},2026-Q4,lots,police\n", 2, "number"),
    (b"indicator,period,value,source\nno-such,2026-Q4,3,police\n", 2, "unknown"),
    (b"indicator,period,value,source\n{key},1999,3,police\n", 2, "follow-up"),
    (b"indicator,period,value,source\n{key},2026-Q4,3,police\n{key},2026-Q4,4,p\n", 3, "twice"),
    (b"indicator,period,value,source\n{key},2026-Q4,3\n", 2, "cells"),
    ("indicator,period,value,source\n{key},2026-Q4,3,Polic\xeda\n".encode("latin-1"), 0, "UTF-8"),
])
def test_a_bad_csv_names_the_line_and_stores_nothing(tracked, data, line, words):
    cycle, accounts = tracked
    key = _indicator(cycle, accounts["editor"])
    data = data.replace(b"{key}", key.encode())
    good = f"indicator,period,value,source\n{key},2027-Q2,12,police\n".encode()
    preview = outcomes.preview_values(cycle, data + (good.split(b"\n", 1)[1]
                                                     if line and words != "header" else b""))
    assert preview.errors
    assert any(number == line and words.lower() in message.lower()
               for number, message in preview.errors), preview.errors
    before = _chain_length(cycle)
    with pytest.raises(DomainError) as refused:
        outcomes.import_values(cycle, accounts["editor"], data)
    assert refused.value.status == 422
    assert _chain_length(cycle) == before


# ----- the survey ---------------------------------------------------------------------------
def _residents(count: int):
    from pbvote.models import Account

    return [db.session.get(Account, make_account("resident")[0]) for _ in range(count)]


def test_one_answer_per_resident_and_nothing_links_answer_to_account(tracked):
    cycle, accounts = tracked
    round_ = survey.open_round(cycle, accounts["editor"], cycle.districts[0].slug, "Baseline")
    resident = accounts["resident"]
    survey.answer(cycle, round_.id, resident, "2", "Too dark by the bus stop")
    with pytest.raises(survey.AlreadyAnswered) as again:
        survey.answer(cycle, round_.id, resident, "5")
    assert again.value.status == 409
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    columns = {c["name"] for c in inspect(db.session.connection()).get_columns("survey_response")}
    assert columns == {"id", "round_id", "answer", "comment", "comment_status", "answered_on"}
    assert {c["name"] for c in inspect(db.session.connection()).get_columns("survey_answered")} == \
        {"round_id", "account_id"}
    response = db.session.scalar(select(SurveyResponse))
    assert isinstance(response.answered_on, dt.date) and len(response.id) == 32
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswered)) == 1
    for who in ("editor", "auditor"):
        with pytest.raises(DomainError) as refused:
            survey.answer(cycle, round_.id, accounts[who], "3")
        assert refused.value.status == 403


@pytest.mark.parametrize("answers,shown", [(9, False), (10, True)])
def test_results_only_from_ten_responses(tracked, answers, shown):
    cycle, accounts = tracked
    round_ = survey.open_round(cycle, accounts["editor"], cycle.districts[0].slug, "Baseline")
    for number, resident in enumerate(_residents(answers)):
        survey.answer(cycle, round_.id, resident, str(number % 5 + 1))
    state = records.require_state(cycle)
    assert state["surveys"][round_.key]["answers"] is None  # nothing while open
    survey.close_round(cycle, accounts["editor"], round_.id)
    figures = records.require_state(cycle)["surveys"][round_.key]
    assert figures["responses"] == answers
    assert (figures["answers"] is not None) == shown
    if shown:
        assert sum(figures["answers"]) == answers
    with pytest.raises(DomainError) as closed:
        survey.answer(cycle, round_.id, _residents(1)[0], "3")
    assert closed.value.status == 409


def test_comments_are_published_only_after_moderation(tracked):
    cycle, accounts = tracked
    round_ = survey.open_round(cycle, accounts["editor"], cycle.districts[0].slug, "Baseline")
    people = _residents(10)
    for number, resident in enumerate(people):
        survey.answer(cycle, round_.id, resident, "4", "Better lights" if number == 0 else
                      ("My neighbour Bob" if number == 1 else ""))
    comments = survey.pending_comments(cycle)
    assert [r.comment for r, _ in comments] == sorted(["Better lights", "My neighbour Bob"]) or \
        len(comments) == 2
    for response, _round in comments:
        survey.moderate(cycle, accounts["editor"], response.id, response.comment ==
                        "Better lights")
    survey.close_round(cycle, accounts["editor"], round_.id)
    from pbvote.audit.delivery import survey_figures

    shown = survey_figures(records.require_state(cycle)["surveys"][round_.key])
    assert shown["comments"] == ["Better lights"]
    with pytest.raises(DomainError):
        survey.moderate(cycle, accounts["editor"], comments[0][0].id, True)


# ----- following a project -------------------------------------------------------------------
def _token_from_last_mail(prefix: str) -> str:
    body = db.session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id.desc())).first()
    link = next(word for word in body.split() if "token=" in word and prefix in word)
    return link.split("token=", 1)[1]


def test_double_opt_in_updates_and_one_click_unsubscribe(tracked):
    cycle, accounts = tracked
    state = records.require_state(cycle)
    project = state["projects"][funded_codes(cycle)[0]]
    follow.request_follow(cycle, project, "Someone@Example.org")
    subscription = db.session.scalar(select(FollowSubscription))
    assert subscription.status == "pending" and subscription.email == "someone@example.org"
    assert "token" not in {c.key for c in FollowSubscription.__table__.columns}
    mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    records.post_update(cycle, accounts["editor"], project["project"], "Before confirming")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == mails
    token = _token_from_last_mail("/follow/confirm")
    follow.confirm_follow(cycle, token)
    assert subscription.status == "confirmed"
    with pytest.raises(DomainError) as reused:
        follow.confirm_follow(cycle, token)
    assert reused.value.status == 404
    records.post_update(cycle, accounts["editor"], project["project"], "Lamps are in")
    last = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert last.recipient == "someone@example.org" and "Lamps are in" in last.body
    unsubscribe = _token_from_last_mail("/unsubscribe")
    follow.unsubscribe(unsubscribe)
    assert subscription.status == "unsubscribed"
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    records.post_update(cycle, accounts["editor"], project["project"], "More news")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == count


def test_unknown_and_expired_tokens_are_refused(tracked):
    cycle, _accounts = tracked
    project = records.require_state(cycle)["projects"][funded_codes(cycle)[0]]
    follow.request_follow(cycle, project, "late@example.org",
                          now=utcnow() - dt.timedelta(hours=follow.CONFIRM_HOURS + 1))
    token = _token_from_last_mail("/follow/confirm")
    with pytest.raises(DomainError) as expired:
        follow.confirm_follow(cycle, token)
    assert expired.value.status == 410
    for bad in ("", "nope", "x" * 500):
        with pytest.raises(DomainError) as unknown:
            follow.confirm_follow(cycle, bad)
        assert unknown.value.status == 404
        with pytest.raises(DomainError):
            follow.unsubscribe(bad)
    with pytest.raises(DomainError) as bad_email:
        follow.request_follow(cycle, project, "not-an-address")
    assert bad_email.value.status == 422


def test_authors_of_the_ideas_behind_a_funded_project_are_offered_to_follow_it(app_context):
    from pbvote.models import Account, Project, Proposal, ProposalProjectLink
    from pbvote.services.publication import published_results
    from tests.delivery_helpers import people, published_cycle

    with write_intent():
        cycle = published_cycle()
        accounts = people()
        author = accounts["resident"]
        funded = {item["project"] for item in records.funded_projects(
            json.loads(published_results(cycle).results_json))}
        project = db.session.scalar(select(Project).where(Project.cycle_id == cycle.id,
                                                          Project.code.in_(funded)))
        idea = Proposal(cycle_id=cycle.id, author_id=author.id, title="Lights please",
                        description="Dark street", category="street_lighting", location="Here",
                        status="accepted")
        db.session.add(idea)
        db.session.flush()
        db.session.add(ProposalProjectLink(project_id=project.id, proposal_id=idea.id))
        db.session.flush()
        records.open_delivery(cycle, accounts["admin"])
        offered = db.session.scalar(select(FollowSubscription).where(
            FollowSubscription.email == db.session.get(Account, author.id).email))
        assert offered is not None and offered.status == "pending"
        assert offered.project_code == project.code
        mail = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == author.email)).first()
        assert "/follow/confirm?token=" in mail.body
