"""Deny by default: every route in app.url_map, for every kind of visitor.

Each endpoint must have a row in EXPECTED (GET) and, when it takes POST, in POST_EXPECTED;
a route missing from either table fails the test, so each new route gets classified.
POSTs carry a valid CSRF token and no other data (tokenless POSTs are 400 for everyone,
see TOKENLESS_POST). Staff accounts sign in through the real password and TOTP steps.
"""
from __future__ import annotations

import pytest
from flask import Blueprint

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account, sign_in_resident

#: anonymous: nobody; voter: a verified voter session (no account); resident: a signed-in
#: resident account; staff, auditor, admin: signed in with password and TOTP.
ROLES = ("anonymous", "voter", "resident", "staff", "auditor", "admin")


def _same(status: int) -> dict[str, int]:
    return {role: status for role in ROLES}


EVERYONE_200 = _same(200)
#: GET on a POST-only route: routing answers before any policy
POST_ONLY = _same(405)
#: require_roles("staff", "admin"): sign-in page for visitors, 403 for other accounts
STAFF_PAGE = {"anonymous": 302, "voter": 302, "resident": 403,
              "staff": 200, "auditor": 403, "admin": 200}
#: require_roles("auditor", "admin")
AUDIT_PAGE = {"anonymous": 302, "voter": 302, "resident": 403,
              "staff": 403, "auditor": 200, "admin": 200}
#: require_roles("admin")
ADMIN_PAGE = {"anonymous": 302, "voter": 302, "resident": 403,
              "staff": 403, "auditor": 403, "admin": 200}

#: the resident pages (my_ideas): email sign-in for visitors, 403 for staff accounts
RESIDENT_PAGE = {"anonymous": 302, "voter": 302, "resident": 200,
                 "staff": 403, "auditor": 403, "admin": 403}

#: require_roles("staff", "admin", "auditor"): the delivery pages, which auditors read too
DELIVERY_PAGE = {"anonymous": 302, "voter": 302, "resident": 403,
                 "staff": 200, "auditor": 200, "admin": 200}
#: the delivery changes: an account that is not a delivery editor of the cycle (a staff account
#: without the grant, an auditor) is refused by the service with 403
DELIVERY_POSTS = ("open_tracking", "grant_editor", "revoke_editor", "open_round", "close_round",
                  "moderate", "upload_values", "confirm_values", "project_status",
                  "project_progress", "project_money", "project_responsible",
                  "project_milestone", "project_update", "project_indicator", "project_value")
DELIVERY_REFUSED = {**DELIVERY_PAGE, "staff": 403, "auditor": 403}

