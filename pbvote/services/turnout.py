"""Turnout and equity figures: who took part, by district × channel × day and by age band.

Reads participation only (never ballots), joined to the roll entry with the same identity
hash for the date of birth, which participation itself never stores; the database bands the
dates of birth itself (one CASE), so it returns a few hundred groups, not one per birth
date. Three grouped queries give every chart and table; the figures are cached per cycle
for a minute, so a busy dashboard costs the database three queries a minute.

Channels: the participation's channel (online, desk, paper, kiosk), except that a resident a
desk added to the roll as self-declared counts as "self-declared", and one who voted online
after an online self-declaration as "self-declared-online" (part of "online" in
participation.json; the city reviews these per district). Age: whole years on the
reference day (the last day of voting once it has closed, else today), banded
(:data:`pbvote.rules.turnout.AGE_BANDS`); people who voted with an access code that is not
linked to a roll entry have no known age.
"""
from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from pbvote.audit import suppression
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Cycle, District, Participation, RollEntry, SelfDeclaration
from pbvote.models.in_person import DeskRollAddition
from pbvote.rules import turnout as rules

CACHE_SECONDS = 60
#: cycle id → (monotonic time, figures)
_CACHE: dict[int, tuple[float, dict]] = {}


def clear_cache() -> None:
    _CACHE.clear()


def reference_day(cycle: Cycle, now: dt.datetime | None = None) -> dt.date:
    """The day ages are counted on: the last voting day once voting closed, else today."""
    zone = ZoneInfo(cycle.timezone)
    now = now or utcnow()
    window = cycle.phase_window("voting")
    if window is not None and now >= window.ends_at:
        now = window.ends_at - dt.timedelta(microseconds=1)
    return now.astimezone(zone).date()


def figures(cycle: Cycle, now: dt.datetime | None = None, cached: bool = True) -> dict:
    """Every turnout figure of the cycle (see :func:`_compute`), cached for a minute."""
    hit = _CACHE.get(cycle.id) if cached else None
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    data = _compute(cycle, reference_day(cycle, now))
    if cached:
        _CACHE[cycle.id] = (time.monotonic(), data)
    return data


