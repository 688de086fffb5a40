"""The filled-in ballot between review and cast, kept on the server.

The voter's session cookie is signed, not encrypted, and names the verified identity; if it
also held the choices, one cookie (in a browser profile, a proxy log, a stolen laptop)
would tell how that person is about to vote. The session holds only a random token; the
choices are here, under the token's hash, without any identity.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time

from sqlalchemy import delete, select

from pbvote.infra.extensions import db
from pbvote.models import PendingBallot
from pbvote.services import revision_reads

# English: SQL, not a message
_READ_SQL = "SELECT district_id, selections, expires_at FROM pending_ballot WHERE token_hash = {}"

#: as long as a verified session lasts (web.vote.VERIFIED_SESSION_SECONDS is 30 minutes)
PENDING_SECONDS = 3600


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def keep(district_id: int, selections_json, token: str | None = None) -> str:
    """Store the choices (replacing those under ``token``, if any); returns the token."""
    now = int(time.time())
    if token:
        discard(token)
    # a few expired rows go with every new one, so the table never grows
    db.session.execute(delete(PendingBallot).where(PendingBallot.token_hash.in_(
        select(PendingBallot.token_hash).where(PendingBallot.expires_at < now).limit(20)
        .scalar_subquery())))
    token = secrets.token_urlsafe(24)
    db.session.add(PendingBallot(
        token_hash=_hash(token), district_id=district_id, selections=_text(selections_json),
        expires_at=now + PENDING_SECONDS))
    db.session.flush()
    return token


def read(token: str | None, district_id: int):
    """The kept choices (as stored), or None when there are none, for another district, or
    expired. A plain autocommit read outside the ORM session (services.revision_reads), so
    the ballot and review pages still open no session of their own."""
    if not token:
        return None
    row = revision_reads.read(_READ_SQL, _hash(token))
    if row is None or int(row[0]) != district_id or int(row[2]) < time.time():
        return None
    return json.loads(row[1])


def discard(token: str | None) -> None:
    if token:
        db.session.execute(delete(PendingBallot).where(PendingBallot.token_hash == _hash(token)))


def _text(selections_json) -> str:
    return json.dumps(selections_json, sort_keys=True, separators=(",", ":"))
