"""Kiosk passes: the checked-in voter's ballot on a kiosk, or the pass cancelled."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Cycle, District
from pbvote.models.in_person import KioskPass
from pbvote.services import log, voting
from pbvote.services.errors import NotFound, VotingClosed
from pbvote.services.in_person.common import InPersonRefused, _actor_label


def waiting_passes(cycle: Cycle, site: str | None = None) -> list[KioskPass]:
    query = select(KioskPass).where(KioskPass.cycle_id == cycle.id,
                                    KioskPass.status == "waiting")
    if site:
        query = query.where(KioskPass.site == site)
    return list(db.session.scalars(query.order_by(KioskPass.site, KioskPass.id)))


def _waiting_pass(cycle: Cycle, pass_id: str) -> KioskPass:
    kiosk_pass = db.session.scalar(for_update(select(KioskPass).where(
        KioskPass.id == pass_id, KioskPass.cycle_id == cycle.id)))
    if kiosk_pass is None:
        raise NotFound(_("This kiosk pass does not exist."))
    if kiosk_pass.status != "waiting":
        raise InPersonRefused(_("This kiosk pass has already been used or cancelled."))
    return kiosk_pass


def get_waiting_pass(cycle: Cycle, pass_id: str) -> KioskPass:
    kiosk_pass = db.session.get(KioskPass, pass_id)
    if kiosk_pass is None or kiosk_pass.cycle_id != cycle.id:
        raise NotFound(_("This kiosk pass does not exist."))
    if kiosk_pass.status != "waiting":
        raise InPersonRefused(_("This kiosk pass has already been used or cancelled."))
    return kiosk_pass


def cast_kiosk_ballot(cycle: Cycle, pass_id: str, selections,
                      now: dt.datetime | None = None) -> voting.CastReceipt:
    """The checked-in voter's ballot on a kiosk: a ballot without a participation."""
    now = now or utcnow()
    if not cycle.voting_open(now):
        raise VotingClosed()
    kiosk_pass = _waiting_pass(cycle, pass_id)
    district = db.session.get(District, kiosk_pass.district_id)
    result = voting.record_in_person_ballot(cycle, district, selections, channel="kiosk",
                                            site=kiosk_pass.site)
    kiosk_pass.status = "used"
    db.session.flush()
    return result


def cancel_pass(cycle: Cycle, pass_id: str, actor) -> None:
    """The voter left without using the kiosk. Their check-in stands: they cannot vote again."""
    kiosk_pass = _waiting_pass(cycle, pass_id)
    kiosk_pass.status = "cancelled"
    db.session.flush()
    log.record_action(cycle.chain_id, "kiosk.pass_cancelled", _actor_label(actor), {
        "district": kiosk_pass.district.slug, "site": kiosk_pass.site,
        "before": {"status": "waiting"}, "after": {"status": "cancelled"}})