#: endpoint → role → status of a GET
EXPECTED: dict[str, dict[str, int]] = {
    "static": EVERYONE_200,
    "public.index": EVERYONE_200,
    "public.cycle": EVERYONE_200,
    "public.favicon": EVERYONE_200,
    "about.how_it_works": EVERYONE_200,
    "about.accessibility": EVERYONE_200,
    "about.privacy": EVERYONE_200,
    "about.contact": EVERYONE_200,
    "public.project": EVERYONE_200,
    "i18n.switch": _same(303),  # sets the language cookie and goes back (home by default)
    "vote.start": EVERYONE_200,
    "vote.verify": EVERYONE_200,
    "vote.ballot": {**_same(302), "voter": 200},
    "vote.review": _same(302),  # nothing pending yet: back to the ballot
    "vote.receipt": _same(302),  # no receipt in this session
    "vote.cast": POST_ONLY,
    "vote.leave": POST_ONLY,
    "vote.email_receipt": POST_ONLY,
    # the test cycle does not take online self-declarations
    "vote.declare": _same(404),
    "vote.declare_confirm": _same(404),
    "board.index": EVERYONE_200,
    "board.district": EVERYONE_200,
    "board.receipts_text": EVERYONE_200,
    "board.check": EVERYONE_200,
    "board.bundle": _same(404),  # not published
    "api.cycles": EVERYONE_200,
    "api.cycle": EVERYONE_200,
    "api.projects": EVERYONE_200,
    "api.board": EVERYONE_200,
    "api.receipt": EVERYONE_200,  # a well-formed receipt that is not on the board
    "api.results": _same(404),  # not published
    # signed-in staff are sent on to their start page
    "auth.login": {"anonymous": 200, "voter": 200, "resident": 200,
                   "staff": 302, "auditor": 302, "admin": 302},
    "auth.totp": _same(302),  # no password step in this session: back to sign-in
    "auth.enrol": _same(302),
    "auth.reauth": {"anonymous": 302, "voter": 302, "resident": 403,
                    "staff": 200, "auditor": 200, "admin": 200},
    "auth.logout": POST_ONLY,
    "auth.accept_invitation": _same(404),  # VALUES has no valid token
    "staff.dashboard": STAFF_PAGE,
    "health.healthz": EVERYONE_200,
    "health.readyz": EVERYONE_200,
    # the test client calls from 127.0.0.1, an allowed scraper address (test_metrics.py
    # shows everyone else gets 404)
    "metrics.scrape": EVERYONE_200,
    # a job's progress and files: staff only; VALUES["job_id"] names no job
    "jobs.show": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "jobs.show_json": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "jobs.result_file": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "admin.accounts_list": ADMIN_PAGE,
    "admin.invite": ADMIN_PAGE,  # the admin signed in moments ago, so the login is fresh
    "admin.deactivate": POST_ONLY,
    "admin.reactivate": POST_ONLY,
    "admin.reset_totp": POST_ONLY,
    "admin.unlock": POST_ONLY,
    "admin.change_role": POST_ONLY,
    "audit.index": AUDIT_PAGE,
    "audit.cycle": AUDIT_PAGE,
    "audit.log": AUDIT_PAGE,
    "audit.chain_export": {**AUDIT_PAGE, "auditor": 409, "admin": 409},  # voting still open
    "audit.trace": {**AUDIT_PAGE, "auditor": 404, "admin": 404},  # not published
    "audit.verify_now": POST_ONLY,
    # cycle set-up (staff_setup); the test cycle's voting is open, so its rules are frozen
    "staff_setup.new_cycle": STAFF_PAGE,
    "staff_setup.overview": STAFF_PAGE,
    "staff_setup.edit_cycle": STAFF_PAGE,
    "staff_setup.new_district": STAFF_PAGE,
    "staff_setup.edit_district": STAFF_PAGE,
    "staff_setup.delete_district": POST_ONLY,
    "staff_setup.phases": STAFF_PAGE,
    "staff_setup.projects": STAFF_PAGE,
    "staff_setup.new_project": STAFF_PAGE,
    "staff_setup.edit_project": STAFF_PAGE,
    "content_translations.project": STAFF_PAGE,
    "content_translations.proposal": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "staff_setup.delete_project": POST_ONLY,
    "staff_setup.roll_upload": STAFF_PAGE,
    "staff_setup.roll_preview": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such upload
    "staff_setup.codes": STAFF_PAGE,
    "staff_setup.map_setup": STAFF_PAGE,
    "staff_setup.map_outlines": POST_ONLY,
    "staff_setup.map_points": POST_ONLY,
    "maps.page": EVERYONE_200,
    "staff_setup.void_code": POST_ONLY,
    "staff_setup.roll_codes": POST_ONLY,
    "staff_setup.codes_export": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such export
    "staff_setup.open_voting": POST_ONLY,
    "staff_setup.close_voting": POST_ONLY,
    "staff_setup.schedule_voting": POST_ONLY,
    "staff_setup.extend_voting": POST_ONLY,
    "staff_setup.reconciliation_notes": STAFF_PAGE,
    "staff_setup.archive_cycle": POST_ONLY,
    "staff_setup.restore_cycle": POST_ONLY,
    "staff_setup.delete_cycle": POST_ONLY,
    "media.project_image": _same(404),  # no such image
    # the staff overview, walked earlier, stores the manifest of a cycle whose voting
    # opened by date; until someone has looked, there is none to serve
    "media.manifest": EVERYONE_200,  # stored when voting was scheduled, not on a staff visit
    # results: nothing is counted or shown while voting is open (embargo), so the staff
    # pages refuse with 409 and the public ones have nothing published (404)
    "results.page": _same(404),
    "results.document": _same(404),
    "staff_results.overview": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_results.run": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_results.run_tally": POST_ONLY,
    # the live turnout dashboard reads participation only: staff, auditors and admins
    "staff_turnout.dashboard": {**STAFF_PAGE, "auditor": 200},
    "turnout.page": _same(404),  # public once voting has closed
    "results.workbook": _same(404),  # not published
    "results.report": _same(404),
    "results.report_pdf": _same(404),  # not published
    "exports.ideas_csv": STAFF_PAGE,
    "exports.ideas_xlsx": STAFF_PAGE,
    "exports.roll_status_csv": STAFF_PAGE,
    "turnout.csv_download": _same(404),
    "staff_results.request_publication": POST_ONLY,
    "staff_results.confirm_publication": POST_ONLY,
    # ideas (proposal intake); VALUES["proposal_id"] does not exist, the test cycle's
    # idea collection is not open, and a signed-in resident is sent on from /sign-in
    "resident_auth.sign_in": {**EVERYONE_200, "resident": 302},
    "resident_auth.code": _same(302),  # no code requested in this session
    "resident_auth.sign_out": POST_ONLY,
    "ideas.board": EVERYONE_200,
    "ideas.detail": _same(404),
    "ideas.photo": _same(404),
    "my_ideas.index": RESIDENT_PAGE,
    "my_ideas.new": {**RESIDENT_PAGE, "resident": 403},  # not collecting ideas
    "my_ideas.show": {**RESIDENT_PAGE, "resident": 404},
    "my_ideas.edit": {**RESIDENT_PAGE, "resident": 404},
    "my_ideas.answer": POST_ONLY,
    "my_ideas.support": POST_ONLY,
    "discussion.post": POST_ONLY,
    "discussion.report": POST_ONLY,
    "discussion.post_on_project": POST_ONLY,
    "discussion.report_on_project": POST_ONLY,
    "moderation.queue": STAFF_PAGE,
    "moderation.decide": POST_ONLY,
    "review.queue": STAFF_PAGE,
    "review.detail": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "review.change_status": POST_ONLY,
    "review.merge": POST_ONLY,
    "review.hide": POST_ONLY,
    "review.unhide": POST_ONLY,
    "review.promote": STAFF_PAGE,
    "review.settings": STAFF_PAGE,
    "dev.outbox": EVERYONE_200,  # a test run; 404 outside development
    # in-person voting: the test cycle does not accept self-declared residents; this
    # session never started kiosk mode, so the kiosk's voter pages go back to its set-up
    "desk.index": STAFF_PAGE,
    "desk.set_site": POST_ONLY,
    "desk.lookup": POST_ONLY,
    "desk.check_in": POST_ONLY,
    "desk.self_declared": {**STAFF_PAGE, "staff": 403, "admin": 403},
    "desk.cancel_pass": POST_ONLY,
    "desk.reconciliation": STAFF_PAGE,
    "kiosk.setup": STAFF_PAGE,
    "kiosk.home": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.unlock": POST_ONLY,
    "kiosk.ballot": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.review": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.cast": POST_ONLY,
    "kiosk.done": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.finish": {**STAFF_PAGE, "staff": 302, "admin": 302},  # GET is kiosk.done
    "kiosk.leave": POST_ONLY,
    "kiosk.exit_kiosk": POST_ONLY,
    "paper.index": STAFF_PAGE,
    "paper.print_batch": POST_ONLY,
    "paper.sheets": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such batch
    "paper.enter": STAFF_PAGE,  # no serial yet: the form to type one
    "paper.adjudicate": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such serial
    "in_person_audit.reconciliation": AUDIT_PAGE,
    "in_person_audit.paper_audit": AUDIT_PAGE,  # voting open: explains it starts at close
    "in_person_audit.finding": POST_ONLY,
    # delivery after the vote: the test cycle is not published, so nothing is tracked (404);
    # a confirmation page shows its button for any token, which only the POST checks
    "delivery.index": _same(404),
    "delivery.district": _same(404),
    "delivery.project": _same(404),
    "delivery.bundle": _same(404),
    "delivery.photo": _same(404),
    "delivery.follow_project": POST_ONLY,
    "delivery.confirm_follow": EVERYONE_200,
    "delivery.confirm_follow_post": EVERYONE_200,  # the same address as the GET page
    "delivery.unsubscribe": _same(404),  # no such token
    "delivery.unsubscribe_post": _same(404),
    # "email me when the results are out": the form and the confirmation page (its button
    # works for any token, which only the POST checks) for anyone
    "results_notice.form": EVERYONE_200,
    "results_notice.subscribe": EVERYONE_200,  # the same address as the form
    "results_notice.confirm": EVERYONE_200,
    "results_notice.confirm_post": EVERYONE_200,
    "results_notice.unsubscribe": _same(404),  # no such token
    "results_notice.unsubscribe_post": _same(404),
    "delivery_api.delivery_json": _same(404),
    "delivery_api.delivery_csv": _same(404),
    "delivery_staff.overview": DELIVERY_PAGE,
    # online self-declarations: staff and admins review, auditors read
    "declarations.overview": DELIVERY_PAGE,
    "declarations.reject": POST_ONLY,
    "declarations.reinstate": POST_ONLY,
    "delivery_staff.project": {**DELIVERY_PAGE, "staff": 404, "auditor": 404, "admin": 404},
    **{f"delivery_staff.{name}": POST_ONLY for name in DELIVERY_POSTS},
    "delivery_survey.answer": {**RESIDENT_PAGE, "resident": 404},  # no such round
    "delivery_survey.answer_post": {**RESIDENT_PAGE, "resident": 404},
}

