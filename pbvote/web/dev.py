"""Development-only pages: the mail outbox (sign-in codes, status emails).

Policy: 404 unless pbvote.services.mail.outbox_is_visible (debug or test runs, or SHOW_DEV_OUTBOX,
and never in production or when mail really goes out)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import OutboxMessage
from pbvote.services import mail
from pbvote.web.guards import set_policy

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _only_in_development():
    if not mail.outbox_is_visible(current_app):
        abort(404)


set_policy(bp.name, _only_in_development)



@bp.get("/outbox")
def outbox():
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())
                                  .limit(100)).all()
    return render_template("dev/outbox.html", messages=messages)
