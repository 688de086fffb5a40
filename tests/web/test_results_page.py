"""The public results page and document: only from the snapshot, only after publication."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import update

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Cycle
from pbvote.services import publication
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


@pytest.fixture
def published(app):
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            snapshot = publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            facts = {"slug": made.slug, "hash": snapshot.results_hash,
                     "json": snapshot.results_json, "cycle_id": cycle.id}
            db.session.commit()
    return facts


def _visible_text(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_results_are_not_there_before_publication(app, client):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("closed")
        db.session.commit()
    for path in (f"/cycles/{made.slug}/results", f"/cycles/{made.slug}/results.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert "AP-A" not in response.text
    assert "See the results" not in client.get(f"/cycles/{made.slug}").text


def test_results_page_shows_the_snapshot(client, published):
    response = client.get(f"/cycles/{published['slug']}/results")
    assert response.status_code == 200
    html = response.text
    text = _visible_text(html)
    # Approval district: A and B have 3 votes each, B is cheaper (tie by lowest cost) so it is
    # chosen first; A then fits exactly; C and D do not fit any more.
    start = text.index("Approval 2 projects funded")
    approval = text[start:text.index("Knapsack", start)]
    assert "costing $100 of the $100 budget; $0 left over" in approval
    assert approval.index("Project B (AP-B)") < approval.index("Project A (AP-A)")
    assert "Funded (chosen 1)" in approval and "Not funded" in approval
    # Ranked district: Borda points C 9, A 6, B 6; the A/B tie goes to the cheaper B, so C and
    # B are funded ($70 of $100) and A no longer fits.
    start = text.index("Ranked 2 projects funded")
    ranked = text[start:text.index("Cumulative", start)]
    assert "costing $70 of the $100 budget; $30 left over" in ranked
    assert ranked.index("Project C (RA-C)") < ranked.index("Project B (RA-B)")
    assert "It came 1st with 9 points." in ranked
    assert "It came 3rd with 6 points. Its cost of $60 did not fit in the $30 left" in ranked
    # ...explained from the stored analysis: B took the last money A needed, on the tie-break
    assert ("The last money it needed went to Project B: once that project was funded, less "
            "than its cost was left. It had as many points as Project B and came after it on "
            "the tie-break.") in ranked
    assert "Who got what" in ranked and "had none of their projects funded" in ranked
    # Turnout: 6 of 7 eligible in Approval (1 adult on the roll, 6 codes); 19 of 28 overall.
    assert "85.7 %" in text
    assert "19 people took part out of 28 eligible (67.9 %)" in text
    # Rule in plain words, why funded / not funded, round-by-round trace.
    assert "funded from the top while the money lasts" in text
    assert "Why was this funded / not funded?" in text
    assert "Nobody voted for it (0 points), so it could not be funded." in text
    assert "The count round by round" in text
    # Server-rendered, labelled SVG charts; no inline styles (the CSP forbids them).
    assert html.count("<svg") >= 9
    assert "<title id=" in html and "<desc id=" in html
    assert "· funded" in html
    assert " style=" not in html and "<script" not in html
    assert published["hash"] in html


def test_results_document_is_the_snapshot_byte_for_byte(client, published):
    response = client.get(f"/cycles/{published['slug']}/results.json")
    assert response.status_code == 200
    assert response.data.decode() == published["json"]
    assert response.headers["X-Results-SHA256"] == published["hash"]
    assert json.loads(response.data)["cycle"]["slug"] == published["slug"]


def test_the_page_is_served_from_the_snapshot_not_recounted(app, client, published):
    with app.app_context(), write_intent():
        db.session.execute(update(Ballot).values(selections='["AP-D"]')
                           .where(Ballot.cycle_id == published["cycle_id"]))
        db.session.commit()
    text = _visible_text(client.get(f"/cycles/{published['slug']}/results").text)
    assert "It came 1st with 9 points." in text


def test_cycle_page_links_to_published_results(client, published):
    page = client.get(f"/cycles/{published['slug']}")
    assert f'href="/cycles/{published["slug"]}/results"' in page.text
    assert "See the results" in page.text


def test_district_sections_are_rendered_once_per_language_and_page(app, client, published):
    """The district sections (charts, tables, every explanation) are rendered once per
    snapshot, language and page, then served from memory: the 50 ms target at 300,000
    ballots (benchmarks/results_page_bench.py)."""
    from flask import template_rendered

    from pbvote.web import results as results_view

    results_view._SECTIONS_CACHE.clear()
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)
    path = f"/cycles/{published['slug']}/results"
    with template_rendered.connected_to(record, app):
        first = client.get(path).text
        assert rendered.count("results/_districts.html") == 1
        second = client.get(path).text
        assert rendered.count("results/_districts.html") == 1   # served from memory
        spanish = client.get(path, headers={"Accept-Language": "es"}).text
        assert rendered.count("results/_districts.html") == 2   # a language of its own
        report = client.get(f"/cycles/{published['slug']}/results/report").text
        assert rendered.count("results/_districts.html") == 3   # the report opens every part
        client.get(f"/cycles/{published['slug']}/results/report")
        assert rendered.count("results/_districts.html") == 3
    assert _visible_text(first) == _visible_text(second)
    assert "Why was this funded / not funded?" in first
    assert "Why was this funded / not funded?" not in spanish
    assert "<details class=\"why\" open>" in report and "<details class=\"why\" open>" not in first