#: an admin action on VALUES["account_id"], which does not exist
ADMIN_ACTION_POST = {**ADMIN_PAGE, "admin": 404}
#: endpoint → role → status of a POST with a CSRF token and an empty form
POST_EXPECTED: dict[str, dict[str, int]] = {
    # no such declaration; an auditor is refused by the service before it looks
    "declarations.reject": {**DELIVERY_PAGE, "staff": 404, "admin": 404, "auditor": 403},
    "declarations.reinstate": {**DELIVERY_PAGE, "staff": 404, "admin": 404, "auditor": 403},
    "vote.verify": _same(400),  # no verification method chosen
    "vote.ballot": {**_same(302), "voter": 422},  # an empty ballot breaks the minimum
    "vote.cast": _same(302),  # nothing pending: back to the ballot (or the start)
    "vote.leave": _same(302),
    "vote.email_receipt": _same(302),  # no receipt in this session
    "vote.declare": _same(404),  # the test cycle does not take online self-declarations
    "vote.declare_confirm": _same(404),
    "board.check": _same(422),  # no receipt typed
    "auth.login": {"anonymous": 422, "voter": 422, "resident": 422,
                   "staff": 302, "auditor": 302, "admin": 302},
    "auth.totp": _same(302),
    "auth.enrol": _same(302),
    "auth.reauth": {"anonymous": 302, "voter": 302, "resident": 403,
                    "staff": 422, "auditor": 422, "admin": 422},
    "auth.logout": _same(302),
    "auth.accept_invitation": _same(404),
    "admin.invite": {**ADMIN_PAGE, "admin": 422},
    "admin.deactivate": ADMIN_ACTION_POST,
    "admin.reactivate": ADMIN_ACTION_POST,
    "admin.reset_totp": ADMIN_ACTION_POST,
    "admin.unlock": ADMIN_ACTION_POST,
    "admin.change_role": {**ADMIN_PAGE, "admin": 422},  # no role given
    "audit.verify_now": {**AUDIT_PAGE, "auditor": 404, "admin": 404},  # not published
    # staff_setup: an empty form is refused on its fields (422), a frozen change with 409
    "staff_setup.new_cycle": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.edit_cycle": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.new_district": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.edit_district": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.delete_district": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_setup.phases": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_setup.new_project": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.edit_project": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "content_translations.project": {**STAFF_PAGE, "staff": 303, "admin": 303},  # no change
    "content_translations.proposal": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "staff_setup.delete_project": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_setup.roll_upload": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no file
    "staff_setup.map_outlines": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no file
    "staff_setup.map_points": {**STAFF_PAGE, "staff": 302, "admin": 302},  # nothing to change
    "staff_setup.roll_preview": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "staff_setup.codes": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.void_code": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.roll_codes": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no district chosen
    "staff_setup.open_voting": {**STAFF_PAGE, "staff": 422, "admin": 422},  # not confirmed
    "staff_setup.close_voting": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.schedule_voting": {**STAFF_PAGE, "staff": 422, "admin": 422},  # not confirmed
    "staff_setup.extend_voting": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no new end
    "staff_setup.reconciliation_notes": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no note
    "staff_setup.archive_cycle": {**STAFF_PAGE, "staff": 422, "admin": 422},  # not confirmed
    "staff_setup.restore_cycle": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_setup.delete_cycle": {**STAFF_PAGE, "staff": 422, "admin": 422},
    "staff_results.run_tally": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_results.request_publication": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "staff_results.confirm_publication": {**STAFF_PAGE, "staff": 409, "admin": 409},
    "resident_auth.sign_in": {**_same(422), "resident": 302},  # no email address
    "resident_auth.code": _same(302),
    "resident_auth.sign_out": _same(302),
    "my_ideas.new": {**RESIDENT_PAGE, "resident": 403},
    "my_ideas.edit": {**RESIDENT_PAGE, "resident": 404},
    "my_ideas.answer": {**RESIDENT_PAGE, "resident": 404},
    "my_ideas.support": {**RESIDENT_PAGE, "resident": 404},
    "discussion.post": _same(404),  # no such idea
    "discussion.report": _same(404),
    # project AP-A exists: an empty comment is refused (422) for a signed-in resident,
    # everyone else is sent to sign in with their email; VALUES["comment_id"] does not exist
    "discussion.post_on_project": {**_same(302), "resident": 422},
    "discussion.report_on_project": _same(404),
    "moderation.decide": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such comment
    "review.change_status": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "review.merge": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "review.hide": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "review.unhide": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "review.promote": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no cost, no ideas
    "review.settings": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no categories
    "desk.set_site": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no site
    "desk.lookup": {**STAFF_PAGE, "staff": 422, "admin": 422},  # nothing to look for
    "desk.check_in": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no resident chosen
    "desk.self_declared": {**STAFF_PAGE, "staff": 403, "admin": 403},
    "desk.cancel_pass": {**STAFF_PAGE, "staff": 404, "admin": 404},  # no such pass
    "kiosk.setup": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no cycle, site or PIN
    "kiosk.unlock": {**STAFF_PAGE, "staff": 302, "admin": 302},  # kiosk mode not started
    "kiosk.ballot": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.cast": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.leave": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.finish": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "kiosk.exit_kiosk": {**STAFF_PAGE, "staff": 302, "admin": 302},
    "paper.print_batch": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no count
    "paper.enter": {**STAFF_PAGE, "staff": 422, "admin": 422},  # no serial
    "paper.adjudicate": {**STAFF_PAGE, "staff": 404, "admin": 404},
    "in_person_audit.paper_audit": {**AUDIT_PAGE, "auditor": 409, "admin": 409},  # still open
    "in_person_audit.finding": {**AUDIT_PAGE, "auditor": 409, "admin": 409},  # not started
    "delivery.follow_project": _same(404),  # not tracked
    "delivery.confirm_follow_post": _same(404),  # no token
    "delivery.unsubscribe_post": _same(404),
    "results_notice.subscribe": _same(422),  # no address
    "results_notice.confirm_post": _same(404),  # no token
    "results_notice.unsubscribe_post": _same(404),
    # admins may edit: not published (409), nothing tracked (404) or an empty form (422)
    "delivery_staff.open_tracking": {**DELIVERY_REFUSED, "admin": 409},
    "delivery_staff.grant_editor": {**DELIVERY_REFUSED, "admin": 422},
    "delivery_staff.revoke_editor": {**DELIVERY_REFUSED, "admin": 404},
    "delivery_staff.upload_values": {**DELIVERY_REFUSED, "admin": 422},  # no file
    "delivery_staff.confirm_values": {**DELIVERY_REFUSED, "admin": 422},
    **{f"delivery_staff.{name}": {**DELIVERY_REFUSED, "admin": 404}
       for name in DELIVERY_POSTS if name.startswith("project_")
       or name in ("open_round", "close_round", "moderate")},
    "delivery_survey.answer_post": {**RESIDENT_PAGE, "resident": 404},
}
#: these end the session, so they are posted last
SESSION_ENDING = ("vote.leave", "auth.logout", "resident_auth.sign_out")
TOKENLESS_POST = 400  # CSRF is checked before access

