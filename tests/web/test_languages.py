"""Languages: the switcher and its cookie, Accept-Language, <html lang>, translated resident
pages and messages from the pure rules, and money, numbers and dates per locale."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import publication
from pbvote.web import filters
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.proposal_helpers import code_from_outbox, enter_code, latest_mail, request_code
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account
from tests.web.test_results_page import _visible_text


@pytest.fixture
def published(app) -> str:
    """Slug of a closed cycle whose count is published (as in test_results_page)."""
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            db.session.commit()
    return made.slug


def _html_lang(page) -> str:
    return re.search(r'<html lang="([^"]+)"', page.text).group(1)


def test_english_by_default_with_a_switcher_naming_each_language_in_itself(client, made):
    page = client.get(f"/cycles/{made.slug}")
    assert _html_lang(page) == "en"
    assert "Total budget:" in page.text
    for name, tag in (("English", "en"), ("Español", "es"), ("简体中文", "zh-Hans")):
        assert re.search(rf'lang="{tag}" hreflang="{tag}"[^>]*>{name}</a>', page.text)
    assert 'aria-current="true">English</a>' in page.text


def test_accept_language_picks_the_default(client, made):
    page = client.get(f"/cycles/{made.slug}", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert _html_lang(page) == "es"
    assert "Presupuesto total:" in page.text
    for header in ("zh-CN,zh;q=0.9,en;q=0.5", "zh-Hans", "zh"):
        page = client.get("/", headers={"Accept-Language": header})
        assert _html_lang(page) == "zh-Hans", header
    assert _html_lang(client.get("/", headers={"Accept-Language": "fr,de;q=0.5"})) == "en"
    # Traditional Chinese is not Simplified: fall through to the next choice
    assert _html_lang(client.get("/", headers={"Accept-Language": "zh-TW,es;q=0.5"})) == "es"


def test_switcher_sets_a_year_long_lax_cookie_and_goes_back(client, made):
    back = f"/cycles/{made.slug}?x=1"
    response = client.get("/language", query_string={"lang": "es", "next": back})
    assert response.status_code == 303 and response.headers["Location"] == back
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=es;")
    assert "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    page = client.get(f"/cycles/{made.slug}", headers={"Accept-Language": "en"})
    assert _html_lang(page) == "es"  # the remembered choice wins over the header
    assert "Presupuesto total:" in page.text and 'aria-current="true">Español</a>' in page.text

    client.get("/language", query_string={"lang": "zh_Hans", "next": "/"})
    page = client.get(f"/cycles/{made.slug}")
    assert _html_lang(page) == "zh-Hans" and "总预算：" in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", ""])
def test_switcher_only_goes_back_to_this_site(client, target):
    response = client.get("/language", query_string={"lang": "es", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_unknown_language_changes_nothing(client):
    response = client.get("/language", query_string={"lang": "xx", "next": "/"})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    client.set_cookie(LANGUAGE_COOKIE, "xx")
    assert _html_lang(client.get("/", headers={"Accept-Language": "es"})) == "es"


def test_ballot_reasons_and_rules_come_back_in_spanish(client, made):
    client.set_cookie(LANGUAGE_COOKIE, "es")
    page = client.get(f"/cycles/{made.slug}/vote/approval/verify")
    person = made.people["approval"]
    page = client.post(f"/cycles/{made.slug}/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}, follow_redirects=True)
    assert page.status_code == 200 and _html_lang(page) == "es"
    assert "Elija hasta 2 proyectos." in page.text  # the ballot rule, from pbvote.rules.ballots
    # what the live choice counter (ballot.js) says, handed to the script in Spanish
    assert 'data-say-too-many-choices="Eligió {n} proyectos; puede elegir como máximo {k}."' \
        in page.text
    empty = client.post(f"/cycles/{made.slug}/vote/ballot",
                        data={"csrf_token": csrf_token(page.text)})
    assert empty.status_code == 422
    assert "No ha elegido ningún proyecto." in empty.text
    assert "You have not chosen any projects" not in empty.text


def test_error_pages_are_translated(client):
    client.set_cookie(LANGUAGE_COOKIE, "zh_Hans")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "此页面不存在。" in page.text
    client.set_cookie(LANGUAGE_COOKIE, "es")
    assert "Esta página no existe." in client.get("/no-such-page").text


@pytest.mark.parametrize("locale", ["en", "es", "zh_Hans"])
def test_money_numbers_and_dates_follow_the_locale(app, locale):
    moment = dt.datetime(2027, 7, 9, 18, 30, tzinfo=dt.UTC)
    with app.test_request_context("/", headers={"Cookie": f"{LANGUAGE_COOKIE}={locale}"}):
        assert app.jinja_env.filters["number"](1234567) == format_decimal(1234567, locale=locale)
        # 18:30 UTC is 13:30 in Chicago in July (CDT): the clock of the cycle's zone
        assert filters.local_datetime(moment, "America/Chicago") == (
            f"{format_date(dt.date(2027, 7, 9), 'medium', locale=locale)}, "
            f"{format_time(dt.time(13, 30), 'short', locale=locale)}")
    expected = {"en": "$1,234,567", "es": "1.234.567\xa0US$", "zh_Hans": "US$1,234,567"}[locale]
    with app.test_request_context("/", headers={"Cookie": f"{LANGUAGE_COOKIE}={locale}"}):
        assert filters.money(1234567, "USD") == expected


@pytest.mark.parametrize("locale, came_first, did_not_fit", [
    # _visible_text folds the no-break space Babel puts before "US$" into a plain space
    ("es", "Quedó en 1.º lugar con 9 puntos.",
     "Quedó en 3.º lugar con 6 puntos. Su costo de 60 US$ no cabía en los 30 US$"),
    ("zh_Hans", "它以 9 分 排名第1。", "它以 6 分 排名第3。 其费用 US$60 超出了"),
])
def test_why_funded_reads_in_the_residents_language(client, published, locale, came_first,
                                                    did_not_fit):
    client.set_cookie(LANGUAGE_COOKIE, locale)
    text = _visible_text(client.get(f"/cycles/{published}/results").text)
    assert came_first in text and did_not_fit in text
    assert "It came 1st" not in text
    # the cache holds one rendering per language: English is still English afterwards
    client.set_cookie(LANGUAGE_COOKIE, "en")
    assert "It came 1st with 9 points." in client.get(f"/cycles/{published}/results").text


def test_eligibility_reasons_come_back_in_chinese(client, made):
    client.set_cookie(LANGUAGE_COOKIE, "zh_Hans")
    page = client.get(f"/cycles/{made.slug}/vote/approval/verify")
    person = made.people["approval"]
    response = client.post(f"/cycles/{made.slug}/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": "Nobody-" + person.last_name,
        "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    assert response.status_code in (403, 422)
    assert "根据您提供的信息，我们在选民名册上找不到您。" in response.text
    assert "We could not find you" not in response.text


def test_the_sign_in_code_email_and_refusals_follow_the_readers_language(app, client):
    client.set_cookie(LANGUAGE_COOKIE, "es")
    assert request_code(client, "ana@example.org").status_code == 302
    with app.app_context():
        message = latest_mail("ana@example.org")
        assert message.subject == "Su código de inicio de sesión de pbvote"
        assert message.body.startswith("Su código de inicio de sesión es ")
    code = code_from_outbox(app, "ana@example.org")
    refused = enter_code(client, f"{(int(code) + 1) % 1_000_000:06d}")
    assert refused.status_code == 401 and "Ese código no es correcto" in refused.text
    blank = client.post("/sign-in", data={"csrf_token": csrf_token(client.get("/sign-in").text),
                                          "email": ""})
    assert blank.status_code == 422
    assert "Escriba una dirección de correo electrónico." in blank.text


def test_switcher_links_go_back_to_the_path_without_its_query(client):
    page = client.get("/staff/login", query_string={"next": "https://evil.example/"})
    assert 'href="/language?lang=es&amp;next=/staff/login"' in page.text
    assert "evil" not in page.text
