"""ASVS 4.0.3 V4.2.1 (no insecure direct object references), V4.1.3 (least privilege).

Two cycles, A and B, made the same way. Changing an id in a URL or form never reaches an object
of the other cycle, district or person: a voter verified for A/approval reaches neither
another district's ballot nor B's; access codes work only in their own district and cycle;
tally runs, paper batches and serials, roll entries at the desk, kiosk passes, roll uploads,
access-code exports and ideas answer 404 (or a refusal) under the other cycle's URL.
Staff may open either cycle's pages by changing the slug: that is their job.
"""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Cycle, Participation, RollEntry
from pbvote.services import in_person, proposals, publication
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.proposal_helpers import make_intake_cycle, sign_in_by_email
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import login, make_account

STAFF = "/staff/cycles"


def _two_cycles(app, voting="open"):
    with app.app_context(), write_intent():
        a, b = make_cycle("cycle-a", voting=voting), make_cycle("cycle-b", voting=voting)
        db.session.commit()
    return a, b


def _staff(app, role="staff"):
    with app.app_context():
        account = make_account(role)
    client = app.test_client()
    login(client, *account[1:])
    client.account = account
    return client


def _post(client, path, data, page=None, **kwargs):
    page = client.get(page or path)
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)


def _verify(client, slug, district, **form):
    page = client.get(f"/cycles/{slug}/vote/{district}/verify")
    token_field = "roll-csrf_token" if form.get("method") == "roll" else "code-csrf_token"
    return client.post(f"/cycles/{slug}/vote/{district}/verify",
                       data={token_field: csrf_token(page.text), **form})


def _ballots(app, slug):
    with app.app_context():
        cycle_id = db.session.scalar(select(Cycle.id).where(Cycle.slug == slug))
        return db.session.scalar(select(func.count()).select_from(Ballot)
                                 .where(Ballot.cycle_id == cycle_id))