def _compute(cycle: Cycle, on: dt.date) -> dict:
    """``{"reference_day", "minimum_age", "districts": [{"slug", "name"}], "channels", "days",
    "bands", "by_channel" | "by_day" | "by_band": {slug: {key: n}}, "eligible": {slug: n},
    "eligible_by_band": {slug: {band: n}}}``; only non-zero counts are listed."""
    districts = db.session.execute(select(District.id, District.slug, District.name).where(
        District.cycle_id == cycle.id).order_by(District.position, District.id)).all()
    slug_of = {row.id: row.slug for row in districts}
    declared = case((DeskRollAddition.id.isnot(None), 1),
                    (SelfDeclaration.id.isnot(None), 2), else_=0).label("declared")
    band = _band_of(RollEntry.birth_date, on).label("band")
    # Core rows (no ORM row processing): at city scale these are tens of thousands of rows
    connection = db.session.connection()
    cube = connection.execute(
        select(Participation.district_id, Participation.channel, Participation.voted_on,
               band, declared, func.count())
        .select_from(Participation)
        .outerjoin(RollEntry, and_(RollEntry.cycle_id == Participation.cycle_id,
                                   RollEntry.identity_hash == Participation.identity_hash))
        .outerjoin(DeskRollAddition, DeskRollAddition.roll_entry_id == RollEntry.id)
        .outerjoin(SelfDeclaration, and_(
            SelfDeclaration.cycle_id == Participation.cycle_id,
            SelfDeclaration.identity_hash == Participation.identity_hash))
        .where(Participation.cycle_id == cycle.id)
        .group_by(Participation.district_id, Participation.channel, Participation.voted_on,
                  band, declared)).all()
    roll_band = _band_of(RollEntry.birth_date, on).label("band")
    roll = connection.execute(
        select(RollEntry.district_id, roll_band, func.count())
        .where(RollEntry.cycle_id == cycle.id,
               RollEntry.birth_date <= rules.latest_birth_date(max(cycle.minimum_age, 0), on))
        .group_by(RollEntry.district_id, roll_band)).all()
    codes = db.session.execute(
        select(AccessCode.district_id, func.count())
        .where(AccessCode.cycle_id == cycle.id, AccessCode.status != "voided",
               AccessCode.roll_entry_id.is_(None))
        .group_by(AccessCode.district_id)).all()

    by_channel: dict[str, dict[str, int]] = {slug: {} for slug in slug_of.values()}
    by_day: dict[str, dict[str, int]] = {slug: {} for slug in slug_of.values()}
    by_band: dict[str, dict[str, int]] = {slug: {} for slug in slug_of.values()}
    for district_id, channel, day, age_band, is_declared, count in cube:
        slug = slug_of[district_id]
        if is_declared == 1:
            channel = "self-declared"
        elif is_declared == 2 and channel == "online":
            channel = rules.SELF_DECLARED_ONLINE
        _add(by_channel[slug], channel, count)
        _add(by_day[slug], day.isoformat(), count)
        _add(by_band[slug], age_band, count)
    eligible_by_band: dict[str, dict[str, int]] = {slug: {} for slug in slug_of.values()}
    for district_id, age_band, count in roll:
        _add(eligible_by_band[slug_of[district_id]], age_band, count)
    for district_id, count in codes:
        _add(eligible_by_band[slug_of[district_id]], rules.UNKNOWN_AGE, count)
    days = sorted({day for counts in by_day.values() for day in counts})
    used_channels = {c for counts in by_channel.values() for c in counts}
    bands = [key for key, _, _ in rules.AGE_BANDS] + [rules.UNKNOWN_AGE]
    used_bands = {b for counts in [*by_band.values(), *eligible_by_band.values()] for b in counts}
    return {
        "reference_day": on.isoformat(), "minimum_age": cycle.minimum_age,
        "districts": [{"slug": row.slug, "name": row.name} for row in districts],
        "channels": [c for c in rules.CHANNELS if c in used_channels]
                    + sorted(used_channels - set(rules.CHANNELS)),
        "days": days,
        "bands": [b for b in bands if b in used_bands],
        "by_channel": by_channel, "by_day": by_day, "by_band": by_band,
        "eligible": {slug: sum(c.values()) for slug, c in eligible_by_band.items()},
        "eligible_by_band": eligible_by_band,
    }


def _band_of(birth_date, on: dt.date):
    """The age band of a date of birth as SQL: one CASE over the bands' latest birth dates
    (:func:`pbvote.rules.turnout.band_cutoffs`), so the database groups by band instead of
    by exact date (tens of thousands of groups at city scale)."""
    return case((birth_date.is_(None), rules.UNKNOWN_AGE),
                *[(birth_date <= latest, key) for key, latest in rules.band_cutoffs(on)],
                else_=rules.UNKNOWN_AGE)


def _add(counts: dict, key: str, n: int) -> None:
    counts[key] = counts.get(key, 0) + int(n)


def public_tables(data: dict) -> dict:
    """The three tables with every cell of 1 to 9 hidden and complementary cells hidden too
    (:func:`pbvote.audit.suppression.suppress`): what the public page, the CSV and results.json
    show."""
    rows = [d["slug"] for d in data["districts"]]
    out = {"threshold": suppression.THRESHOLD, "reference_day": data["reference_day"]}
    for name, columns, counts in (("channel", data["channels"], data["by_channel"]),
                                  ("day", data["days"], data["by_day"]),
                                  ("age", data["bands"], data["by_band"])):
        table = suppression.build(rows, columns, {(slug, key): n for slug, values in counts.items()
                                            for key, n in values.items()})
        out[name] = suppression.suppress(table).published()
    return out
