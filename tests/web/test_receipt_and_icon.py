"""Issue #17, item 8: the receipt page says truthfully how long it is shown, and every page
has an icon (browsers ask for /favicon.ico)."""
from __future__ import annotations

from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Ballot
from tests.conftest import csrf_token
from tests.web.test_resident_path import BALLOT_FORMS, _cast, _submit_ballot, _verify_by_roll


def test_a_reloaded_receipt_page_does_not_claim_it_cannot_be_shown_again(app, client, made):
    assert _verify_by_roll(client, made, "approval").status_code == 302
    assert _submit_ballot(client, made, BALLOT_FORMS["approval"]).status_code == 302
    cast = _cast(client, made)
    first = client.get(cast.location)
    with app.app_context():
        receipt = db.session.scalar(select(Ballot.receipt))
    reloaded = client.get(cast.location)
    assert receipt in first.text and receipt in reloaded.text
    for page in (first, reloaded):
        assert "cannot show it again" not in page.text
        assert "once you press Done or close your browser" in page.text
    done = client.post(f"/cycles/{made.slug}/vote/leave",
                       data={"csrf_token": csrf_token(reloaded.text)})
    assert done.status_code == 302
    after = client.get(cast.location, follow_redirects=True)
    assert receipt not in after.text


def test_the_site_has_an_icon_linked_from_its_pages(client, made):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon" and icon.data[:4] == b"\0\0\1\0"
    assert 'rel="icon" href="/favicon.ico"' in client.get(f"/cycles/{made.slug}").text


def test_you_took_part_email_says_only_that_and_the_receipt(app, client, made):
    from pbvote.models import OutboxMessage

    assert _verify_by_roll(client, made, "approval").status_code == 302
    assert _submit_ballot(client, made, BALLOT_FORMS["approval"]).status_code == 302
    receipt_url = _cast(client, made).location
    page = client.get(receipt_url).text
    url = f"/cycles/{made.slug}/vote/receipt/email"
    bad = client.post(url, data={"csrf_token": csrf_token(page), "email": "<script>@x"})
    assert bad.status_code == 422 and "Enter an email address like" in bad.text
    sent = client.post(url, data={"csrf_token": csrf_token(page), "email": "Me@Example.org"})
    assert sent.status_code == 302
    shown = client.get(receipt_url).text
    assert "We sent your receipt code to me@example.org" in shown
    again = client.post(url, data={"csrf_token": csrf_token(shown), "email": "other@x.org"})
    assert again.status_code == 409
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        receipt = db.session.scalar(select(Ballot.receipt))
    mine = [m for m in messages if m.recipient == "me@example.org"]
    assert len(mine) == 1 and receipt in mine[0].body
    for code in ("AP-A", "AP-B", "Project A", "Project B"):  # never the choices
        assert code not in mine[0].body and code not in mine[0].subject
    assert not [m for m in messages if m.recipient == "other@x.org"]
