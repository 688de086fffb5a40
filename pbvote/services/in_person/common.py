"""What the desk, kiosk, paper and audit code share: the refusal, site names, district lookup."""
from __future__ import annotations

import datetime as dt

from pbvote.i18n_hook import _
from pbvote.models import Cycle, District
from pbvote.rules import ballots
from pbvote.services.errors import DomainError, NotFound

MAX_SITE_LENGTH = 120


class InPersonRefused(DomainError):
    """A refusal about the state of things (409) unless a status is given."""

    def __init__(self, message: str, status: int = 409, reasons: list | None = None):
        super().__init__(message, status, reasons or [])


def _bad_input(message: str, *fields: str) -> InPersonRefused:
    """A 422 about what was typed; `fields` name the desk form's fields it is about, so the
    page can link the message to them."""
    return InPersonRefused(message, 422,
                           [ballots.Reason(name, "bad_input", message) for name in fields])


def clean_site(site: str) -> str:
    site = " ".join((site or "").split())
    if not site:
        raise _bad_input(_("Enter the site (for example the library's name)."))
    if len(site) > MAX_SITE_LENGTH:
        raise _bad_input(_("The site name is longer than %(most)s characters.",
                           most=MAX_SITE_LENGTH))
    return site


def _actor_label(account) -> str:
    return account.label


def _today(cycle: Cycle, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(cycle.timezone)).date()


def _district(cycle: Cycle, district_slug: str) -> District:
    district = cycle.district_by_slug(district_slug)
    if district is None:
        raise NotFound(_("There is no such district in this cycle."))
    return district
