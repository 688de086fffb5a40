"""ASVS 4.0.3 V5.3.3 (output encoding against reflected, stored and DOM XSS), V5.2.1
(untrusted HTML is never rendered as markup), together with the CSP (test_headers_and_cookies).

Every text input and textarea of the staff set-up forms (cycle settings, district, project,
idea intake settings), the desk's site name, roll display names, access-code void reasons and
the kiosk site get XSS payloads; whatever the forms accept is stored, and then every GET route
of the cycle, as an admin and as a visitor, must show the payloads only escaped. Residents'
idea fields and staff reasons on ideas are covered in tests/web/test_ideas_pages.py
(test_xss_payloads_are_inert_on_every_page).
"""
from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select, update

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import RollEntry
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.security.helpers import visitor_client

PAYLOAD = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'><svg/onload=alert(3)>"
#: a payload survived as markup if any of these appears unescaped
RAW = ("<script>alert(1)", "<img src=x onerror", "<svg/onload")
TEXT_TYPES = {"text", "search", ""}


class _Forms(HTMLParser):
    """Every POST form of a page: its fields' current values and its text field names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, list[str]], list[str]]] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "").lower() == "post":
                self.forms.append(({}, []))
            return
        if not self.forms:
            return
        values, text_fields = self.forms[-1]
        if tag == "option" and self._select and "selected" in a:
            values.setdefault(self._select, []).append(a.get("value") or "")
        if not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values.setdefault(name, []).append(a.get("value") or "y")
            elif kind not in ("submit", "button", "file"):
                values.setdefault(name, []).append(a.get("value") or "")
                if kind in TEXT_TYPES and name != "csrf_token":
                    text_fields.append(name)
        elif tag == "textarea":
            self._textarea = name
            values.setdefault(name, []).append("")
            text_fields.append(name)
        elif tag == "select":
            self._select = name

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1][0][self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _unescaped(text: str) -> list[str]:
    return [marker for marker in RAW if marker in text]


def fill_every_text_field(client, path: str) -> list[str]:
    """Put PAYLOAD into each text field of the form at `path`, one at a time, keeping every
    value the form accepts; returns the fields it accepted. Refusals must not echo markup."""
    accepted = []
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    parser = _Forms()
    parser.feed(page.text)
    form_values, text_fields = max(parser.forms, key=lambda form: len(form[1]), default=({}, []))
    assert text_fields, f"{path} has no text field"
    data = {name: values if len(values) > 1 else values[0] for name, values in form_values.items()}
    for field in text_fields:
        trial = {**data, field: PAYLOAD, "csrf_token": csrf_token(client.get(path).text)}
        response = client.post(path, data=trial)
        assert response.status_code < 500, (path, field, response.status_code)
        assert not _unescaped(response.text), (path, field, _unescaped(response.text))
        if response.status_code in (200, 302):
            data = {**trial}
            accepted.append(field)
    return accepted


def test_payloads_in_every_setup_and_desk_field_are_inert_everywhere(app):
    from tests.web.test_access import VALUES, _url

    with app.app_context(), write_intent():
        made = make_cycle("xss-cycle", voting="not_yet")
        db.session.commit()
    admin = visitor_client(app, "admin", made)
    base = "/staff/cycles/xss-cycle"
    accepted = {path: fill_every_text_field(admin, path) for path in (
        f"{base}/settings", f"{base}/districts/approval", f"{base}/projects/AP-A",
        f"{base}/ideas/settings")}
    # the forms must have taken the payload into their free-text fields
    assert "name" in accepted[f"{base}/settings"], accepted
    assert "name" in accepted[f"{base}/districts/approval"], accepted
    assert "title" in accepted[f"{base}/projects/AP-A"], accepted
    with app.app_context(), write_intent():
        db.session.execute(update(RollEntry).values(display_name=PAYLOAD))
        db.session.commit()
    desk = admin.get(f"{base}/desk/")
    admin.post(f"{base}/desk/site", data={"csrf_token": csrf_token(desk.text), "site": PAYLOAD})
    codes = admin.get(f"{base}/codes")
    admin.post(f"{base}/codes/void", data={"csrf_token": csrf_token(codes.text),
                                           "code": PAYLOAD, "reason": PAYLOAD})
    kiosk = admin.get("/kiosk/")
    admin.post("/kiosk/", data={"csrf_token": csrf_token(kiosk.text), "cycle": "xss-cycle",
                                "site": PAYLOAD, "pin": "1234"})
    admin.post("/kiosk/exit", data={"csrf_token": csrf_token(admin.get(f"{base}/").text)})
    values = {**VALUES, "slug": "xss-cycle", "code": "AP-A"}
    failures = []
    for role, client in (("admin", admin), ("anonymous", app.test_client())):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            original = dict(VALUES)
            VALUES.update(values)
            try:
                url = _url(app, rule)
            finally:
                VALUES.clear()
                VALUES.update(original)
            response = client.get(url)
            if response.mimetype == "text/html" and _unescaped(response.text):
                failures.append(f"{role} GET {url}: {_unescaped(response.text)}")
        for url in (f"/cycles/xss-cycle/ideas?q={PAYLOAD}", f"{base}/ideas?q={PAYLOAD}",
                    f"/audit/cycles/xss-cycle/log?q={PAYLOAD}&kind={PAYLOAD}"):
            response = client.get(url)
            if _unescaped(response.text):
                failures.append(f"{role} GET {url}: {_unescaped(response.text)}")
    # the desk's look-up is posted, so that no personal data goes into an address
    desk_token = csrf_token(admin.get(f"{base}/desk/").text)
    found = {}
    for name in ("Tester1", PAYLOAD, "script"):
        response = admin.post(f"{base}/desk/lookup", data={"csrf_token": desk_token,
                                                           "name": name})
        found[name] = response.text
        if _unescaped(response.text):
            failures.append(f"admin POST desk look-up {name!r}: {_unescaped(response.text)}")
    assert not failures, "\n".join(failures)
    # the payloads were shown, escaped: on the public cycle page and at the desk
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in app.test_client().get("/cycles/xss-cycle").text
    assert escaped in found["script"]
    with app.app_context():
        assert PAYLOAD in db.session.scalar(select(RollEntry.display_name))
