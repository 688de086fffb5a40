"""The resident perception survey: signed-in residents answer each round once."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from pbvote.rules.delivery import SURVEY_LABELS
from pbvote.services.cycles import get_cycle
from pbvote.services.delivery import survey
from pbvote.services.errors import DomainError
from pbvote.web.delivery_view import reasons_list, survey_question
from pbvote.web.forms.base import refuse_control_characters_in
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import set_policy
from pbvote.web.my_ideas import require_resident

bp = Blueprint("delivery_survey", __name__, url_prefix="/cycles/<slug>/delivery/survey")
set_policy(bp.name, require_resident)


def _form(cycle, round_, status=200, reasons=(), done=False, already=False, values=None):
    district = cycle.district_by_id(round_.district_id)
    return render_template("delivery/survey.html", cycle=cycle, round=round_,
                           district=district, labels=SURVEY_LABELS,
                           question=survey_question(round_.question), form=CsrfOnlyForm(),
                           reasons=reasons_list(reasons), done=done, already=already,
                           values=values or {}), status


@bp.get("/<int:round_id>")
def answer(slug: str, round_id: int):
    cycle = get_cycle(slug)
    round_ = survey.get_round(cycle, round_id)
    return _form(cycle, round_, already=survey.has_answered(round_, current_user))


@bp.post("/<int:round_id>")
def answer_post(slug: str, round_id: int):
    cycle = get_cycle(slug)
    round_ = survey.get_round(cycle, round_id)
    values = {"answer": request.form.get("answer", ""), "comment": request.form.get("comment", "")}
    try:
        refuse_control_characters_in(request.form, ("comment",))
        survey.answer(cycle, round_id, current_user._get_current_object(), values["answer"],
                      values["comment"])
    except survey.AlreadyAnswered as error:
        return _form(cycle, round_, error.status, [("answer", error.message)], already=True)
    except DomainError as error:
        return _form(cycle, round_, error.status, error.reasons or [("answer", error.message)],
                     values=values)
    return _form(cycle, round_, done=True)
