""""Email me when the results are out": double opt-in, one email per confirmed address when
the results are published, in the language of the page the resident subscribed from.

Like following a project (services/delivery/follow.py): no account, only SHA-256 hashes of
the tokens are stored, and every email to a confirmed address carries a one-click
unsubscribe link. The address itself is deleted once the results email is sent or on
unsubscribe.

Exactly once: the "results.notify" job (queued by publication.confirm_publication) claims
each confirmed subscription with one conditional UPDATE (confirmed → sent) in the same
transaction that sends (outbox row) or queues (SMTP "mail.send" job) its email, and commits
per batch. A re-run, a retry after a crash or a second job finds no confirmed row to claim
for an address already told.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import delete, func, select, update

from pbvote.i18n_hook import _, n_
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Chain, Cycle, Job, ResultsSubscription
from pbvote.services import jobs, mail
from pbvote.services.delivery.follow import CONFIRM_HOURS, EMAIL
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.translations import TRANSLATION_LOCALES, project_titles, translated_text

JOB_KIND = "results.notify"
LOCALES: tuple[str, ...] = ("en", *TRANSLATION_LOCALES)
#: subscriptions told per committed step
BATCH_SIZE = 50


class TokenRefused(DomainError):
    pass


class ResultsAlreadyOut(DomainError):
    """The results are published: nothing to wait for (the page links them instead)."""

    def __init__(self) -> None:
        super().__init__(_("The results are already out: nothing was saved. You can read them "
                           "now."), 409)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, _hash(token)


def _link(endpoint: str, **values) -> str:
    """Called within _in_language or the job's request, so there is always a host."""
    return url_for(endpoint, _external=True, **values)


def normal_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "en"


@contextmanager
def _in_language(locale: str):
    """Translate as `locale`; outside a request (the job) inside one made for it."""
    from flask_babel import force_locale

    if has_request_context():
        with force_locale(locale):
            yield
        return
    with current_app.test_request_context("/"), force_locale(locale):
        yield


def _published(cycle: Cycle) -> bool:
    from pbvote.services.publication import published_results

    return published_results(cycle) is not None


def _hour_ceiling(moment: dt.datetime) -> dt.datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + dt.timedelta(hours=1)


# ----- subscribing ---------------------------------------------------------------------------
def request_notice(cycle: Cycle, email: str, locale: str,
                   now: dt.datetime | None = None) -> None:
    """Send a confirmation link in `locale`. The answer is the same whether or not the
    address already waits for these results, so the form tells nobody who subscribed."""
    locale = normal_locale(locale)
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        message = _("Enter an email address such as name@example.org.")
        raise DomainError(message, 422, [("email", message)])
    if _published(cycle):
        raise ResultsAlreadyOut()
    now = now or utcnow()
    subscription = db.session.scalar(select(ResultsSubscription).where(
        ResultsSubscription.cycle_id == cycle.id, ResultsSubscription.email == email))
    if subscription is not None and subscription.status == "confirmed":
        return
    confirm, confirm_hash = _new_token()
    if subscription is None:
        subscription = ResultsSubscription(cycle_id=cycle.id, email=email,
                                           created_on=now.date())
        db.session.add(subscription)
    subscription.status = "pending"
    subscription.locale = locale
    subscription.confirm_hash = confirm_hash
    subscription.confirm_expires_at = _hour_ceiling(now + dt.timedelta(hours=CONFIRM_HOURS))
    db.session.flush()
    with _in_language(locale):
        name = translated_text(cycle, "name", locale)
        mail.send(email, _("Confirm: email me the results of %(cycle)s", cycle=name),
                  "\n\n".join([
                      _("Someone (we hope you) asked to be told by email when the results of "
                        "%(cycle)s are out.", cycle=name),
                      _("To confirm, open this link and press the button within %(hours)s "
                        "hours:", hours=CONFIRM_HOURS),
                      _link("results_notice.confirm", slug=cycle.slug, token=confirm),
                      _("If you did not ask for this, ignore this message: nothing will be "
                        "sent.")]))