def test_a_verified_voter_reaches_only_their_own_cycle_and_district(app):
    a, b = _two_cycles(app)
    voter = app.test_client()
    person = a.people["approval"]
    assert _verify(voter, "cycle-a", "approval", **{
        "method": "roll", "roll-last_name": person.last_name,
        "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code == 302
    own = voter.get("/cycles/cycle-a/vote/ballot")
    assert own.status_code == 200 and "AP-A" in own.text and "KN-A" not in own.text
    # cycle B's ballot pages do not take A's verification
    assert voter.get("/cycles/cycle-b/vote/ballot").status_code == 302
    token = csrf_token(own.text)
    assert voter.post("/cycles/cycle-b/vote/ballot", data={
        "csrf_token": token, "project": ["AP-A"]}).status_code == 302
    assert voter.get("/cycles/cycle-b/vote/review").status_code == 302
    assert voter.post("/cycles/cycle-b/vote/cast", data={"csrf_token": token}).status_code == 302
    # another district's projects are not on this ballot
    refused = voter.post("/cycles/cycle-a/vote/ballot", data={
        "csrf_token": token, "project": ["KN-A"]})
    assert refused.status_code == 422
    assert _ballots(app, "cycle-a") == 0 and _ballots(app, "cycle-b") == 0


def test_access_codes_work_only_in_their_own_district_and_cycle(app):
    a, _ = _two_cycles(app)
    code = a.codes["approval"][0]
    for slug, district in (("cycle-a", "knapsack"), ("cycle-b", "approval")):
        response = _verify(app.test_client(), slug, district, method="code",
                           **{"code-code": code})
        assert 400 <= response.status_code < 500, (slug, district, response.status_code)
    assert _verify(app.test_client(), "cycle-a", "approval", method="code",
                   **{"code-code": code}).status_code == 302


def test_roll_people_verify_only_in_their_own_district(app):
    a, _ = _two_cycles(app)
    person = a.people["approval"]
    response = _verify(app.test_client(), "cycle-a", "knapsack", **{
        "method": "roll", "roll-last_name": person.last_name,
        "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    assert 400 <= response.status_code < 500


def test_tally_runs_do_not_cross_cycles(app):
    with app.app_context(), write_intent():
        cycle_with_ballots("closed", slug="cycle-a")
        cycle_with_ballots("closed", slug="cycle-b")
        db.session.commit()
    staff = _staff(app)
    with app.app_context(), write_intent():
        actor = db.session.get(Account, staff.account[0])
        cycle_b = db.session.scalar(select(Cycle).where(Cycle.slug == "cycle-b"))
        run_b = publication.run_tally(cycle_b, actor).id
        db.session.commit()
    assert staff.get(f"{STAFF}/cycle-b/results/runs/{run_b}").status_code == 200
    assert staff.get(f"{STAFF}/cycle-a/results/runs/{run_b}").status_code == 404
    admin = _staff(app, "admin")
    page = f"{STAFF}/cycle-b/results/runs/{run_b}"
    for step in ("request", "confirm"):
        response = _post(admin, f"{STAFF}/cycle-a/results/runs/{run_b}/{step}", {}, page=page)
        assert response.status_code == 404, (step, response.status_code)


def test_paper_desk_and_kiosk_ids_do_not_cross_cycles(app):
    a, b = _two_cycles(app)
    staff = _staff(app)
    with app.app_context(), write_intent():
        actor = db.session.get(Account, staff.account[0])
        cycle_b = db.session.scalar(select(Cycle).where(Cycle.slug == "cycle-b"))
        batch_b = in_person.print_serials(cycle_b, "approval", "Library", 2, actor)
        entry_b = db.session.scalar(select(RollEntry.id).where(
            RollEntry.cycle_id == cycle_b.id).order_by(RollEntry.id))
        kiosk_entry_b = db.session.scalars(select(RollEntry.id).where(
            RollEntry.cycle_id == cycle_b.id).order_by(RollEntry.id)).all()[1]
        check_in = in_person.check_in(cycle_b, kiosk_entry_b, site="Library", id_checked=True,
                                      handout="kiosk", actor=actor)
        pass_b = check_in.kiosk_pass_id
        serial_b = in_person.batch_serials(cycle_b, batch_b)[0].serial
        db.session.commit()
    assert staff.get(f"{STAFF}/cycle-b/paper/batches/{batch_b}").status_code == 200
    assert staff.get(f"{STAFF}/cycle-a/paper/batches/{batch_b}").status_code == 404
    assert staff.get(f"{STAFF}/cycle-a/paper/adjudicate/{serial_b}").status_code == 404
    desk = f"{STAFF}/cycle-a/desk/"
    _post(staff, f"{STAFF}/cycle-a/desk/site", {"site": "Library"}, page=desk)
    checked_in = _post(staff, f"{STAFF}/cycle-a/desk/check-in", {
        "roll_entry_id": str(entry_b), "id_checked": "yes", "handout": "paper"}, page=desk)
    assert checked_in.status_code == 404, checked_in.status_code
    cancelled = _post(staff, f"{STAFF}/cycle-a/desk/passes/cancel", {"pass_id": pass_b},
                      page=desk)
    assert cancelled.status_code == 404
    with app.app_context():
        participations = db.session.scalar(select(func.count()).select_from(Participation))
        assert participations == 1  # only the check-in made above through the service


def test_roll_uploads_and_code_exports_stay_with_their_cycle(app):
    """A stashed roll file or a one-time code export belongs to the cycle it was made for:
    under another cycle's URL it is 404, and it still works under its own."""
    _two_cycles(app)
    staff = _staff(app)
    upload = _post(staff, f"{STAFF}/cycle-b/roll", {"file": (io.BytesIO(
        b"Surname,DOB,Postcode,Ward\nLee,1980-01-01,AB1,approval\n"), "roll.csv")},
        content_type="multipart/form-data")
    assert upload.status_code == 302
    token = upload.headers["Location"].rsplit("/", 1)[1]
    assert staff.get(f"{STAFF}/cycle-a/roll/{token}").status_code == 404
    assert staff.get(f"{STAFF}/cycle-b/roll/{token}").status_code in (200, 422)
    letters = _post(staff, f"{STAFF}/cycle-b/codes", {"district": "approval", "count": "1"})
    assert letters.status_code == 200
    export = re.search(r'/codes/export/([^"]+)"', letters.text).group(1)
    assert staff.get(f"{STAFF}/cycle-a/codes/export/{export}").status_code == 404
    assert staff.get(f"{STAFF}/cycle-b/codes/export/{export}").status_code == 200


def test_ideas_do_not_cross_cycles_or_authors(app):
    with app.app_context():
        make_intake_cycle("cycle-a")
        make_intake_cycle("cycle-b")
    author, other = app.test_client(), app.test_client()
    sign_in_by_email(author, "author@example.org")
    sign_in_by_email(other, "other@example.org")
    with app.app_context(), write_intent():
        account = db.session.scalar(select(Account).where(Account.email == "author@example.org"))
        cycle_b = db.session.scalar(select(Cycle).where(Cycle.slug == "cycle-b"))
        idea_b = proposals.submit(cycle_b, account, {
            "title": "A safer crossing", "description": "Lights at the school crossing.",
            "category": "Street lighting", "district": "approval", "location": "Mill Road",
            "cost_estimate": "15000"}).id
        db.session.commit()
    assert app.test_client().get(f"/cycles/cycle-b/ideas/{idea_b}").status_code == 200
    assert author.get(f"/my/ideas/{idea_b}").status_code == 200
    assert other.get(f"/my/ideas/{idea_b}").status_code == 404
    assert other.get(f"/my/ideas/{idea_b}/edit").status_code == 404
    assert app.test_client().get(f"/cycles/cycle-a/ideas/{idea_b}").status_code == 404
