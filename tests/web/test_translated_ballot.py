"""The online ballot shows project titles and summaries in the resident's language."""
from __future__ import annotations

from sqlalchemy import select

from pbvote.db import write_intent
from pbvote.extensions import db
from pbvote.models import Project
from pbvote.services.translations import save_translations
from pbvote.web.i18n import LANGUAGE_COOKIE
from tests.conftest import csrf_token
from tests.factories import make_cycle


def test_the_ballot_and_review_show_the_spanish_title_and_summary(app, client):
    with app.app_context(), write_intent():
        made = make_cycle()
        project = db.session.scalars(select(Project).where(Project.code == "AP-A")).one()
        project.summary = "Brighter lamps on the square"
        save_translations(project, {("es", "title"): "Alumbrado en la plaza",
                                    ("es", "summary"): "Farolas más brillantes en la plaza"},
                          "staff:test")
        db.session.commit()
    person = made.people["approval"]
    client.set_cookie(LANGUAGE_COOKIE, "es")
    verify = f"/cycles/{made.slug}/vote/approval/verify"
    page = client.get(verify).text
    assert client.post(verify, data={
        "method": "roll", "roll-csrf_token": csrf_token(page),
        "roll-last_name": person.last_name, "roll-birth_date": person.birth_date.isoformat(),
        "roll-postcode_or_roll": person.postcode}).status_code == 302
    ballot = client.get(f"/cycles/{made.slug}/vote/ballot").text
    assert "Alumbrado en la plaza" in ballot and "Farolas más brillantes" in ballot
    assert "Brighter lamps" not in ballot
    assert "Project B" in ballot  # no translation: the original
    review = client.post(f"/cycles/{made.slug}/vote/ballot", data={
        "csrf_token": csrf_token(ballot), "project": ["AP-A"]}, follow_redirects=True).text
    assert "Alumbrado en la plaza" in review