def _invalid_link() -> NotFound:
    return NotFound(_("This link is not valid. It may have been used already or copied "
                      "incompletely."))


def _by_token(cycle: Cycle, column, token: str) -> ResultsSubscription:
    subscription = None
    if token and len(token) < 200:
        subscription = db.session.scalar(select(ResultsSubscription).where(
            column == _hash(token), ResultsSubscription.cycle_id == cycle.id))
    if subscription is None:
        raise _invalid_link()
    return subscription


@dataclass(frozen=True)
class Confirmed:
    #: the unsubscribe token for the page's "changed your mind?" link; None when the
    #: results were already out and nothing was kept
    unsubscribe_token: str | None
    locale: str

    @property
    def results_out(self) -> bool:
        return self.unsubscribe_token is None


def confirm_notice(cycle: Cycle, token: str, now: dt.datetime | None = None) -> Confirmed:
    """Confirm the address. If the results are already published, the subscription is
    deleted instead (nothing is left to wait for)."""
    # Serialised with publication (which locks the same row first): a confirmation either
    # commits before the snapshot, and the job tells it, or sees the snapshot.
    db.session.scalar(for_update(select(Chain.id).where(Chain.id == cycle.chain_id)))
    subscription = _by_token(cycle, ResultsSubscription.confirm_hash, token)
    if subscription.confirm_expires_at is None or (now or utcnow()) > \
            subscription.confirm_expires_at:
        raise TokenRefused(_("This confirmation link has expired. Ask again to be told when "
                             "the results are out, to get a new one."), 410)
    locale = subscription.locale
    if _published(cycle):
        db.session.delete(subscription)
        db.session.flush()
        return Confirmed(None, locale)
    unsubscribe, unsubscribe_hash = _new_token()
    subscription.status = "confirmed"
    subscription.confirm_hash = None
    subscription.confirm_expires_at = None
    subscription.unsubscribe_hash = unsubscribe_hash
    db.session.flush()
    return Confirmed(unsubscribe, locale)


def check_unsubscribe_token(cycle: Cycle, token: str) -> ResultsSubscription:
    return _by_token(cycle, ResultsSubscription.unsubscribe_hash, token)


def unsubscribe(cycle: Cycle, token: str) -> None:
    """Forget the address. A subscription already told keeps its "sent" state (the staff
    count of who was told stays true); its link stops working."""
    subscription = _by_token(cycle, ResultsSubscription.unsubscribe_hash, token)
    if subscription.status != "sent":
        subscription.status = "unsubscribed"
    subscription.email = None
    subscription.confirm_hash = None
    subscription.confirm_expires_at = None
    subscription.unsubscribe_hash = None
    db.session.flush()


def delete_expired(now: dt.datetime | None = None) -> int:
    """Pending subscriptions whose link expired, with their addresses (retention)."""
    return db.session.execute(delete(ResultsSubscription).where(
        ResultsSubscription.status == "pending",
        ResultsSubscription.confirm_expires_at < (now or utcnow()))).rowcount


# ----- telling them --------------------------------------------------------------------------
def schedule(cycle: Cycle, actor) -> str:
    """Queue the results email (publication calls this in its transaction). The site's
    address is taken from the request, so the links in the emails lead back to it."""
    site = request.url_root if has_request_context() else ""
    return jobs.enqueue(JOB_KIND, {"cycle_id": cycle.id, "site": site},
                        created_by=getattr(actor, "label", ""), cycle_id=cycle.id)


def _count(cycle_id: int, *statuses: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ResultsSubscription).where(
        ResultsSubscription.cycle_id == cycle_id,
        ResultsSubscription.status.in_(statuses))) or 0


