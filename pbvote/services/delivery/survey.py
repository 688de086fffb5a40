"""The resident perception survey: one round per district and period, anonymous answers.

What was answered (survey_response: answer, comment, day) and that someone answered
(survey_answered: round and account) are two tables with nothing joining them, like ballots
and participation. Nothing is shown while a round is open; closing it appends its counts to
the delivery chain (the answers only when at least SURVEY_MIN_CELL people answered, the total
otherwise), and the open data re-counts the stored answers against that entry. Comments reach
the chain only once moderated."""
from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from pbvote.audit.delivery import SURVEY_MIN_CELL, survey_counts
from pbvote.i18n_hook import N_, _
from pbvote.infra.extensions import db
from pbvote.models import District, SurveyAnswered, SurveyResponse, SurveyRound
from pbvote.rules import delivery as rules
from pbvote.services.delivery.records import (
    DeliveryRefused,
    _refuse,
    append_change,
    require_editor,
    require_state,
    today,
)
from pbvote.services.errors import DomainError, NotFound

KEY = re.compile(r"[^a-z0-9]+")
#: the question as stored (English, in the chain); pages show it translated
DEFAULT_QUESTION = N_("How safe do you feel walking here after dark?")


class AlreadyAnswered(DomainError):
    def __init__(self):
        super().__init__(_("You have already answered this survey round. Each resident "
                           "answers once."), 409)


def list_rounds(cycle) -> list[SurveyRound]:
    return list(db.session.scalars(select(SurveyRound).where(SurveyRound.cycle_id == cycle.id)
                                   .order_by(SurveyRound.id)))


def get_round(cycle, round_id: int) -> SurveyRound:
    survey = db.session.get(SurveyRound, round_id)
    if survey is None or survey.cycle_id != cycle.id:
        raise NotFound(_("There is no such survey round."))
    return survey


def open_round(cycle, actor, district_slug: str, label: str, question: str = "",
               now: dt.datetime | None = None) -> SurveyRound:
    role = require_editor(cycle, actor)
    require_state(cycle)
    district = cycle.district_by_slug(district_slug)
    reasons = [] if district else [("district", _("Choose a district."))]
    reasons += rules.check_text(label, "label", limit=120)
    question = (question or "").strip() or DEFAULT_QUESTION
    reasons += rules.check_text(question, "question", limit=300)
    _refuse(reasons)
    key = KEY.sub("-", f"{district.slug}-{label}".lower()).strip("-")[:36]
    if db.session.scalar(select(exists().where(SurveyRound.cycle_id == cycle.id,
                                               SurveyRound.key == key))):
        raise DeliveryRefused(_("This district already has a survey round with this name."),
                              409, [("label", _("Choose another name for the round."))])
    survey = SurveyRound(cycle_id=cycle.id, district_id=district.id, key=key,
                         label=label.strip(), question=question, is_open=True)
    db.session.add(survey)
    db.session.flush()
    append_change(cycle, role, "survey.opened", {"round": key, "district": district.slug,
                                                 "label": survey.label,
                                                 "question": question}, now)
    return survey


def close_round(cycle, actor, round_id: int, now: dt.datetime | None = None) -> None:
    role = require_editor(cycle, actor)
    survey = get_round(cycle, round_id)
    if not survey.is_open:
        raise DeliveryRefused(_("This survey round is already closed."), 409)
    survey.is_open = False
    db.session.flush()
    cell = survey_counts([row for row in stored_rows(cycle) if row[0] == survey.key]).get(
        survey.key, {"responses": 0, "answers": [0] * 5})
    shown = cell["responses"] >= SURVEY_MIN_CELL
    append_change(cycle, role, "survey.closed", {
        "round": survey.key, "responses": cell["responses"],
        "answers": cell["answers"] if shown else None}, now)


def has_answered(survey: SurveyRound, account) -> bool:
    return db.session.scalar(select(exists().where(
        SurveyAnswered.round_id == survey.id, SurveyAnswered.account_id == account.id)))


def answer(cycle, round_id: int, account, answer_text: str, comment: str = "",
           now: dt.datetime | None = None) -> None:
    """One answer per signed-in resident per round; the second is refused (409)."""
    survey = get_round(cycle, round_id)
    if account is None or not account.has_role("resident"):
        raise DomainError(_("Sign in as a resident to answer the survey."), 403)
    if not survey.is_open:
        raise DeliveryRefused(_("This survey round is closed."), 409)
    value, reasons = rules.check_survey_answer(answer_text, comment or "")
    _refuse(reasons)
    if has_answered(survey, account):
        raise AlreadyAnswered()
    try:
        with db.session.begin_nested():
            db.session.add(SurveyAnswered(round_id=survey.id, account_id=account.id))
    except IntegrityError:
        raise AlreadyAnswered() from None
    day = today(cycle, now)
    comment = (comment or "").strip()
    db.session.add(SurveyResponse(id=secrets.token_hex(16), round_id=survey.id, answer=value,
                                  comment=comment,
                                  comment_status="pending" if comment else "none",
                                  answered_on=dt.date.fromisoformat(day)))
    db.session.flush()


def pending_comments(cycle) -> list[tuple[SurveyResponse, SurveyRound]]:
    return list(db.session.execute(select(SurveyResponse, SurveyRound).join(
        SurveyRound, SurveyRound.id == SurveyResponse.round_id).where(
        SurveyRound.cycle_id == cycle.id, SurveyResponse.comment_status == "pending")
        .order_by(SurveyRound.id, SurveyResponse.id)))


def moderate(cycle, actor, response_id: str, publish: bool,
             now: dt.datetime | None = None) -> None:
    role = require_editor(cycle, actor)
    response = db.session.get(SurveyResponse, response_id)
    survey = db.session.get(SurveyRound, response.round_id) if response else None
    if survey is None or survey.cycle_id != cycle.id:
        raise NotFound(_("There is no such comment."))
    if response.comment_status != "pending":
        raise DeliveryRefused(_("This comment was already moderated."), 409)
    response.comment_status = "published" if publish else "rejected"
    db.session.flush()
    if publish:
        append_change(cycle, role, "survey.comment", {"round": survey.key,
                                                      "text": response.comment}, now)


def stored_rows(cycle) -> list[tuple[str, str, int]]:
    """Every stored response as (round, district, answer), for counting."""
    rows = db.session.execute(select(SurveyRound.key, District.slug, SurveyResponse.answer).join(
        SurveyRound, SurveyRound.id == SurveyResponse.round_id).join(
        District, District.id == SurveyRound.district_id).where(
        SurveyRound.cycle_id == cycle.id))
    return sorted((key, slug, int(value)) for key, slug, value in rows)


def threshold() -> int:
    return SURVEY_MIN_CELL
