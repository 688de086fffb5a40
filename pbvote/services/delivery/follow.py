"""Following a funded project by email: double opt-in, an unsubscribe link in every message,
no account. Only SHA-256 hashes of the tokens are stored."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from flask import has_request_context, url_for
from sqlalchemy import select

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    Cycle,
    FollowSubscription,
    Project,
    Proposal,
    ProposalProjectLink,
)
from pbvote.services import mail
from pbvote.services.errors import DomainError, NotFound

CONFIRM_HOURS = 48
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class TokenRefused(DomainError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: outside a request (the demo, the CLI) there is no host to name: the path still works
_PATHS = {"delivery.confirm_follow": "/follow/confirm", "delivery.unsubscribe": "/unsubscribe"}


def _link(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    from urllib.parse import quote

    base = f"/cycles/{values['slug']}/delivery"
    if endpoint == "delivery.project":
        return f"{base}/projects/{quote(values['code'])}"
    return f"{base}{_PATHS[endpoint]}?token={values['token']}"


def request_follow(cycle: Cycle, project: dict, email: str,
                   now: dt.datetime | None = None) -> None:
    """Send a confirmation link. The answer is the same whether or not the address already
    follows, so the form tells nobody who follows what."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise DomainError(_("Enter an email address such as name@example.org."), 422,
                          [("email", _("Enter an email address such as name@example.org."))])
    now = now or utcnow()
    subscription = db.session.scalar(select(FollowSubscription).where(
        FollowSubscription.cycle_id == cycle.id,
        FollowSubscription.project_code == project["project"],
        FollowSubscription.email == email))
    if subscription is not None and subscription.status == "confirmed":
        return
    confirm = secrets.token_urlsafe(24)
    if subscription is None:
        subscription = FollowSubscription(cycle_id=cycle.id, project_code=project["project"],
                                          email=email,
                                          unsubscribe_hash=_hash(secrets.token_urlsafe(24)))
        db.session.add(subscription)
    subscription.status = "pending"
    subscription.confirm_hash = _hash(confirm)
    subscription.confirm_expires_at = now + dt.timedelta(hours=CONFIRM_HOURS)
    db.session.flush()
    mail.send(email, _("Confirm: follow “%(title)s”", title=project["title"]), "\n\n".join([
        _("Someone (we hope you) asked to receive updates on “%(title)s”, a project funded in "
          "%(cycle)s.", title=project["title"], cycle=cycle.name),
        _("To confirm, open this link and press the button within %(hours)s hours:",
          hours=CONFIRM_HOURS),
        _link("delivery.confirm_follow", slug=cycle.slug, token=confirm),
        _("If you did not ask for this, ignore this message: nothing will be sent.")]))


def _by_token(column, token: str) -> FollowSubscription:
    subscription = None
    if token and len(token) < 200:
        subscription = db.session.scalar(select(FollowSubscription).where(
            column == _hash(token)))
    if subscription is None:
        raise NotFound(_("This link is not valid. It may have been used already or copied "
                         "incompletely."))
    return subscription


def confirm_follow(cycle: Cycle, token: str, now: dt.datetime | None = None
                   ) -> FollowSubscription:
    subscription = _by_token(FollowSubscription.confirm_hash, token)
    if subscription.cycle_id != cycle.id:
        raise NotFound(_("This link is not valid. It may have been used already or copied "
                         "incompletely."))
    if subscription.confirm_expires_at is None or (now or utcnow()) > \
            subscription.confirm_expires_at:
        raise TokenRefused(_("This confirmation link has expired. Ask to follow the project "
                             "again to get a new one."), 410)
    subscription.status = "confirmed"
    subscription.confirm_hash = None
    subscription.confirm_expires_at = None
    db.session.flush()
    return subscription


def check_unsubscribe_token(token: str) -> FollowSubscription:
    return _by_token(FollowSubscription.unsubscribe_hash, token)


def unsubscribe(token: str) -> FollowSubscription:
    subscription = _by_token(FollowSubscription.unsubscribe_hash, token)
    subscription.status = "unsubscribed"
    subscription.confirm_hash = None
    db.session.flush()
    return subscription


def notify_followers(cycle: Cycle, project: dict, text: str) -> int:
    """Mail an update to every confirmed follower, each with a new one-click unsubscribe
    link (a fresh token per message, so an old message's link still works: the hash is
    replaced only after the new one is sent)."""
    followers = list(db.session.scalars(select(FollowSubscription).where(
        FollowSubscription.cycle_id == cycle.id,
        FollowSubscription.project_code == project["project"],
        FollowSubscription.status == "confirmed").order_by(FollowSubscription.id)))
    for subscription in followers:
        token = secrets.token_urlsafe(24)
        subscription.unsubscribe_hash = _hash(token)
        mail.send(subscription.email, _("Update: %(title)s", title=project["title"]),
                  "\n\n".join([
                      _("There is news on “%(title)s”, a project funded in %(cycle)s:",
                        title=project["title"], cycle=cycle.name),
                      text,
                      _("See everything about it: %(link)s",
                        link=_link("delivery.project", slug=cycle.slug,
                                   code=project["project"])),
                      _("Stop these messages with one click: %(link)s",
                        link=_link("delivery.unsubscribe", slug=cycle.slug, token=token))]))
    db.session.flush()
    return len(followers)


def offer_to_authors(cycle: Cycle, funded: list[dict]) -> int:
    """Authors of the ideas behind each funded project get a confirmation link to follow it."""
    codes = {item["project"]: item for item in funded}
    rows = db.session.execute(select(Project.code, Proposal.author_id).join(
        ProposalProjectLink, ProposalProjectLink.project_id == Project.id).join(
        Proposal, Proposal.id == ProposalProjectLink.proposal_id).where(
        Project.cycle_id == cycle.id))
    sent = 0
    from pbvote.models import Account

    for code, author_id in rows:
        author = db.session.get(Account, author_id)
        if code in codes and author is not None and author.is_active:
            request_follow(cycle, codes[code], author.email)
            sent += 1
    return sent