def headline(cycle: Cycle, results: dict, locale: str) -> list[str]:
    """One line per district: the projects funded, titles in `locale` (call it translating
    as `locale`)."""
    titles = project_titles(cycle.id, locale)
    lines = []
    for district in results["districts"]:
        by_id = {p["id"]: p["title"] for p in district["projects"]}
        funded = [titles.get(code, by_id.get(code, code))
                  for code in district["outcome"]["selected"]]
        lines.append(_("%(district)s: %(projects)s", district=district["name"],
                       projects="; ".join(funded) if funded else
                       _("no project was funded")))
    return lines


def _results_mail(cycle: Cycle, results: dict, locale: str, unsubscribe_token: str
                  ) -> tuple[str, str]:
    name = translated_text(cycle, "name", locale)
    subject = _("The results of %(cycle)s are out", cycle=name)
    body = "\n\n".join([
        _("You asked to be told when the results of %(cycle)s were out. Residents chose "
          "these projects:", cycle=name),
        "\n".join(f"- {line}" for line in headline(cycle, results, locale)),
        _("Read the full results, how they were counted and how to check them: %(link)s",
          link=_link("results.page", slug=cycle.slug)),
        _("This is the only email about these results, and your address is already deleted. "
          "Unsubscribe with one click: %(link)s",
          link=_link("results_notice.unsubscribe", slug=cycle.slug, token=unsubscribe_token)),
    ])
    return subject, body


def _tell(cycle: Cycle, results: dict, subscription_id: int) -> bool:
    """Claim one confirmed subscription and send its email in this transaction."""
    row = db.session.execute(select(ResultsSubscription.email, ResultsSubscription.locale)
                             .where(ResultsSubscription.id == subscription_id,
                                    ResultsSubscription.status == "confirmed")).first()
    if row is None or not row.email:
        return False
    token, token_hash = _new_token()
    claimed = db.session.execute(
        update(ResultsSubscription).where(ResultsSubscription.id == subscription_id,
                                          ResultsSubscription.status == "confirmed")
        .values(status="sent", email=None, unsubscribe_hash=token_hash)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:  # another run told them a moment ago
        return False
    locale = normal_locale(row.locale)
    with _in_language(locale):
        subject, body = _results_mail(cycle, results, locale, token)
    mail.send(row.email, subject, body)
    return True


def tell_subscribers(ctx) -> str:
    from pbvote.services.publication import published_results

    cycle = jobs.cycle_of(ctx.payload)
    snapshot = published_results(cycle)
    if snapshot is None:
        raise jobs.JobFailed(_("The results of this cycle are not published."))
    results = json.loads(snapshot.results_json)
    with current_app.test_request_context("/", base_url=ctx.payload.get("site") or None):
        while True:
            sent = _count(cycle.id, "sent")
            waiting = list(db.session.scalars(
                select(ResultsSubscription.id).where(
                    ResultsSubscription.cycle_id == cycle.id,
                    ResultsSubscription.status == "confirmed")
                .order_by(ResultsSubscription.id).limit(BATCH_SIZE)))
            ctx.set_total(sent + _count(cycle.id, "confirmed"))
            if not waiting:
                ctx.step(sent)
                break
            for subscription_id in waiting:
                sent += _tell(cycle, results, subscription_id)
            ctx.step(sent)
    return n_("%(num)s resident was told the results are out.",
              "%(num)s residents were told the results are out.", sent)


jobs.register(JOB_KIND, max_attempts=5)(tell_subscribers)


# ----- what staff see ------------------------------------------------------------------------
@dataclass(frozen=True)
class NoticeStatus:
    confirmed: int
    sent: int
    job: jobs.Progress | None


def notice_status(cycle: Cycle) -> NoticeStatus:
    job_id = db.session.scalar(select(Job.id).where(Job.cycle_id == cycle.id,
                                                    Job.kind == JOB_KIND)
                               .order_by(Job.created_at.desc()).limit(1))
    return NoticeStatus(_count(cycle.id, "confirmed"), _count(cycle.id, "sent"),
                        jobs.progress(job_id) if job_id else None)
