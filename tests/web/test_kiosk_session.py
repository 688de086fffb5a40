"""The kiosk's wrong-PIN count cannot be undone by replaying an older cookie, and leaving
kiosk mode (by PIN or by five wrong PINs) ends the old session on the server (issue #21
item 13), on both engines."""
from __future__ import annotations

from tests.conftest import csrf_token
from tests.web.test_in_person_pages import _cycle, _post, _signed_in


def _cookie(client, app):
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _use(client, app, value):
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], value)


def _start_kiosk(app):
    _cycle(app)
    kiosk = _signed_in(app)
    started = _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                                  "pin": "2468", "pin_again": "2468"})
    assert started.status_code == 302
    return kiosk


def _wrong_pin(kiosk):
    page = kiosk.get("/kiosk/ready")
    assert page.status_code == 200
    return kiosk.post("/kiosk/unlock", data={"csrf_token": csrf_token(page.text),
                                             "pin": "0000", "pass_code": "x"})


def _signed_out(response) -> bool:
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_replaying_an_older_cookie_does_not_reset_the_wrong_pin_count(app):
    kiosk = _start_kiosk(app)
    fresh = _cookie(kiosk, app)  # no wrong PIN yet
    for _ in range(4):
        _wrong_pin(kiosk)
    _use(kiosk, app, fresh)
    # before: this cookie had four more guesses, and so on for ever
    assert _signed_out(kiosk.get("/kiosk/ready"))


def test_five_wrong_pins_end_the_session_for_every_copy_of_the_cookie(app):
    kiosk = _start_kiosk(app)
    for _ in range(4):
        _wrong_pin(kiosk)
    before_last = _cookie(kiosk, app)
    _wrong_pin(kiosk)
    assert _signed_out(kiosk.get("/staff/"))
    copy = app.test_client()
    _use(copy, app, before_last)
    assert _signed_out(copy.get("/kiosk/ready"))


def test_leaving_kiosk_mode_retires_the_kiosk_cookie_and_the_one_before_it(app):
    _cycle(app)
    kiosk = _signed_in(app)
    staff_cookie = _cookie(kiosk, app)
    _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                        "pin": "2468", "pin_again": "2468"})
    kiosk_cookie = _cookie(kiosk, app)
    # the staff cookie from before kiosk mode no longer reaches the staff pages
    other = app.test_client()
    _use(other, app, staff_cookie)
    assert _signed_out(other.get("/staff/"))
    page = kiosk.get("/kiosk/ready")
    assert kiosk.post("/kiosk/exit", data={"csrf_token": csrf_token(page.text),
                                           "pin": "2468"}).status_code == 302
    assert kiosk.get("/staff/").status_code == 200  # the staff member carries on
    _use(other, app, kiosk_cookie)
    assert _signed_out(other.get("/kiosk/ready"))
