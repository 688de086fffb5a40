"""The filled-in ballot between review and cast, kept on the server.

The voter's session cookie is signed, not encrypted, and names the verified identity; if it
also held the choices, one cookie (in a browser profile, a proxy log, a stolen laptop)
would tell how that person is about to vote. The session holds only a random token; the
choices are here, under the token's hash, without any identity.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from sqlalchemy import delete, select

from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import PendingBallot

#: as long as a verified session lasts (web.vote.VERIFIED_SESSION_SECONDS is 30 minutes)
PENDING_SECONDS = 3600


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def keep(district_id: int, selections_json, token: str | None = None) -> str:
    """Store the choices (replacing those under ``token``, if any); returns the token."""
    now = utcnow()
    if token:
        discard(token)
    # a few expired rows go with every new one, so the table never grows
    db.session.execute(delete(PendingBallot).where(PendingBallot.token_hash.in_(
        select(PendingBallot.token_hash).where(PendingBallot.expires_at < now).limit(20)
        .scalar_subquery())))
    token = secrets.token_urlsafe(24)
    db.session.add(PendingBallot(
        token_hash=_hash(token), district_id=district_id, selections=_text(selections_json),
        expires_at=now + dt.timedelta(seconds=PENDING_SECONDS)))
    db.session.flush()
    return token


def read(token: str | None, district_id: int):
    """The kept choices (as stored), or None when there are none, for another district, or
    expired."""
    if not token:
        return None
    row = db.session.get(PendingBallot, _hash(token))
    if row is None or row.district_id != district_id or row.expires_at < utcnow():
        return None
    return json.loads(row.selections)


def discard(token: str | None) -> None:
    if token:
        db.session.execute(delete(PendingBallot).where(PendingBallot.token_hash == _hash(token)))


def _text(selections_json) -> str:
    return json.dumps(selections_json, sort_keys=True, separators=(",", ":"))
