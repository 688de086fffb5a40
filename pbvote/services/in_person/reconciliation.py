"""Reconciliation per site and district: desk check-ins against the paper and kiosk ballots."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Cycle, Participation
from pbvote.models.in_person import KioskPass, PaperSerial


@dataclass
class SiteRow:
    """desk check-ins = paper counted + spoiled + invalid + awaiting entry + kiosk ballots +
    kiosk passes cancelled or still waiting + paper unreturned."""

    site: str
    district_slug: str
    district_name: str
    desk_checkins: int = 0
    paper_counted: int = 0
    paper_spoiled: int = 0
    paper_invalid: int = 0
    paper_awaiting_entry: int = 0
    kiosk_ballots: int = 0
    kiosk_not_used: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def kiosk_passes(self) -> int:
        return self.kiosk_ballots + self.kiosk_not_used

    @property
    def paper_handed_out(self) -> int:
        return self.desk_checkins - self.kiosk_passes

    @property
    def paper_returned(self) -> int:
        return (self.paper_counted + self.paper_spoiled + self.paper_invalid
                + self.paper_awaiting_entry)

    @property
    def paper_unreturned(self) -> int:
        return self.paper_handed_out - self.paper_returned

    @property
    def balanced(self) -> bool:
        return not self.problems


@dataclass
class OnlineRow:
    district_slug: str
    district_name: str
    participations: int
    ballots: int

    @property
    def balanced(self) -> bool:
        return self.participations == self.ballots


@dataclass
class DistrictCheck:
    """The ballot table against the serials and passes, per district and channel."""

    district_slug: str
    channel: str
    ballots: int
    expected: int
    district_name: str = ""

    @property
    def balanced(self) -> bool:
        return self.ballots == self.expected


@dataclass
class Reconciliation:
    sites: list[SiteRow]
    online: list[OnlineRow]
    ballot_checks: list[DistrictCheck]

    @property
    def mismatches(self) -> list[Mismatch]:
        """Each figure that does not reconcile, with the id of its row in the report's tables
        (site-row-N, online-row-N, check-row-N: N its index in sites, online, ballot_checks)."""
        found = [Mismatch(f"site-row-{index}", f"{row.site} · {row.district_name}: {problem}")
                 for index, row in enumerate(self.sites) for problem in row.problems]
        found += [Mismatch(f"online-row-{index}", _(
            "%(district)s: %(participations)s online participations but %(ballots)s online "
            "ballots", district=row.district_name, participations=row.participations,
            ballots=row.ballots)) for index, row in enumerate(self.online) if not row.balanced]
        found += [Mismatch(f"check-row-{index}", _(
            "%(district)s: %(ballots)s %(channel)s ballots stored but %(expected)s recorded as "
            "cast", district=check.district_slug, ballots=check.ballots, channel=check.channel,
            expected=check.expected))
            for index, check in enumerate(self.ballot_checks) if not check.balanced]
        return found


@dataclass(frozen=True)
class Mismatch:
    row_id: str
    message: str


def reconciliation(cycle: Cycle) -> Reconciliation:
    districts = {d.id: d for d in cycle.districts}
    rows: dict[tuple[str, int], SiteRow] = {}

    def row(site: str, district_id: int) -> SiteRow:
        key = (site, district_id)
        if key not in rows:
            district = districts[district_id]
            rows[key] = SiteRow(site, district.slug, district.name)
        return rows[key]

    for district_id, site, count in db.session.execute(
            select(Participation.district_id, Participation.site, func.count())
            .where(Participation.cycle_id == cycle.id, Participation.channel == "desk")
            .group_by(Participation.district_id, Participation.site)):
        row(site, district_id).desk_checkins = int(count)
    for district_id, site, status, count in db.session.execute(
            select(KioskPass.district_id, KioskPass.site, KioskPass.status, func.count())
            .where(KioskPass.cycle_id == cycle.id)
            .group_by(KioskPass.district_id, KioskPass.site, KioskPass.status)):
        target = row(site, district_id)
        if status == "used":
            target.kiosk_ballots += int(count)
        else:
            target.kiosk_not_used += int(count)
    for district_id, site, status, count in db.session.execute(
            select(PaperSerial.district_id, PaperSerial.site, PaperSerial.status, func.count())
            .where(PaperSerial.cycle_id == cycle.id, PaperSerial.status != "printed")
            .group_by(PaperSerial.district_id, PaperSerial.site, PaperSerial.status)):
        target = row(site, district_id)
        if status == "counted":
            target.paper_counted += int(count)
        elif status == "spoiled":
            target.paper_spoiled += int(count)
        elif status == "invalid":
            target.paper_invalid += int(count)
        else:
            target.paper_awaiting_entry += int(count)
    for site_row in rows.values():
        if site_row.paper_handed_out < 0:
            site_row.problems.append(
                _("%(kiosk_passes)s kiosk passes but only %(desk_checkins)s desk check-ins",
                  kiosk_passes=site_row.kiosk_passes, desk_checkins=site_row.desk_checkins))
        elif site_row.paper_unreturned < 0:
            site_row.problems.append(
                _("%(returned)s paper ballots returned but only %(handed_out)s handed out",
                  returned=site_row.paper_returned, handed_out=site_row.paper_handed_out))
        if site_row.paper_awaiting_entry:
            site_row.problems.append(_("%(paper_awaiting_entry)s paper ballots not yet committed "
                                       "(second entry or adjudication outstanding)",
                                       paper_awaiting_entry=site_row.paper_awaiting_entry))
    ballot_counts = Counter({(d, c): int(n) for d, c, n in db.session.execute(
        select(Ballot.district_id, Ballot.channel, func.count())
        .where(Ballot.cycle_id == cycle.id).group_by(Ballot.district_id, Ballot.channel))})
    online_participations = Counter({d: int(n) for d, n in db.session.execute(
        select(Participation.district_id, func.count())
        .where(Participation.cycle_id == cycle.id, Participation.channel == "online")
        .group_by(Participation.district_id))})
    online = [OnlineRow(d.slug, d.name, online_participations[d.id],
                        ballot_counts[(d.id, "online")]) for d in cycle.districts]
    # Kiosk ballots cast through cast_ballot(channel="kiosk") carry their own participation.
    kiosk_participations = Counter({d: int(n) for d, n in db.session.execute(
        select(Participation.district_id, func.count())
        .where(Participation.cycle_id == cycle.id, Participation.channel == "kiosk")
        .group_by(Participation.district_id))})
    checks = []
    for district in cycle.districts:
        paper = sum(r.paper_counted for (s, d), r in rows.items() if d == district.id)
        kiosk = sum(r.kiosk_ballots for (s, d), r in rows.items() if d == district.id)
        checks.append(DistrictCheck(district.slug, "paper", ballot_counts[(district.id, "paper")],
                                    paper, district.name))
        checks.append(DistrictCheck(district.slug, "kiosk", ballot_counts[(district.id, "kiosk")],
                                    kiosk + kiosk_participations[district.id], district.name))
    ordered = sorted(rows.values(), key=lambda r: (r.site, districts_position(cycle, r)))
    return Reconciliation(ordered, online, checks)


def districts_position(cycle: Cycle, row: SiteRow) -> int:
    return next((d.position for d in cycle.districts if d.slug == row.district_slug), 0)


def bundle_figures(cycle: Cycle) -> dict:
    """Per district, what the published bundle needs to reconcile desk participations with
    the paper and kiosk ballots: not_cast = desk check-ins whose ballot was never counted."""
    report = reconciliation(cycle)
    figures: dict[str, dict[str, int]] = {}
    for row in report.sites:
        entry = figures.setdefault(row.district_slug, {
            "desk_checkins": 0, "paper_counted": 0, "kiosk_ballots": 0, "spoiled": 0,
            "invalid": 0, "awaiting_entry": 0, "kiosk_not_used": 0, "unreturned": 0,
            "not_cast": 0})
        entry["desk_checkins"] += row.desk_checkins
        entry["paper_counted"] += row.paper_counted
        entry["kiosk_ballots"] += row.kiosk_ballots
        entry["spoiled"] += row.paper_spoiled
        entry["invalid"] += row.paper_invalid
        entry["awaiting_entry"] += row.paper_awaiting_entry
        entry["kiosk_not_used"] += row.kiosk_not_used
        entry["unreturned"] += row.paper_unreturned
    for entry in figures.values():
        entry["not_cast"] = (entry["desk_checkins"] - entry["paper_counted"]
                             - entry["kiosk_ballots"])
    return figures
