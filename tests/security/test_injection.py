"""ASVS 4.0.3 V5.3.4 (parameterised queries: no SQL injection), V5.1.3/V5.1.4 (input is
validated: odd numbers and characters are clean 4xx or ignored, never a server error).

Every search field and filter — the idea board (q, category, district, status, sort, page),
the staff review queue (q, category, district, status, page), the audit log browser (q, kind,
first, last, page) and the desk roll lookup (name, last_name, birth_date, postcode_or_roll) —
gets SQL-injection strings, huge and non-ASCII digits. Each answer is below 500, finds nothing
the strings do not literally contain, and leaves every table unchanged (the fingerprint).
The idea board's own injection test is tests/web/test_ideas_pages.py
(test_board_search_filter_sort_and_injection_strings).
"""
from __future__ import annotations

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests import factories
from tests.conftest import csrf_token
from tests.proposal_helpers import make_intake_cycle
from tests.security.helpers import changed_tables, fingerprint, visitor_client

INJECTIONS = (
    "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"", "1; DROP TABLE roll_entry; --",
    "x' UNION SELECT email, password_hash FROM account --", "%' AND 1=0 UNION SELECT 1 --",
    "\\'; SELECT pg_sleep(5); --", "' || (SELECT sqlite_version()) || '", "%", "_", "\\",
    "\x00", "😀' OR ''='", "Tester1' --",
)
NUMBERS = ("-1", "0", "99999999999999999999999999", "²", "١٢", "1e9", " 1 ", "0x10")

#: path → the query parameters it reads
SEARCHES = {
    "/cycles/test-cycle/ideas": ("q", "category", "district", "status", "sort", "page"),
    "/staff/cycles/test-cycle/ideas": ("q", "category", "district", "status", "page"),
    "/audit/cycles/test-cycle/log": ("q", "kind", "first", "last", "page"),
}
#: searches posted (personal data stays out of addresses): form page → (action, fields)
POSTED_SEARCHES = {
    "/staff/cycles/test-cycle/desk/": ("/staff/cycles/test-cycle/desk/lookup",
                                       ("name", "last_name", "birth_date", "postcode_or_roll")),
}


@pytest.fixture
def site(app):
    with app.app_context():
        make_intake_cycle()
    return app


def test_injection_strings_in_every_search_field_are_harmless(site):
    app = site
    admin = visitor_client(app, "admin", factories.TestCycle(0, "test-cycle", {}, {}))
    before = fingerprint(app)
    failures = []
    for path, params in SEARCHES.items():
        for param in params:
            for value in INJECTIONS + NUMBERS:
                response = admin.get(path, query_string={param: value})
                if response.status_code >= 500:
                    failures.append(f"{path}?{param}={value!r}: {response.status_code}")
                elif response.status_code == 200 and param in ("name", "last_name", "q") \
                        and "Tester1" in response.text and "Tester1" not in value:
                    failures.append(f"{path}?{param}={value!r} found a roll entry")
    for page, (action, params) in POSTED_SEARCHES.items():
        token = csrf_token(admin.get(page).text)
        for param in params:
            for value in INJECTIONS + NUMBERS:
                response = admin.post(action, data={"csrf_token": token, param: value})
                if response.status_code >= 500:
                    failures.append(f"POST {action} {param}={value!r}: {response.status_code}")
                elif response.status_code == 200 and param in ("name", "last_name") \
                        and "Tester1" in response.text and "Tester1" not in value:
                    failures.append(f"POST {action} {param}={value!r} found a roll entry")
    assert not failures, "\n".join(failures)
    assert not changed_tables(before, fingerprint(app))


def test_an_always_true_condition_finds_no_idea(site):
    app = site
    from sqlalchemy import select

    from pbvote.models import Account, Cycle
    from pbvote.services import proposals

    with app.app_context(), write_intent():
        author = Account(email="ada@example.org", display_name="Ada", role="resident",
                         is_active=True, failed_attempts=0, totp_last_timecode=0)
        db.session.add(author)
        cycle = db.session.scalar(select(Cycle).where(Cycle.slug == "test-cycle"))
        proposals.submit(cycle, author, {
            "title": "Light the underpass", "description": "It is dark.",
            "category": "Street lighting", "district": "approval", "location": "Mill Road",
            "cost_estimate": "15000"})
        db.session.commit()
    client = app.test_client()
    assert "Light the underpass" in client.get("/cycles/test-cycle/ideas").text
    for value in ("' OR '1'='1", "zzz' OR 1=1 --", "zzz%' OR '%'='"):
        page = client.get("/cycles/test-cycle/ideas", query_string={"q": value})
        assert page.status_code == 200 and "Light the underpass" not in page.text, value


def test_nul_characters_are_a_clean_400_everywhere(site):
    """PostgreSQL refuses NUL in text; it must never reach a query as a 500. In an address
    it is a 400; in a form, a 422 naming the field (pbvote.web.limits)."""
    from tests.conftest import csrf_token

    client = site.test_client()
    assert client.get("/cycles/test%00cycle").status_code == 400
    assert client.get("/api/v1/cycles/x%00y/board/ABCDE-12345").status_code == 400
    assert client.get("/cycles/test-cycle/board/check", query_string={
        "receipt": "AB\x00CD"}).status_code == 400
    page = client.get("/sign-in")
    assert client.post("/sign-in", data={"csrf_token": csrf_token(page.text),
                                         "email": "a\x00@example.org"}).status_code == 422
    login = client.get("/staff/login")
    assert client.post("/staff/login", data={"csrf_token": csrf_token(login.text),
                                             "email": "a@example.org",
                                             "password": "pass\x00word"}).status_code == 422


def test_digits_that_python_reads_but_int_refuses_are_a_clean_422(site):
    """'²' passes str.isdigit() but not int(): as an idea's cost estimate it was a 500."""
    from tests.proposal_helpers import sign_in_by_email, token

    resident = site.test_client()
    sign_in_by_email(resident, "ada@example.org")
    for value in ("²", "1²", "١٢٣"):
        response = resident.post("/cycles/test-cycle/ideas/new", data={
            "csrf_token": token(resident, "/cycles/test-cycle/ideas/new"),
            "title": "Light the underpass", "description": "It is dark.",
            "category": "Street lighting", "district": "approval", "location": "Mill Road",
            "cost_estimate": value})
        assert response.status_code == 422, (value, response.status_code)
