"""The voter's session cookie never links the person to their choices (issue #21 item 6),
on both engines.

Between the ballot and the cast, the cookie (signed, not encrypted: anyone holding it can
read it) names the verified identity. Before, it also held the chosen projects. Now the
choices are kept on the server under the hash of a random token, with no identity, and the
cookie holds only the token.
"""
from __future__ import annotations

import base64
import json
import zlib

from sqlalchemy import inspect, select

from pbvote.infra.extensions import db
from pbvote.models import Ballot, PendingBallot
from tests.web.test_resident_path import (
    BALLOT_FORMS,
    _cast,
    _submit_ballot,
    _verify_by_roll,
)

CODES = ("AP-A", "AP-B")


def _cookie_payload(app, client) -> str:
    """What anyone holding the session cookie can read (itsdangerous: base64, maybe zlib)."""
    value = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    compressed = value.startswith(".")
    body = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8")


def test_the_cookie_names_the_voter_but_never_the_choices(app, client, made):
    _verify_by_roll(client, made, "approval")
    submitted = _submit_ballot(client, made, BALLOT_FORMS["approval"])
    assert submitted.status_code == 302
    payload = _cookie_payload(app, client)
    assert "identity" in payload  # the verified voter is in it...
    assert not [code for code in CODES if code in payload], payload  # ...their choices not
    review = client.get(f"/cycles/{made.slug}/vote/review")
    assert "Project A" in review.text and "Project B" in review.text  # shown for review
    with app.app_context():
        rows = db.session.scalars(select(PendingBallot)).all()
        assert len(rows) == 1 and json.loads(rows[0].selections) == list(CODES)
        columns = {c.name for c in inspect(PendingBallot).columns}
        assert columns == {"token_hash", "district_id", "selections", "expires_at"}
    _cast(client, made)
    with app.app_context():
        assert db.session.scalars(select(PendingBallot)).all() == []
        assert json.loads(db.session.scalar(select(Ballot.selections))) == list(CODES)


def test_changing_the_ballot_replaces_the_kept_choices(app, client, made):
    _verify_by_roll(client, made, "approval")
    _submit_ballot(client, made, BALLOT_FORMS["approval"])
    _submit_ballot(client, made, {"project": ["AP-C"]})
    with app.app_context():
        rows = db.session.scalars(select(PendingBallot)).all()
        assert [json.loads(r.selections) for r in rows] == [["AP-C"]]
    page = client.get(f"/cycles/{made.slug}/vote/review")
    assert "Project C" in page.text and "Project A" not in page.text
