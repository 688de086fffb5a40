"""Intake settings (categories, a per-resident limit) and whether intake is open now."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from pbvote.i18n_hook import _
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle, IntakeSettings
from pbvote.rules import proposals as rules
from pbvote.rules.ballots import Reason
from pbvote.services import log
from pbvote.services.proposals.common import IntakeClosed, ProposalRefused


@dataclass(frozen=True)
class IntakeConfig:
    categories: list[str]
    max_per_person: int | None
    support_threshold: int | None = None


def intake_config(cycle: Cycle) -> IntakeConfig:
    row = db.session.get(IntakeSettings, cycle.id)
    if row is None:
        return IntakeConfig(list(rules.DEFAULT_CATEGORIES), None)
    return IntakeConfig(row.categories, row.max_per_person, row.support_threshold)


def save_intake_settings(cycle: Cycle, staff: Account, categories_text: str,
                         max_per_person_text: str,
                         support_threshold_text: str = "") -> IntakeConfig:
    categories = rules.parse_category_lines(categories_text)
    reasons = rules.category_list_problems(categories)
    limit = rules.parse_amount(max_per_person_text)
    if isinstance(limit, Reason):
        reasons.append(Reason("max_per_person", "limit_invalid",
                              _("Enter the limit as a whole number, or leave it empty.")))
        limit = None
    elif limit is not None and limit > 10_000:
        reasons.append(Reason("max_per_person", "limit_too_large", _("Enter a smaller limit.")))
    threshold = rules.parse_amount(support_threshold_text or "")
    if isinstance(threshold, Reason) or (threshold is not None and not 0 < threshold <= 100_000):
        reasons.append(Reason("support_threshold", "threshold_invalid",
                              _("Enter the number of supports as a whole number from 1 to "
                                "100,000, or leave it empty.")))
        threshold = None
    if reasons:
        raise ProposalRefused(reasons)
    before = intake_config(cycle)
    row = db.session.get(IntakeSettings, cycle.id)
    if row is None:
        row = IntakeSettings(cycle_id=cycle.id)
        db.session.add(row)
    row.categories_json = json.dumps(categories)
    row.max_per_person = limit or None
    row.support_threshold = threshold or None
    db.session.flush()
    after = intake_config(cycle)
    if after != before:
        log.record_action(cycle.chain_id, "intake.settings_updated", staff.label, {
            "cycle": cycle.slug, "before": before.__dict__, "after": after.__dict__})
    return after


def intake_open(cycle: Cycle, now: dt.datetime | None = None) -> bool:
    window = cycle.phase_window("intake")
    return window is not None and rules.in_window(window.starts_at, window.ends_at,
                                                  now or utcnow())


def _refuse_unless_intake(cycle: Cycle, now: dt.datetime | None) -> None:
    if not intake_open(cycle, now):
        raise IntakeClosed()

