"""The count's explanation, the rule descriptions, service refusals and idea emails in the
reader's language, while everything stored or published stays as it was (English engine
text, language-neutral data, the same results hash whatever the language of the request)."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, OutboxMessage
from pbvote.services import proposals, publication
from pbvote.tally import Instance, Profile, explain, run_rule
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.proposal_helpers import make_intake_cycle
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account
from tests.web.test_languages import published  # noqa: F401  (fixture)
from tests.web.test_results_page import _visible_text

#: sentences the engine and the registry write in English
ENGLISH = ["Rule: ", "Budget: ", "-> funded", "were tied", "decided by lowest cost",
           "Projects are ranked by their number of votes", "Total cost: ", "Selected ("]
TRANSLATED = {
    # the rule's name and raw parameters are the auditors' (their trace page shows "Regla:")
    "es": ["Presupuesto: ", "-> financiado; quedan", "empataron",
           "(decidido por: menor costo)",
           "Los proyectos se ordenan por su número de votos (o puntos) y se financian",
           "Costo total: ", "Seleccionados ("],
    "zh_Hans": ["预算：", "-> 获得资助；剩余", "打成平局", "（依据：费用最低）",
                "项目按票数（或分数）排序，从最高的开始资助", "总费用：", "入选（"],
}


def _cookie(locale: str) -> dict:
    return {"Cookie": f"{LANGUAGE_COOKIE}={locale}"}


@pytest.mark.parametrize("locale", ["es", "zh_Hans"])
def test_results_page_explains_the_count_in_the_readers_language(client, published,  # noqa: F811
                                                                  locale):
    client.set_cookie(LANGUAGE_COOKIE, locale)
    text = unescape(_visible_text(client.get(f"/cycles/{published}/results").text))
    for sentence in TRANSLATED[locale]:
        assert sentence in text
    for sentence in ENGLISH:
        assert sentence not in text
    client.set_cookie(LANGUAGE_COOKIE, "en")
    english = unescape(_visible_text(client.get(f"/cycles/{published}/results").text))
    assert "Budget: " in english and "decided by lowest cost" in english


def test_audit_trace_reads_in_spanish_and_keeps_the_recorded_json(app, published):  # noqa: F811
    with app.app_context():
        _, email, password, secret = make_account("auditor")
    auditor = app.test_client()
    login(auditor, email, password, secret)
    auditor.set_cookie(LANGUAGE_COOKIE, "es")
    response = auditor.get(f"/audit/cycles/{published}/trace")
    assert response.status_code == 200
    page = unescape(response.text)
    assert "Regla: greedy" in page and "Empates:" in page
    assert "Rule: greedy" not in page and "Ties:" not in page
    # the trace as recorded is data, shown as stored: the engine's own tie wording
    assert '"decided_by": "lowest cost"' in page and "greedy order: equal score" in page


def test_publishing_from_a_spanish_request_stores_the_same_results(app):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("closed")
        db.session.commit()
    hashes = {}
    for locale in ("en", "es", "zh_Hans"):
        with app.test_request_context("/", headers=_cookie(locale)):
            cycle = db.session.get(Cycle, made.cycle_id)
            hashes[locale] = publication.results_text_and_hash(
                publication.compute_results(cycle))[1]
    assert hashes["es"] == hashes["en"] == hashes["zh_Hans"]


def _every_kind_of_step() -> list[tuple]:
    """Counts whose traces hold every kind of step and tie the explanation renders."""
    inst = Instance.from_plain(budget=120, projects=[
        {"id": pid, "cost": cost, "name": pid} for pid, cost in
        (("A", 60), ("B", 60), ("C", 40), ("D", 0), ("E", 30), ("F", 30), ("G", 500),
         ("H", 10))] + [{"id": "W", "cost": 20, "name": "W", "withdrawn": True}])
    approval = Profile.approval(inst, [{"A"}] * 6 + [{"A", "B"}] + [{"C"}] * 4
                                + [{"E"}, {"F"}, {"E", "F"}, {"D"}, {"G"}])
    small = Instance.from_plain(budget=7, projects=[("x", 5), ("y", 5), ("z", 2), ("w", 3)])
    points = Profile.cumulative(small, [{"x": 2}, {"y": 1}, {"y": 1}, {"z": 1, "w": 1}])
    counts = []
    for rule, params in [
            ("greedy", {}), ("greedy-no-skip", {}), ("greedy-threshold", {"min_score": 2}),
            ("greedy-density", {}), ("phragmen", {}), ("phragmen", {"on_unaffordable": "skip"}),
            ("equalshares", {"utilitarian_completion": True, "comparison": "exclusion_ratio"}),
            ("equalshares/add1", {}), ("equalshares/add1-comparison", {})]:
        counts.append((inst, run_rule(inst, approval, rule, params)))
    for rule in ("greedy", "equalshares", "equalshares/add1"):
        counts.append((small, run_rule(small, points, rule)))
    roomy = Instance.from_plain(budget=100, projects=[("p", 30), ("q", 40)])
    counts.append((roomy, run_rule(roomy, Profile.approval(roomy, [{"p"}, {"q"}]),
                                   "equalshares/add1")))
    return counts


@pytest.mark.parametrize("locale", ["es", "zh_Hans"])
def test_every_line_of_the_explanation_is_translated(app, locale):
    counts = _every_kind_of_step()
    english = [explain(outcome, inst) for inst, outcome in counts]
    with app.test_request_context("/", headers=_cookie(locale)):
        translated = [explain(outcome, inst) for inst, outcome in counts]
    kinds = {step["type"] for _, outcome in counts for step in outcome.trace}
    assert kinds >= {"greedy", "withdrawn", "no_support", "mes_start", "mes_round", "mes_end",
                     "add1", "add1_skipped", "completion", "comparison", "phragmen_round",
                     "phragmen_stop"}
    assert any(outcome.ties for _, outcome in counts)
    for before, after in zip(english, translated):
        pairs = list(zip(before.splitlines(), after.splitlines(), strict=True))
        untranslated = [line for line, other in pairs if line.strip() and line == other]
        assert untranslated == []
    # outside a request (CLI, verifier) the explanation is English, as before
    assert [explain(outcome, inst) for inst, outcome in counts] == english


def test_rule_descriptions_on_the_district_form_follow_the_language(app):
    from pbvote.tally import describe_rules

    with app.test_request_context("/", headers=_cookie("es")):
        greedy = next(rule for rule in describe_rules() if rule["name"] == "greedy")
    assert greedy["description"].startswith("Los proyectos se ordenan por su número de votos")
    assert greedy["params"][0]["description"].startswith("Saltar un proyecto que no cabe")
    assert next(rule for rule in describe_rules() if rule["name"] == "greedy")[
        "description"].startswith("Projects are ranked")


def test_a_refusal_from_a_service_reaches_the_page_translated(client):
    client.set_cookie(LANGUAGE_COOKIE, "es")
    page = client.get("/cycles/no-such-cycle")
    assert page.status_code == 404
    assert "No hay ningún ciclo de presupuesto en esta dirección." in page.text
    client.set_cookie(LANGUAGE_COOKIE, "zh_Hans")
    assert "此地址没有预算周期。" in client.get("/cycles/no-such-cycle").text


def test_idea_emails_are_written_in_the_language_of_the_request(app):
    with app.app_context():
        cycle_id = make_intake_cycle()
        resident_id, resident_email = make_account("resident")[:2]
        staff_id = make_account("staff")[0]
    fields = {"title": "Light the underpass", "description": "It is dark.",
              "category": "Street lighting", "district": "approval", "location": "Mill Road",
              "cost_estimate": "15000"}
    with app.test_request_context("/", headers=_cookie("es")), write_intent():
        cycle = db.session.get(Cycle, cycle_id)
        proposal = proposals.submit(cycle, db.session.get(Account, resident_id), fields)
        staff = db.session.get(Account, staff_id)
        proposals.change_status(proposal, staff, "under_review")
        proposals.change_status(proposal, staff, "feasible", cost=18000, reason="Dos farolas")
        number, cycle_name = proposal.id, cycle.name
        db.session.commit()
    with app.app_context():
        mails = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == resident_email).order_by(OutboxMessage.id)))
    assert [m.subject for m in mails] == [f"Su idea n.º {number}: recibida",
                                          f"Su idea n.º {number}: en revisión",
                                          f"Su idea n.º {number}: considerada viable"]
    body = mails[-1].body
    assert body.startswith(f"Su idea n.º {number}, «Light the underpass», en {cycle_name}:")
    assert "El personal estima su costo en 18.000" in body and "Motivo: Dos farolas" in body
    assert body.endswith("Inicie sesión en pbvote y abra «Mis ideas» para ver todo su historial.")
    for mail in mails:
        assert "Your idea" not in mail.subject + mail.body and "Sign in" not in mail.body