VALUES = {"job_id": "a" * 32, "slug": "test-cycle", "district_slug": "approval",
          "filename": "css/pbvote.css",
          "token": "no-such-invitation", "account_id": 999999, "receipt": "ABCDE-12345",
          "code": "AP-A", "name": "0123456789abcdef0123456789abcdef.png",
          "run_id": 999999, "proposal_id": 999999, "comment_id": 999999, "batch": 999999,
          "declaration_id": 999999,
          "serial": "AP-NONE-XXXX", "round_id": 999999, "response_id": "0" * 32}


def _url(app, rule) -> str:
    missing = [arg for arg in rule.arguments if arg not in VALUES]
    assert not missing, f"add a value for URL argument(s) {missing} of {rule.endpoint} to VALUES"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{arg: VALUES[arg] for arg in rule.arguments})


def _voter_session(client, made) -> None:
    person = made.people["approval"]
    page = client.get("/cycles/test-cycle/vote/approval/verify")
    assert client.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code == 302


@pytest.fixture
def visitor(app, request):
    """A test client signed in as request.param."""
    role = request.param
    with app.app_context():
        with write_intent():
            made = make_cycle()
            db.session.commit()
        account = make_account(role) if role not in ("anonymous", "voter") else None
    client = app.test_client()
    if role == "voter":
        _voter_session(client, made)
    elif role == "resident":
        sign_in_resident(client, account[0])
    elif account is not None:
        login(client, account[1], account[2], account[3])
    return role, client


