"""In-person pages on every engine: desk check-in, the locked-down kiosk, paper entry by two
people, and the auditors' reconciliation and paper audit."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Cycle, PaperSerial, Participation
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account
from tests.summary_helpers import SummaryPage, assert_linked_summary

DESK = "/staff/cycles/test-cycle/desk"
PAPER = "/staff/cycles/test-cycle/paper"
AUDIT = "/audit/cycles/test-cycle/in-person"


def _signed_in(app, role="staff"):
    with app.app_context():
        account = make_account(role)
    client = app.test_client()
    login(client, account[1], account[2], account[3])
    return client


def _cycle(app, **changes):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=4)
        cycle = db.session.get(Cycle, made.cycle_id)
        for name, value in changes.items():
            setattr(cycle, name, value)
        db.session.commit()
    return made


def _post(client, page_url, url, data):
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **data})


def _check_in(client, made, kind="approval", handout="paper", id_checked=True):
    person = made.people[kind]
    page = _post(client, DESK + "/", DESK + "/lookup",
                 {"birth_date": person.birth_date.isoformat()})
    assert page.status_code == 200
    entry_id = re.search(r'name="roll_entry_id" value="(\d+)"', page.text).group(1)
    data = {"roll_entry_id": entry_id, "handout": handout}
    if id_checked:
        data["id_checked"] = "yes"
    return client.post(DESK + "/check-in", data={"csrf_token": csrf_token(page.text), **data})


def _count(app, model, **where):
    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalar(query)


def test_desk_check_in_then_online_voting_is_refused(app):
    made = _cycle(app)
    desk = _signed_in(app)
    assert desk.get("/staff/").text.count(DESK) == 1  # linked from the dashboard
    assert _check_in(desk, made).status_code == 422  # no site set yet
    assert _post(desk, DESK + "/", DESK + "/site", {"site": "Central Library"}).status_code == 302
    refused = _check_in(desk, made, id_checked=False)
    assert refused.status_code == 422 and "checked the resident" in refused.text
    done = _check_in(desk, made)
    assert done.status_code == 200 and "Hand the resident any paper ballot" in done.text
    assert _count(app, Participation, channel="desk", site="Central Library") == 1
    again = _post(desk, DESK + "/", DESK + "/lookup", {
        "birth_date": made.people["approval"].birth_date.isoformat()})
    assert "Already checked in at Central Library" in again.text

    resident = app.test_client()
    person = made.people["approval"]
    page = resident.get("/cycles/test-cycle/vote/approval/verify")
    response = resident.post("/cycles/test-cycle/vote/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page.text),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    assert response.status_code == 409


def test_lookup_by_bad_date_is_a_clear_422(app):
    _cycle(app)
    desk = _signed_in(app)
    page = _post(desk, DESK + "/", DESK + "/lookup", {"birth_date": "31/12/1980"})
    checked = assert_linked_summary(page, ["birth_date"])
    assert "Date of birth must be a date like" in checked.summary_text
    # the field's name is translated with the rest of the message
    desk.set_cookie("pbvote_lang", "es")
    spanish = _post(desk, DESK + "/", DESK + "/lookup", {"birth_date": "31/12/1980"})
    assert "Fecha de nacimiento debe ser una fecha como" in spanish.text
    desk.set_cookie("pbvote_lang", "en")
    address = _post(desk, DESK + "/", DESK + "/lookup", {"postcode_or_roll": "AB1 2CD"})
    checked = assert_linked_summary(address, ["last_name"])
    assert checked.by_id["postcode_or_roll"].get("value") == "AB1 2CD"


def test_self_declared_form_links_each_missing_field(app):
    _cycle(app, self_declared_allowed=True, allowed_methods="roll,code,self_declared")
    desk = _signed_in(app)
    _post(desk, DESK + "/", DESK + "/site", {"site": "Library"})
    response = _post(desk, DESK + "/self-declared", DESK + "/self-declared", {
        "district": "approval", "display_name": "Ana Ruiz", "last_name": "", "birth_date": "",
        "postcode": "", "proof_seen": ""})
    checked = assert_linked_summary(response, ["last_name", "birth_date", "postcode",
                                               "proof_seen"])
    assert checked.by_id["display_name"].get("value") == "Ana Ruiz"
    unreadable = _post(desk, DESK + "/self-declared", DESK + "/self-declared", {
        "district": "approval", "last_name": "Ruiz", "birth_date": "yesterday",
        "postcode": "AB1", "proof_seen": "utility bill"})
    assert_linked_summary(unreadable, ["birth_date"])


def test_kiosk_needs_a_staff_unlock_for_each_voter_and_stays_locked_down(app):
    made = _cycle(app)
    desk = _signed_in(app)
    _post(desk, DESK + "/", DESK + "/site", {"site": "Library"})
    for kind in ("approval", "ranked"):
        assert _check_in(desk, made, kind=kind, handout="kiosk").status_code == 200

    kiosk = desk  # the desk's own device turns into the kiosk
    response = _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                                   "pin": "2468", "pin_again": "2468"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk/ready")
    # locked down: staff pages and the public site lead back to the start screen
    for path in ("/staff/", DESK + "/", "/", "/audit/"):
        blocked = kiosk.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/kiosk/ready")
    start = kiosk.get("/kiosk/ready")
    assert start.status_code == 200 and "Welcome" in start.text
    assert 'href="/staff' not in start.text and "Sign out" not in start.text
    assert kiosk.get("/kiosk/ballot").status_code == 302  # not unlocked

    def unlock(pin):
        page = kiosk.get("/kiosk/ready")
        pass_id = re.search(r'<option value="([0-9a-f]{32})">', page.text).group(1)
        return kiosk.post("/kiosk/unlock", data={"csrf_token": csrf_token(page.text),
                                                 "pass_id": pass_id, "pin": pin})

    assert unlock("1111").headers["Location"].endswith("/kiosk/ready?error=pin")
    assert kiosk.get("/kiosk/ballot").status_code == 302
    assert unlock("2468").headers["Location"].endswith("/kiosk/ballot")
    ballot = kiosk.get("/kiosk/ballot")
    assert ballot.status_code == 200
    district = "AP" if "Approval" in ballot.text else "RA"
    choice = ({"project": [f"{district}-A"]} if district == "AP" else {f"rank_{district}-A": "1"})
    response = kiosk.post("/kiosk/ballot", data={"csrf_token": csrf_token(ballot.text), **choice})
    assert response.status_code == 302
    review = kiosk.get("/kiosk/review")
    assert kiosk.post("/kiosk/cast", data={"csrf_token": csrf_token(review.text)}).status_code \
        == 302
    done = kiosk.get("/kiosk/done")
    assert done.status_code == 200 and "your ballot is cast" in done.text
    receipt = re.search(r'class="receipt-code">([^<]+)<', done.text).group(1)
    # nothing sends the voter away while they copy the receipt (axe: critical meta-refresh)
    assert 'http-equiv="refresh"' not in done.text.lower()
    again = kiosk.get("/kiosk/done")  # a reload shows it still: the voter decides when done
    assert again.status_code == 200 and receipt in again.text
    # the kiosk pages offer the languages, and switching stays in the kiosk
    assert 'class="language-switcher"' in again.text
    switched = kiosk.get("/language?lang=es&next=/kiosk/done")
    assert switched.headers["Location"].endswith("/kiosk/done")
    assert receipt in kiosk.get("/kiosk/done").text
    kiosk.set_cookie("pbvote_lang", "en")
    assert kiosk.get("/favicon.ico").status_code == 200
    finished = kiosk.post("/kiosk/done", data={"csrf_token": csrf_token(again.text)})
    assert finished.headers["Location"].endswith("/kiosk/ready")
    assert kiosk.get("/kiosk/done").status_code == 302  # done: the receipt is gone
    assert _count(app, Ballot, channel="kiosk") == 1
    # the next voter needs another unlock
    assert kiosk.get("/kiosk/ballot").status_code == 302
    assert unlock("2468").headers["Location"].endswith("/kiosk/ballot")
    leave = kiosk.get("/kiosk/ballot")
    kiosk.post("/kiosk/leave", data={"csrf_token": csrf_token(leave.text)})
    assert kiosk.get("/kiosk/ballot").status_code == 302
    # ending kiosk mode needs the PIN
    page = kiosk.get("/kiosk/ready")
    assert kiosk.post("/kiosk/exit", data={"csrf_token": csrf_token(page.text),
                                           "pin": "2468"}).status_code == 302
    assert kiosk.get("/staff/").status_code == 200


def test_five_wrong_kiosk_pins_end_the_staff_session(app):
    _cycle(app)
    kiosk = _signed_in(app)
    _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                        "pin": "2468", "pin_again": "2468"})
    for _ in range(5):
        page = kiosk.get("/kiosk/ready")
        kiosk.post("/kiosk/exit", data={"csrf_token": csrf_token(page.text), "pin": "0000"})
    response = kiosk.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_paper_double_entry_through_the_pages(app):
    _cycle(app)
    first, second, third = (_signed_in(app) for _ in range(3))
    made_batch = _post(first, PAPER + "/", PAPER + "/print",
                       {"district": "approval", "site": "Library", "count": "2"})
    assert made_batch.status_code == 302
    sheets = first.get(made_batch.headers["Location"])
    assert sheets.status_code == 200 and sheets.text.count('class="paper-sheet"') == 2
    with app.app_context():
        serials = sorted(db.session.scalars(select(PaperSerial.serial)))
    assert all(serial in sheets.text for serial in serials)

    def enter(client, serial, data):
        page = client.get(PAPER + "/enter", query_string={"serial": serial})
        assert page.status_code == 200
        return client.post(PAPER + "/enter", data={"csrf_token": csrf_token(page.text),
                                                   "serial": serial, **data})

    valid = {"outcome": "valid", "project": ["AP-A", "AP-B"]}
    assert enter(first, serials[0], valid).status_code == 302
    same_person = enter(first, serials[0], valid)
    assert same_person.status_code == 409 and "different staff member" in same_person.text
    assert _count(app, Ballot) == 0
    assert enter(second, serials[0], valid).status_code == 302
    assert _count(app, Ballot, channel="paper") == 1
    twice = enter(third, serials[0], valid)
    assert twice.status_code == 409 and "cannot be entered twice" in twice.text

    too_many = enter(first, serials[1], {"outcome": "valid", "project": ["AP-A", "AP-B", "AP-C"]})
    assert too_many.status_code == 422 and "enter it as invalid" in too_many.text
    no_reason = enter(first, serials[1], {"outcome": "spoiled", "reason": ""})
    assert no_reason.status_code == 422
    assert enter(first, serials[1], {"outcome": "spoiled", "reason": "torn"}).status_code == 302
    assert enter(second, serials[1], valid).status_code == 302  # differs: adjudication
    queue = third.get(PAPER + "/")
    assert serials[1] in queue.text
    own = first.get(f"{PAPER}/adjudicate/{serials[1]}")
    response = first.post(f"{PAPER}/adjudicate/{serials[1]}", data={
        "csrf_token": csrf_token(own.text), "outcome": "spoiled", "reason": "torn"})
    assert response.status_code == 409  # the first entrant cannot adjudicate
    page = third.get(f"{PAPER}/adjudicate/{serials[1]}")
    assert page.status_code == 200 and "torn" in page.text
    response = third.post(f"{PAPER}/adjudicate/{serials[1]}", data={
        "csrf_token": csrf_token(page.text), "outcome": "spoiled", "reason": "torn in two"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(PaperSerial.status).where(
            PaperSerial.serial == serials[1])) == "spoiled"
    assert _count(app, Ballot) == 1


def test_auditor_sees_reconciliation_and_runs_the_paper_audit_after_close(app):
    made = _cycle(app)
    desk, second = _signed_in(app), _signed_in(app)
    auditor = _signed_in(app, "auditor")
    _post(desk, DESK + "/", DESK + "/site", {"site": "Library"})
    _check_in(desk, made)
    _post(desk, PAPER + "/", PAPER + "/print", {"district": "approval", "site": "Library",
                                                "count": "3"})
    with app.app_context():
        serials = sorted(db.session.scalars(select(PaperSerial.serial)))
    for client in (desk, second):
        for serial in serials[:2]:
            page = client.get(PAPER + "/enter", query_string={"serial": serial})
            client.post(PAPER + "/enter", data={"csrf_token": csrf_token(page.text),
                                                "serial": serial, "outcome": "valid",
                                                "project": ["AP-C"]})
    report = auditor.get(AUDIT + "/")
    assert report.status_code == 200
    assert "2 paper ballots returned but only 1 handed out" in report.text
    # the mismatch summary takes focus and links each mismatch to its row of the table
    summary = SummaryPage(report.text)
    assert "autofocus" in summary.by_id["error-summary"]
    assert summary.summary_links == ["#site-row-0"]
    assert summary.by_id["site-row-0"].get("tabindex") == "-1"
    assert desk.get(DESK + "/reconciliation").status_code == 200
    assert desk.get(AUDIT + "/").status_code == 403
    # the ballot checks name districts and channels as people say them, not by their codes
    checks = report.text.split("Stored ballots against serials and kiosk passes", 1)[1]
    rows = re.findall(r'id="check-row-\d+"[^>]*><td>([^<]*)</td><td>([^<]*)</td>', checks)
    with app.app_context():
        names = {d.name for d in db.session.get(Cycle, made.cycle_id).districts}
    assert rows and {name for name, _ in rows} == names
    assert {channel for _, channel in rows} == {"Paper ballots", "Kiosk ballots"}
    auditor.set_cookie("pbvote_lang", "es")
    assert "<td>Papeletas en papel</td>" in auditor.get(AUDIT + "/").text
    auditor.set_cookie("pbvote_lang", "en")

    with app.app_context(), write_intent():
        window = db.session.get(Cycle, made.cycle_id).phase_window("voting")
        window.ends_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    page = auditor.get(AUDIT + "/paper-audit")
    bad = auditor.post(AUDIT + "/paper-audit", data={
        "csrf_token": csrf_token(page.text), "seed": "3 1 4", "method": "risk",
        "risk_limit": "5", "margin": "zero"})
    checked = assert_linked_summary(bad, ["margin"])
    assert "reported margin" in checked.summary_text
    assert checked.by_id["seed"].get("value") == "3 1 4"
    started = auditor.post(AUDIT + "/paper-audit", data={
        "csrf_token": csrf_token(page.text), "seed": "3 1 4", "method": "risk",
        "risk_limit": "5", "margin": "10"})
    assert started.status_code == 302
    page = auditor.get(AUDIT + "/paper-audit")
    assert "3 1 4" in page.text and "2 of 2 paper ballots" in page.text
    response = auditor.post(AUDIT + "/paper-audit/finding", data={
        "csrf_token": csrf_token(page.text), "serial": serials[0], "outcome": "valid",
        "project": ["AP-D"]})
    assert response.status_code == 302
    page = auditor.get(AUDIT + "/paper-audit")
    assert "A full hand count is advised." in page.text


def test_a_refused_audit_finding_reopens_its_ballot_and_links_into_it(app):
    made = _cycle(app)
    desk, second = _signed_in(app), _signed_in(app)
    auditor = _signed_in(app, "auditor")
    _post(desk, DESK + "/", DESK + "/site", {"site": "Library"})
    _post(desk, PAPER + "/", PAPER + "/print", {"district": "approval", "site": "Library",
                                                "count": "2"})
    with app.app_context():
        serials = sorted(db.session.scalars(select(PaperSerial.serial)))
    for client in (desk, second):
        for serial in serials:
            page = client.get(PAPER + "/enter", query_string={"serial": serial})
            client.post(PAPER + "/enter", data={"csrf_token": csrf_token(page.text),
                                                "serial": serial, "outcome": "valid",
                                                "project": ["AP-C"]})
    with app.app_context(), write_intent():
        window = db.session.get(Cycle, made.cycle_id).phase_window("voting")
        window.ends_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    page = auditor.get(AUDIT + "/paper-audit")
    assert auditor.post(AUDIT + "/paper-audit", data={
        "csrf_token": csrf_token(page.text), "seed": "7", "method": "percentage",
        "percentage": "100"}).status_code == 302
    page = auditor.get(AUDIT + "/paper-audit")
    sample = re.findall(r'name="serial" value="([^"]+)"', page.text)
    assert sorted(sample) == serials
    target, index = sample[1], 2

    # spoiled without a reason: the summary links to that ballot's reason box
    refused = auditor.post(AUDIT + "/paper-audit/finding", data={
        "csrf_token": csrf_token(page.text), "serial": target, "outcome": "spoiled",
        "reason": "", "project": ["AP-B"]})
    assert refused.status_code == 422
    checked = SummaryPage(refused.text)
    assert checked.summary_links == [f"#s{index}-reason"]
    assert f"s{index}-reason" in checked.by_id
    # its form is open again, as typed; the other ballot's form stays closed and empty
    forms = refused.text.split("<details")[1:]
    opened = [f for f in forms if f.startswith(" open")]
    assert len(opened) == 1 and f'value="{target}"' in opened[0]
    assert f'id="s{index}-choice-AP-B" checked' in opened[0]
    closed = [f for f in forms if f not in opened]
    assert len(closed) == 1 and '-choice-AP-B" checked' not in closed[0]

    # choices that break the rules link to the projects of that ballot, not of another
    too_many = auditor.post(AUDIT + "/paper-audit/finding", data={
        "csrf_token": csrf_token(page.text), "serial": target, "outcome": "valid",
        "project": ["AP-A", "AP-B", "AP-C", "AP-D"]})
    assert too_many.status_code == 422
    links = SummaryPage(too_many.text).summary_links
    assert links and all(link.startswith(f"#s{index}-choice-") for link in links)
    assert all(link[1:] in SummaryPage(too_many.text).by_id for link in links)
