"""The desk's look-up never hides a match and keeps personal data out of every address
(issue #15 defect 5; issue #21 item 7), on both engines."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote_plus

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import in_person
from pbvote.services.roll import RollPerson, add_roll_entry
from tests.conftest import csrf_token
from tests.factories import make_cycle
from tests.staff_helpers import login, make_account

DESK = "/staff/cycles/test-cycle/desk"
SMITHS = 130  # more than the 50 the look-up used to stop at


def _setup(app, **changes):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=0)
        cycle = db.session.get(Cycle, made.cycle_id)
        for name, value in changes.items():
            setattr(cycle, name, value)
        district = cycle.districts[0]
        for i in range(SMITHS):
            entry = add_roll_entry(cycle, district, RollPerson(
                "Smith", dt.date(1950, 1, 1) + dt.timedelta(days=i), f"SM{i:03}", f"S{i}"))
            entry.display_name = f"Smith {i:03}"
        db.session.commit()
    with app.app_context():
        account = make_account("staff")
    client = app.test_client()
    login(client, *account[1:])
    return client


def test_every_match_is_reachable_and_the_true_count_is_shown(app):
    desk = _setup(app)
    with app.app_context():
        cycle = db.session.scalar(db.select(Cycle))
        first = in_person.lookup_roll(cycle, name="smith")
        assert first.total == SMITHS and first.pages == -(-SMITHS // len(first))
        seen = []
        for page in range(1, first.pages + 1):
            seen += [m.display_name for m in in_person.lookup_roll(cycle, name="smith",
                                                                     page=page)]
        assert seen == [f"Smith {i:03}" for i in range(SMITHS)]
    # the last Smith, whom the old look-up never showed, is on the last page of the desk
    page = desk.get(DESK + "/")
    token = csrf_token(page.text)
    shown = desk.post(DESK + "/lookup", data={"csrf_token": token, "name": "Smith"})
    assert shown.status_code == 200
    assert f"{SMITHS} people match. Narrow your search" in shown.text
    assert f"{SMITHS} matches: 1–25 shown" in shown.text
    last_page = -(-SMITHS // 25)
    assert f"Page 1 of {last_page}" in shown.text
    last = desk.post(DESK + "/lookup", data={"csrf_token": token, "name": "Smith",
                                             "page": str(last_page)})
    assert f"Smith {SMITHS - 1:03}" in last.text
    assert "Smith 000" not in last.text


def _urls(html: str) -> list[str]:
    return [unquote_plus(u) for u in re.findall(r'(?:href|action|src)="([^"]*)"', html)]


def test_no_personal_data_in_any_url_the_desk_produces(app):
    desk = _setup(app, self_declared_allowed=True,
                  allowed_methods="roll,code,desk,self_declared")
    page = desk.get(DESK + "/")
    token = csrf_token(page.text)
    forms = re.findall(r'<form[^>]*>', page.text)
    lookup_form = next(f for f in forms if "lookup" in f)
    assert 'method="post"' in lookup_form
    secrets_typed = ["Smith 007", "1950-01-08", "SM007", "Ana Ruiz", "Ruiz", "1999-09-09",
                     "ZZ1 9ZZ"]
    responses = [page]
    for data in ({"name": "Smith 007"}, {"birth_date": "1950-01-08"},
                 {"last_name": "Smith", "birth_date": "1950-01-08", "postcode_or_roll": "SM007"},
                 {"postcode_or_roll": "SM007"}, {"name": "Smith", "page": "2"}):
        responses.append(desk.post(DESK + "/lookup", data={"csrf_token": token, **data}))
    desk.post(DESK + "/site", data={"csrf_token": token, "site": "Library"})
    added = desk.post(DESK + "/self-declared", data={
        "csrf_token": token, "district": "approval", "display_name": "Ana Ruiz",
        "last_name": "Ruiz", "birth_date": "1999-09-09", "postcode": "ZZ1 9ZZ",
        "proof_seen": "utility bill"})
    assert added.status_code == 302
    location = unquote_plus(added.headers["Location"])
    after = desk.get(added.headers["Location"])
    assert "Ana Ruiz" in after.text  # the page shows the new entry, found by its id
    responses.append(after)
    entry_id = re.search(r'name="roll_entry_id" value="(\d+)"', after.text).group(1)
    checked = desk.post(DESK + "/check-in", data={"csrf_token": token, "roll_entry_id": entry_id,
                                                  "id_checked": "yes", "handout": "paper"})
    responses.append(checked)
    urls = [location] + [url for response in responses for url in _urls(response.text)]
    for url in urls:
        for secret in secrets_typed:
            assert secret.lower() not in url.lower(), (secret, url)
    # and the old look-up by address does nothing: the desk reads no personal data from a URL
    old = desk.get(DESK + "/", query_string={"name": "Smith"})
    assert old.status_code == 200 and "Smith 000" not in old.text
