"""Issue #17, item 2: the date-of-birth hint, placeholder and parsing agree in every language,
with and without JavaScript: a text box, never the browser's own date control."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from pbvote.rules.dates import parse_typed_date
from tests.conftest import csrf_token

EXAMPLES = {"en": ("1984-03-27", "03/27/1984"), "es": ("1984-03-27", "27/03/1984"),
            "zh_Hans": ("1984-03-27", "1984年3月27日")}


@pytest.mark.parametrize("locale", list(EXAMPLES))
def test_every_example_in_the_hint_parses_to_the_same_day(locale):
    for typed in EXAMPLES[locale]:
        assert parse_typed_date(typed, locale) == dt.date(1984, 3, 27), typed


def test_malformed_dates_are_refused_not_guessed():
    for typed in ("12/07/60606", "31/02/1984", "1984-13-01", "27/03/84", "yesterday", ""):
        assert parse_typed_date(typed, "es") is None, typed
    assert parse_typed_date("27/03/1984", "en") is None  # month 27 in US order


@pytest.mark.parametrize("locale", list(EXAMPLES))
def test_the_page_shows_a_text_box_whose_hint_parses(app, client, made, locale):
    client.set_cookie("pbvote_lang", locale)
    url = f"/cycles/{made.slug}/vote/approval/verify"
    page = client.get(url).text
    box = re.search(r'<input[^>]*id="roll-birth_date"[^>]*>', page).group(0)
    assert 'type="text"' in box and 'type="date"' not in box
    assert 'autocomplete="bday"' in box
    hint = html.unescape(re.search(r'id="roll-birth_date-hint">([^<]+)<', page).group(1))
    for example in EXAMPLES[locale]:
        assert example in hint, (locale, hint)
    person = made.people["approval"]
    birth = person.birth_date
    typed = {"en": f"{birth.month:02d}/{birth.day:02d}/{birth.year}",
             "es": f"{birth.day:02d}/{birth.month:02d}/{birth.year}",
             "zh_Hans": f"{birth.year}年{birth.month}月{birth.day}日"}[locale]
    response = client.post(url, data={
        "method": "roll", "roll-csrf_token": csrf_token(page), "roll-last_name": person.last_name,
        "roll-birth_date": typed, "roll-postcode_or_roll": person.postcode})
    assert response.status_code == 302, response.text


def test_an_unreadable_date_says_so_and_keeps_what_was_typed(client, made):
    url = f"/cycles/{made.slug}/vote/approval/verify"
    page = client.get(url).text
    response = client.post(url, data={
        "method": "roll", "roll-csrf_token": csrf_token(page), "roll-last_name": "Smith",
        "roll-birth_date": "12/07/60606", "roll-postcode_or_roll": "A1"})
    assert response.status_code == 422
    assert "Not a valid date" in response.text and 'value="12/07/60606"' in response.text
