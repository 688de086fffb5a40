"""Issue #17: "How the count works" per cycle, with a worked example counted by the real
engine, and the statement pages every footer links to."""
from __future__ import annotations

import html

import pytest

from pbvote.rules.worked_example import worked_example


@pytest.mark.parametrize("kind, rule, params, funded", [
    ("approval", "greedy", {}, ["Street lights", "Youth evenings"]),
    ("knapsack", "equalshares/add1", {}, ["Street lights", "Youth evenings"]),
    ("ranked", "greedy", {"scoring_fn": "borda"}, ["Street lights", "Youth evenings"]),
    ("cumulative", "greedy", {}, ["Youth evenings", "Safer crossing"]),
])
def test_the_worked_example_is_counted_by_the_engine(kind, rule, params, funded):
    example = worked_example(kind, rule, params)
    assert example.funded == funded
    assert example.total_cost <= example.budget == 100
    assert len(example.ballots) == 5 and example.lines
    assert not any("Parameters:" in line for line in example.lines)
    assert not any(" 0 supporters" in line or "1 supporters" in line for line in example.lines)


@pytest.mark.parametrize("locale, words", [
    ("en", ["How the count works", "Street lights", "Funded: Street lights"]),
    ("es", ["Cómo funciona el recuento", "Alumbrado de calle"]),
    ("zh_Hans", ["计票如何进行", "路灯"]),
])
def test_the_how_it_works_page_in_each_language(client, made, locale, words):
    client.set_cookie("pbvote_lang", locale)
    response = client.get(f"/cycles/{made.slug}/how-it-works")
    assert response.status_code == 200
    page = html.unescape(response.text)
    for word in words:
        assert word in page, (locale, word)
    for district in ("approval", "knapsack", "ranked", "cumulative"):
        assert f'id="how-{district}"' in page
    link = f'href="/cycles/{made.slug}/how-it-works"'
    assert link in client.get(f"/cycles/{made.slug}").text


def test_every_footer_links_the_statements_and_contact_comes_from_configuration(app, client,
                                                                               made):
    page = client.get(f"/cycles/{made.slug}").text
    for path in ("/accessibility", "/privacy", "/contact"):
        assert f'href="{path}"' in page
        assert client.get(path).status_code == 200
    app.config["PB_OFFICE"] = {"name": "Test Office", "email": "office@test.example"}
    contact = client.get("/contact").text
    assert "Test Office" in contact and "mailto:office@test.example" in contact
