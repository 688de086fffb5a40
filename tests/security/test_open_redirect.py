"""ASVS 4.0.3 V5.1.5 (redirects only to allowed destinations).

Every GET route, given a hostile `next`, redirects (if at all) only within the site; the
resident email sign-in carries `next` through the code step and still never leaves. The staff
sign-in's own cases are in tests/web/test_staff_sign_in.py (test_next_never_leaves_the_site)
and the pure rule in tests/unit/test_sign_in_rules.py.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.proposal_helpers import code_from_outbox, enter_code, make_intake_cycle, request_code
from tests.security.helpers import _url, committed_cycle, visitor_client

HOSTILE = ("https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
           "http:evil.example", "javascript:alert(1)", "/%2F%2Fevil.example", "\t//evil.example",
           "https:/\\evil.example")


def leaves_the_site(location: str) -> bool:
    cleaned = location.replace("\\", "/").strip()
    parts = urlsplit(cleaned)
    return (parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost")
            or cleaned.startswith("//"))


def test_the_check_can_fail():
    assert all(leaves_the_site(v) for v in ("https://evil.example/", "//evil.example",
                                            "/\\evil.example", "javascript:alert(1)"))
    assert not leaves_the_site("/staff/") and not leaves_the_site("http://localhost/x")


@pytest.mark.parametrize("role", ("anonymous", "admin"))
def test_no_get_route_redirects_off_site(app, role):
    made = committed_cycle(app)
    client = visitor_client(app, role, made)
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        for hostile in HOSTILE:
            response = client.get(_url(app, rule), query_string={"next": hostile})
            location = response.headers.get("Location", "")
            if 300 <= response.status_code < 400 and leaves_the_site(location):
                failures.append(f"{rule.endpoint} next={hostile!r} → {location}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_resident_sign_in_keeps_next_on_the_site(app, hostile):
    with app.app_context():
        make_intake_cycle()
    client = app.test_client()
    asked = request_code(client, "ada@example.org", next_path=hostile)
    assert asked.status_code == 302 and not leaves_the_site(asked.headers["Location"])
    done = enter_code(client, code_from_outbox(app, "ada@example.org"))
    assert done.status_code == 302
    assert not leaves_the_site(done.headers["Location"]), done.headers["Location"]
