"""The per-process cache of a cycle's configuration (services.voting.voting_cycle) never serves
settings older than the request: every change raises the cycle's config_revision."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, Phase, Project
from pbvote.services import setup, voting
from pbvote.services.roll import RollPerson, add_roll_entry
from tests.factories import make_cycle


def _revision(cycle_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Cycle.config_revision).where(Cycle.id == cycle_id))


def _change(action) -> None:
    with write_intent():
        action()
        db.session.commit()


def test_every_configuration_change_raises_the_revision(app_context):
    with write_intent():
        made = make_cycle()
        db.session.commit()
    cycle_id = made.cycle_id

    def cycle():
        return db.session.get(Cycle, cycle_id)

    def project():
        return db.session.scalars(select(Project).where(Project.cycle_id == cycle_id)).first()

    changes = {
        "cycle name": lambda: setattr(cycle(), "name", "Renamed"),
        "district name": lambda: setattr(cycle().districts[0], "name", "Renamed district"),
        "project title": lambda: setattr(project(), "title", "Renamed project"),
        "phase end": lambda: setattr(cycle().phases[0], "ends_at",
                                     utcnow() + dt.timedelta(days=5)),
        "new phase": lambda: db.session.add(Phase(
            cycle_id=cycle_id, kind="published", starts_at=utcnow() + dt.timedelta(days=6),
            ends_at=utcnow() + dt.timedelta(days=9))),
        "new project": lambda: db.session.add(Project(
            cycle_id=cycle_id, district_id=cycle().districts[0].id, code="NEW-1",
            title="New", cost=10, position=9)),
        "deleted project": lambda: db.session.delete(db.session.scalars(
            select(Project).where(Project.code == "NEW-1")).one()),
    }
    for what, action in changes.items():
        before = _revision(cycle_id)
        _change(action)
        assert _revision(cycle_id) == before + 1, what


def test_voting_and_the_roll_leave_the_revision_alone(app_context):
    with write_intent():
        made = make_cycle()
        db.session.commit()
    before = _revision(made.cycle_id)
    with write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        person = made.people["approval"]
        voter = voting.verify_by_roll(cycle, cycle.district_by_slug("approval"),
                                      person.last_name, person.birth_date, person.postcode)
        voting.cast_ballot(voter, ("AP-A",))
        add_roll_entry(cycle, cycle.districts[0], RollPerson(
            last_name="Later", birth_date=dt.date(1990, 5, 5), postcode="10001",
            roll_number="R500"))
        db.session.commit()
    assert _revision(made.cycle_id) == before


def test_the_cached_cycle_is_reused_until_the_revision_moves(app):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    with app.test_request_context():
        first = voting.voting_cycle(made.slug)
        assert voting.voting_cycle(made.slug) is first
        db.session.remove()
    with app.app_context():
        _change(lambda: setattr(db.session.scalars(select(Project).where(
            Project.cycle_id == made.cycle_id, Project.code == "AP-A")).one(), "title",
            "Brighter crossings"))
    with app.test_request_context():
        again = voting.voting_cycle(made.slug)
        assert again is not first
        titles = {p.code: p.title for d in again.districts for p in d.projects}
        assert titles["AP-A"] == "Brighter crossings"
        # what a page reads is loaded, so the detached objects never need the database
        district = again.district_by_slug("approval")
        assert district.projects[0].district is district and district.cycle is again
        assert district.ballot_design().kind == "approval"
        db.session.remove()


def test_closing_voting_reaches_the_resident_pages_at_once(app, client):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    assert client.get(f"/cycles/{made.slug}/vote/").status_code == 200
    with app.app_context():
        _change(lambda: setup.close_voting(db.session.get(Cycle, made.cycle_id), "staff:test"))
    assert client.get(f"/cycles/{made.slug}/vote/").status_code == 403


def test_a_renamed_project_shows_on_the_next_ballot_page(app, client):
    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    person = made.people["approval"]
    verify = f"/cycles/{made.slug}/vote/approval/verify"
    from tests.conftest import csrf_token

    page = client.get(verify).get_data(as_text=True)
    response = client.post(verify, data={
        "method": "roll", "roll-csrf_token": csrf_token(page),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    assert response.status_code == 302
    assert "Project A" in client.get(f"/cycles/{made.slug}/vote/ballot").get_data(as_text=True)
    with app.app_context():
        _change(lambda: setattr(db.session.scalars(select(Project).where(
            Project.cycle_id == made.cycle_id, Project.code == "AP-A")).one(), "title",
            "Brighter crossings"))
    page = client.get(f"/cycles/{made.slug}/vote/ballot").get_data(as_text=True)
    assert "Brighter crossings" in page and "Project A<" not in page


def test_a_cast_that_finds_the_cache_empty_does_not_wait_for_itself(app, client,
                                                                     monkeypatch):
    """A worker's first request may be a cast (a restart mid-journey). On SQLite it holds
    the write lock from its first query, so loading the cycle in a second connection must
    not ask for that lock too, or it waits for its own request until the busy timeout."""
    from pbvote.infra import extensions

    with app.app_context(), write_intent():
        made = make_cycle()
        db.session.commit()
    person = made.people["approval"]
    base = f"/cycles/{made.slug}/vote"
    from tests.conftest import csrf_token

    page = client.get(f"{base}/approval/verify").text
    client.post(f"{base}/approval/verify", data={
        "method": "roll", "roll-csrf_token": csrf_token(page),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode})
    ballot = client.get(f"{base}/ballot").text
    client.post(f"{base}/ballot", data={"csrf_token": csrf_token(ballot), "project": ["AP-A"]})
    review = client.get(f"{base}/review").text
    # a new process: nothing cached, fresh connections with a short busy timeout
    app.extensions["pbvote_voting_cycles"].clear()
    monkeypatch.setitem(extensions._sqlite_busy_timeout, "ms", 500)
    with app.app_context():
        db.engine.dispose()
    response = client.post(f"{base}/cast", data={"csrf_token": csrf_token(review)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/receipt")
