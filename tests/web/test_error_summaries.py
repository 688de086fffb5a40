"""Every form that refuses a submission shows one error summary at the top, and each field
error in it links to its control, which says it is invalid and names its own error message
(the GOV.UK pattern the ballot pages already follow). Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_token
from tests.staff_helpers import login, make_account
from tests.summary_helpers import assert_linked_summary

# ------------------------------------------------------------------ resident eligibility check

def _verify_url(made, district="approval"):
    return f"/cycles/{made.slug}/vote/{district}/verify"


def test_roll_check_links_each_missing_field(client, made):
    page = client.get(_verify_url(made))
    response = client.post(_verify_url(made), data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text), "roll-last_name": "Okafor",
        "roll-birth_date": "", "roll-postcode_or_roll": ""})
    checked = assert_linked_summary(response, ["roll-birth_date", "roll-postcode_or_roll"])
    assert checked.by_id["roll-last_name"].get("value") == "Okafor"  # what was typed stays
    assert checked.by_id["roll-last_name"].get("aria-invalid") == "false"


def test_roll_check_links_a_date_that_cannot_be_read(client, made):
    page = client.get(_verify_url(made))
    response = client.post(_verify_url(made), data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text), "roll-last_name": "",
        "roll-birth_date": "27/03/1984", "roll-postcode_or_roll": "A1 1AA"})
    checked = assert_linked_summary(response, ["roll-last_name", "roll-birth_date"])
    assert checked.by_id["roll-postcode_or_roll"].get("value") == "A1 1AA"


def test_access_code_form_links_the_code_field(client, made):
    page = client.get(_verify_url(made))
    response = client.post(_verify_url(made), data={
        "method": "code", "code-csrf_token": csrf_token(page.text), "code-code": ""})
    assert_linked_summary(response, ["code-code"])


def test_a_refusal_is_the_summary_title_without_a_link(client, made):
    person = made.people["approval"]
    page = client.get(_verify_url(made))
    response = client.post(_verify_url(made), data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text), "roll-last_name": "Nobody",
        "roll-birth_date": person.birth_date.isoformat(), "roll-postcode_or_roll": person.postcode})
    checked = assert_linked_summary(response, [], status=403)
    assert "could not find" in checked.summary_text.lower()


# ------------------------------------------------------------------ staff sign-in and accounts

def _post_page(client, path, data):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data})


def test_staff_sign_in_links_email_and_password(client):
    response = _post_page(client, "/staff/login", {"email": "", "password": ""})
    assert_linked_summary(response, ["email", "password"])


def test_a_wrong_password_is_a_title_without_links_and_is_not_shown_back(app, client):
    with app.app_context():
        _, email, _, _ = make_account("staff")
    response = _post_page(client, "/staff/login", {"email": email,
                                                     "password": "not the right password"})
    checked = assert_linked_summary(response, [], status=401)
    assert checked.by_id["email"].get("value") == email
    assert "not the right password" not in response.text


def test_totp_step_links_the_code(app, client):
    with app.app_context():
        _, email, password, _ = make_account("staff")
    assert _post_page(client, "/staff/login", {"email": email, "password": password}) \
        .status_code == 302
    assert_linked_summary(_post_page(client, "/staff/login/totp", {"code": ""}), ["code"])
    refused = _post_page(client, "/staff/login/totp", {"code": "000000"})
    assert_linked_summary(refused, [], status=401)
    assert refused.text.count('value="000000"') == 0  # a code is not shown back


def test_enrolment_links_the_code(app, client):
    with app.app_context():
        _, email, password, _ = make_account("staff", enrolled=False)
    assert _post_page(client, "/staff/login", {"email": email, "password": password}) \
        .status_code == 302
    assert_linked_summary(_post_page(client, "/staff/enrol", {"code": ""}), ["code"])


def test_reauthentication_links_password_and_code(app, client):
    with app.app_context():
        _, email, password, secret = make_account("staff")
    login(client, email, password, secret)
    response = _post_page(client, "/staff/reauth", {"password": "", "code": ""})
    assert_linked_summary(response, ["password", "code"])


@pytest.fixture
def admin_client(app):
    with app.app_context():
        admin = make_account("admin", email="chief@example.org")
    client = app.test_client()
    login(client, *admin[1:])
    return client


def test_invite_links_a_missing_or_refused_email(admin_client):
    missing = _post_page(admin_client, "/admin/accounts/invite",
                         {"email": "", "display_name": "Sam", "role": "staff"})
    checked = assert_linked_summary(missing, ["email"])
    assert checked.by_id["display_name"].get("value") == "Sam"
    refused = _post_page(admin_client, "/admin/accounts/invite",
                         {"email": "not an email", "role": "staff"})
    assert_linked_summary(refused, ["email"])
    taken = _post_page(admin_client, "/admin/accounts/invite",
                       {"email": "Chief@Example.org", "role": "staff"})
    assert_linked_summary(taken, ["email"], status=409)


def test_accepting_an_invitation_links_the_password_fields(app, admin_client):
    made = _post_page(admin_client, "/admin/accounts/invite",
                      {"email": "new@example.org", "role": "auditor"})
    link = re.search(r'<code class="invitation-link">([^<]+)</code>', made.text).group(1)
    newcomer = app.test_client()
    path = urlsplit(link).path
    assert_linked_summary(_post_page(newcomer, path, {"password": "short", "confirm": "short"}),
                          ["password"])
    assert_linked_summary(_post_page(newcomer, path, {"password": "a long new password",
                                                       "confirm": "another"}), ["confirm"])
    assert_linked_summary(_post_page(newcomer, path, {"password": "", "confirm": ""}),
                          ["password", "confirm"])
