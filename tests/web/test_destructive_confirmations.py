"""Destructive staff actions ask for "Yes, I am sure", as "Delete district" does: without the
tick, 422 with the message beside the tick box and nothing changed; with it, done. (Project
delete: tests/web/test_setup_pages.py; cycle delete, voting open/close: ConfirmForm.)"""
from __future__ import annotations

import re

from sqlalchemy import select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, DeliveryEditor, KioskPass, SurveyRound
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.security.helpers import changed_tables, fingerprint
from tests.staff_helpers import login, make_account
from tests.web.test_delivery_pages import setup  # noqa: F401 (a fixture)

NOT_CONFIRMED = "Tick “Yes, I am sure”"


def _signed_in(app, account):
    client = app.test_client()
    login(client, *account[1:])
    return client


def _refused_beside(app, response, control: str, before) -> None:
    assert response.status_code == 422, response.status_code
    found = re.search(rf'<p class="error-message" id="{re.escape(control)}-error">(.*?)</p>',
                      response.text, re.S)
    assert found and NOT_CONFIRMED in found.group(1) and "nothing was changed" in found.group(1)
    assert f'href="#{control}"' in response.text  # the summary links to the tick box
    assert not changed_tables(before, fingerprint(app))


def test_deactivating_and_resetting_an_account_need_the_tick(app):
    with app.app_context():
        admin = make_account("admin")
        staff = make_account("staff")
    client = _signed_in(app, admin)
    page = client.get("/admin/accounts")
    assert f'id="confirm-deactivate-{staff[0]}"' in page.text
    assert f'id="confirm-reset-{staff[0]}"' in page.text
    token = csrf_token(page.text)
    before = fingerprint(app)
    for action, control in (("deactivate", "confirm-deactivate"), ("reset-totp", "confirm-reset")):
        response = client.post(f"/admin/accounts/{staff[0]}/{action}", data={"csrf_token": token})
        _refused_beside(app, response, f"{control}-{staff[0]}", before)
    with app.app_context():
        account = db.session.get(Account, staff[0])
        assert account.is_active and account.totp_secret is not None
    assert client.post(f"/admin/accounts/{staff[0]}/reset-totp",
                       data={"csrf_token": token, "confirm": "y"}).status_code == 302
    assert client.post(f"/admin/accounts/{staff[0]}/deactivate",
                       data={"csrf_token": token, "confirm": "y"}).status_code == 302
    with app.app_context():
        account = db.session.get(Account, staff[0])
        assert not account.is_active and account.totp_secret is None


def test_removing_an_editor_and_closing_a_survey_round_need_the_tick(app, setup):  # noqa: F811
    admin = _signed_in(app, setup["admin"])
    base = f"/staff/cycles/{setup['slug']}/delivery"
    page = admin.get(base)
    editor_id, round_id = setup["editor"][0], setup["round"]
    assert f'id="confirm-revoke-{editor_id}"' in page.text
    assert f'id="confirm-close-{round_id}"' in page.text
    token = csrf_token(page.text)
    before = fingerprint(app)
    response = admin.post(f"{base}/editors/{editor_id}/revoke", data={"csrf_token": token})
    _refused_beside(app, response, f"confirm-revoke-{editor_id}", before)
    response = admin.post(f"{base}/surveys/{round_id}/close", data={"csrf_token": token})
    _refused_beside(app, response, f"confirm-close-{round_id}", before)
    with app.app_context():
        assert db.session.get(SurveyRound, round_id).is_open
    assert admin.post(f"{base}/surveys/{round_id}/close",
                      data={"csrf_token": token, "confirm": "y"}).status_code == 303
    assert admin.post(f"{base}/editors/{editor_id}/revoke",
                      data={"csrf_token": token, "confirm": "y"}).status_code == 303
    with app.app_context():
        assert not db.session.get(SurveyRound, round_id).is_open
        assert db.session.scalar(select(DeliveryEditor).where(
            DeliveryEditor.account_id == editor_id)) is None


def test_cancelling_a_kiosk_pass_needs_the_tick(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    with app.app_context():
        staff = make_account("staff")
    client = _signed_in(app, staff)
    desk = "/staff/cycles/test-cycle/desk"
    page = client.get(desk + "/")
    client.post(desk + "/site", data={"csrf_token": csrf_token(page.text), "site": "Library"})
    person = made.people["approval"]
    found = client.post(desk + "/lookup", data={"csrf_token": csrf_token(page.text),
                                                "birth_date": person.birth_date.isoformat()})
    entry_id = re.search(r'name="roll_entry_id" value="(\d+)"', found.text).group(1)
    checked = client.post(desk + "/check-in", data={
        "csrf_token": csrf_token(page.text), "roll_entry_id": entry_id, "id_checked": "yes",
        "handout": "kiosk"})
    assert checked.status_code == 200
    with app.app_context():
        pass_id = db.session.scalar(select(KioskPass.id))
    page = client.get(desk + "/")
    assert f'id="confirm-cancel-{pass_id}"' in page.text
    before = fingerprint(app)
    response = client.post(desk + "/passes/cancel", data={"csrf_token": csrf_token(page.text),
                                                          "pass_id": pass_id})
    _refused_beside(app, response, f"confirm-cancel-{pass_id}", before)
    done = client.post(desk + "/passes/cancel", data={"csrf_token": csrf_token(page.text),
                                                      "pass_id": pass_id, "confirm": "y"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(KioskPass, pass_id).status == "cancelled"