def test_every_endpoint_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert not sorted(endpoints - set(EXPECTED)), \
        f"add these endpoints to EXPECTED: {sorted(endpoints - set(EXPECTED))}"
    assert not sorted(posting - set(POST_EXPECTED)), \
        f"add these endpoints to POST_EXPECTED: {sorted(posting - set(POST_EXPECTED))}"
    for table in (EXPECTED, POST_EXPECTED):
        for endpoint, row in table.items():
            assert set(row) == set(ROLES), f"{endpoint} needs a status for each of {ROLES}"


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
def test_every_route_answers_as_expected(app, visitor):
    role, client = visitor
    rules = list(app.url_map.iter_rules())
    assert {r.endpoint for r in rules} <= set(EXPECTED), "see test_every_endpoint_is_classified"
    failures = []
    for rule in rules:
        url = _url(app, rule)
        status = client.get(url).status_code
        if status != EXPECTED[rule.endpoint][role]:
            failures.append(f"GET {rule.endpoint} {url}: {status}, "
                            f"expected {EXPECTED[rule.endpoint][role]}")
    token = csrf_token(client.get("/cycles/test-cycle/vote/approval/verify").text)
    posting = sorted((r for r in rules if "POST" in r.methods),
                     key=lambda r: r.endpoint in SESSION_ENDING)
    for rule in posting:
        url = _url(app, rule)
        if rule.endpoint in SESSION_ENDING:  # the previous one may have ended the session
            token = csrf_token(client.get("/cycles/test-cycle/vote/approval/verify").text)
        tokenless = client.post(url, data={}).status_code
        if tokenless != TOKENLESS_POST:
            failures.append(f"POST {rule.endpoint} without token: {tokenless}")
        status = client.post(url, data={"csrf_token": token},
                             headers={"X-CSRFToken": token}).status_code
        if status != POST_EXPECTED[rule.endpoint][role]:
            failures.append(f"POST {rule.endpoint} {url}: {status}, "
                            f"expected {POST_EXPECTED[rule.endpoint][role]}")
    assert not failures, f"as {role}:\n" + "\n".join(failures)


def test_a_blueprint_without_a_policy_is_closed(engine_name, migrated_urls):
    from pbvote import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=migrated_urls(engine_name))
    forgotten = Blueprint("forgotten", __name__)
    forgotten.add_url_rule("/forgotten", "page", lambda: "secret")
    app.register_blueprint(forgotten)
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.text
