"""Cycles collecting ideas, residents signed in by the real email-code flow, and reading
the development outbox."""
from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle, OutboxMessage, Phase
from tests.conftest import csrf_token
from tests.factories import make_cycle

#: payloads that must come out inert wherever they are shown
XSS = ('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>')


def make_intake_cycle(slug: str = "test-cycle", intake: str = "open") -> int:
    """A committed cycle whose intake phase is open now (or closed, or not yet open), with
    voting later. Call in an app context; returns the cycle id."""
    now = utcnow()
    day = dt.timedelta(days=1)
    with write_intent():
        made = make_cycle(slug, voting="not_yet")
        cycle = db.session.get(Cycle, made.cycle_id)
        voting = cycle.phase_window("voting")
        voting.starts_at, voting.ends_at = now + 3 * day, now + 4 * day
        start, end = {"open": (-1, 2), "closed": (-3, -2), "not_yet": (1, 2)}[intake]
        cycle.phases.append(Phase(kind="intake", starts_at=now + start * day,
                                  ends_at=now + end * day))
        db.session.commit()
        return made.cycle_id


def latest_mail(recipient: str | None = None) -> OutboxMessage | None:
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if recipient:
        statement = statement.where(OutboxMessage.recipient == recipient)
    return db.session.scalars(statement).first()


def code_from_outbox(app, email: str) -> str:
    with app.app_context():
        message = latest_mail(email.strip().lower())
        return re.search(r"\b(\d{6})\b", message.body).group(1)


def request_code(client, email: str, next_path: str = ""):
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"csrf_token": csrf_token(page.text), "email": email,
                                         "next": next_path})


def enter_code(client, code: str):
    page = client.get("/sign-in/code")
    return client.post("/sign-in/code", data={"csrf_token": csrf_token(page.text),
                                              "code": code})


def sign_in_by_email(client, email: str) -> None:
    """The whole resident sign-in, as a browser does it; asserts it worked."""
    assert request_code(client, email).status_code == 302
    response = enter_code(client, code_from_outbox(client.application, email))
    assert response.status_code == 302, response.text[:300]


def png_bytes(size: tuple[int, int] = (8, 6)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def token(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_token(page.text)
