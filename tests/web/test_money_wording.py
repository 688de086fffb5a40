"""Issue #17, item 4: money is formatted by Babel everywhere, in the ballot's error messages
too, and shares of a unit are grouped like whole amounts."""
from __future__ import annotations

import html
import re
from fractions import Fraction

import pytest

from pbvote.web.results import money_text
from tests.web.test_resident_path import _submit_ballot, _verify_by_roll
from tests.web.test_results_page import published  # noqa: F401 (a fixture)


@pytest.mark.parametrize("lang, expected", [("en", "$39,910.71"), ("es", "39.910,71\xa0US$")])
def test_a_share_of_a_unit_is_grouped_like_whole_amounts(app, lang, expected):
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert money_text(Fraction(3991071, 100), "USD") == expected


@pytest.mark.parametrize("lang, message", [
    ("en", "Your choices cost $130, which is $30 more than the budget of $100."),
    ("es", "Sus opciones cuestan 130\xa0US$, es decir, 30\xa0US$ más que el presupuesto de "
           "100\xa0US$."),
])
def test_ballot_errors_name_the_currency(app, client, made, lang, message):
    client.set_cookie("pbvote_lang", lang)
    _verify_by_roll(client, made, "knapsack")
    response = _submit_ballot(client, made, {"project": ["KN-A", "KN-B", "KN-C"]})
    assert response.status_code == 422
    assert message in html.unescape(response.text)


def test_raw_rule_parameters_only_in_the_auditors_section(client, published):  # noqa: F811
    page = client.get(f"/cycles/{published['slug']}/results").text
    public, auditors = page.split('<details class="rule-parameters">', 1)
    assert "Parameters:" not in page
    assert "tie_seed=" not in public and "<code>tie_seed</code>" not in public
    assert "<code>tie_seed</code>" in auditors and "Seed for the lot" in auditors


def test_results_page_jumps_to_each_district_and_draws_phone_sized_charts(client,
                                                                           published):  # noqa: F811
    page = client.get(f"/cycles/{published['slug']}/results").text
    nav = page[page.index('<nav class="district-jump"'):]
    nav = nav[:nav.index("</nav>")]
    sections = re.findall(r'<section class="district results-district" '
                          r'aria-labelledby="(results-[\w-]+)"', page)
    assert sections and all(f'href="#{anchor}"' in nav for anchor in sections)
    assert all(f'id="{anchor}"' in page for anchor in sections)
    # every chart comes as a wide drawing and a phone one, 340 units wide: its 14-unit
    # text is drawn at about 14 px on a 375 px screen instead of about 7
    wide = re.findall(r'<svg [^>]*class="chart chart-wide"', page)
    narrow = re.findall(r'<svg [^>]*class="chart chart-narrow"[^>]*viewBox="0 0 (\d+) ', page)
    assert wide and len(narrow) == len(wide) and {int(w) for w in narrow} == {340}
