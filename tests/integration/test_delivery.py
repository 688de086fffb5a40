"""Delivery records on SQLite and PostgreSQL: opening, every status transition, refusals,
money and overruns, milestones, updates with photos, corrections, append-only history."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import func, select

from pbvote.audit.delivery import TRANSITIONS, fold
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Chain, LogEntry
from pbvote.services.delivery import records
from pbvote.services.errors import DomainError
from tests.delivery_helpers import funded_codes, people, published_cycle, tracked_cycle


@pytest.fixture
def tracked(app_context):
    with write_intent():
        cycle, accounts = tracked_cycle()
        db.session.commit()
    return cycle, accounts


def _photo(size=(40, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    out.seek(0)
    return out


def _entries(cycle) -> list[tuple[int, str, str]]:
    chain = records.delivery_chain(cycle)
    return list(db.session.execute(select(LogEntry.position, LogEntry.kind, LogEntry.entry_hash)
                                   .where(LogEntry.chain_id == chain.id)
                                   .order_by(LogEntry.position)))


def test_opening_gives_every_funded_project_a_record_linked_to_the_results(tracked):
    cycle, _accounts = tracked
    state = records.require_state(cycle)
    snapshot = json.loads(db.session.scalar(select(func.max(LogEntry.entry_json)).where(
        LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "delivery.opened")))
    assert snapshot["data"]["funded"] == len(state["projects"]) > 0
    assert all(p["status"] == "planned" for p in state["projects"].values())
    assert state["opened"]["results_hash"]
    with pytest.raises(DomainError) as again:
        records.open_delivery(cycle, _accounts["editor"])
    assert again.value.status == 409


def test_delivery_needs_published_results(app_context):
    from tests.results_helpers import cycle_with_ballots

    with write_intent():
        made = cycle_with_ballots("closed")
        accounts = people()
        from pbvote.models import Cycle

        cycle = db.session.get(Cycle, made.cycle_id)
        with pytest.raises(DomainError) as refused:
            records.open_delivery(cycle, accounts["admin"])
    assert refused.value.status == 409


@pytest.mark.parametrize("who", ["staff", "auditor", "resident"])
def test_only_granted_editors_and_admins_may_record(tracked, who):
    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    before = _entries(cycle)
    with pytest.raises(DomainError) as refused:
        records.set_progress(cycle, accounts[who], code, "10")
    assert refused.value.status == 403
    assert _entries(cycle) == before
    records.set_progress(cycle, accounts["admin"], code, "10")
    assert records.require_state(cycle)["projects"][code]["progress"] == 10


def test_only_an_admin_grants_and_revokes_editors(tracked):
    cycle, accounts = tracked
    with pytest.raises(DomainError) as refused:
        records.grant_editor(cycle, accounts["editor"], accounts["staff"].email)
    assert refused.value.status == 403
    with pytest.raises(DomainError) as not_staff:
        records.grant_editor(cycle, accounts["admin"], accounts["resident"].email)
    assert not_staff.value.status == 422
    records.revoke_editor(cycle, accounts["admin"], accounts["editor"].id)
    with pytest.raises(DomainError):
        records.set_progress(cycle, accounts["editor"], funded_codes(cycle)[0], "5")
    kinds = db.session.scalars(select(LogEntry.kind).where(LogEntry.chain_id == cycle.chain_id))
    assert {"delivery.editor_granted", "delivery.editor_revoked"} <= set(kinds)


ALL_PAIRS = [(a, b) for a in TRANSITIONS for b in TRANSITIONS if a != b]
PATH_TO = {"planned": [], "in_progress": ["in_progress"], "delayed": ["delayed"],
           "delivered": ["in_progress", "delivered"], "cancelled": ["cancelled"]}


@pytest.mark.parametrize("start,target", ALL_PAIRS)
def test_every_status_transition(tracked, start, target):
    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    for step in PATH_TO[start]:
        records.set_status(cycle, accounts["editor"], code, step, reason="weather")
    before = _entries(cycle)
    if target in TRANSITIONS[start]:
        records.set_status(cycle, accounts["editor"], code, target, reason="a public reason")
        assert records.require_state(cycle)["projects"][code]["status"] == target
    else:
        with pytest.raises(DomainError) as refused:
            records.set_status(cycle, accounts["editor"], code, target, reason="x")
        assert refused.value.status == 422
        assert _entries(cycle) == before


@pytest.mark.parametrize("status", ["delayed", "cancelled"])
def test_delay_and_cancellation_need_a_public_reason(tracked, status):
    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    with pytest.raises(DomainError) as refused:
        records.set_status(cycle, accounts["editor"], code, status, reason="  ")
    assert ("reason" in dict(refused.value.reasons))
    records.set_status(cycle, accounts["editor"], code, status, reason="Contractor went bust")
    project = records.require_state(cycle)["projects"][code]
    assert project["status_reason"] == "Contractor went bust"


def test_spending_over_cost_needs_a_reason_and_bad_amounts_are_refused(tracked):
    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    cost = records.require_state(cycle)["projects"][code]["cost"]
    before = _entries(cycle)
    for committed, spent in [("-5", "0"), ("abc", "1"), ("1.5", "1"), ("", "")]:
        with pytest.raises(DomainError) as refused:
            records.set_money(cycle, accounts["editor"], code, committed, spent)
        assert refused.value.status == 422
    with pytest.raises(DomainError) as over:
        records.set_money(cycle, accounts["editor"], code, str(cost), str(cost + 1))
    assert "reason" in dict(over.value.reasons)
    assert _entries(cycle) == before
    records.set_money(cycle, accounts["editor"], code, str(cost), str(cost + 1),
                      reason="Steel prices rose")
    project = records.require_state(cycle)["projects"][code]
    assert (project["spent"], project["overrun_reason"]) == (cost + 1, "Steel prices rose")


def test_milestones_updates_photos_and_corrections_are_appended_never_edited(tracked):
    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    editor = accounts["editor"]
    records.set_milestone(cycle, editor, code, None, "Design", "2027-02-01")
    records.set_milestone(cycle, editor, code, "m1", "Design", "2027-02-01", "2027-02-10")
    with pytest.raises(DomainError):
        records.set_milestone(cycle, editor, code, None, "Build", "2027-13-01")
    first = records.post_update(cycle, editor, code, "Work starts", photo=_photo())
    hashes_before = _entries(cycle)
    records.post_update(cycle, editor, code, "Work started on Monday",
                        corrects=str(first.position))
    assert _entries(cycle)[:len(hashes_before)] == hashes_before  # nothing rewritten
    project = records.require_state(cycle)["projects"][code]
    assert project["milestones"]["m1"]["actual"] == "2027-02-10"
    original, correction = project["updates"]
    assert original["corrected_by"] == correction["entry"]
    assert correction["corrects"] == first.position
    assert original["photo"]["name"] and len(original["photo"]["sha256"]) == 64
    entry = json.loads(db.session.scalar(select(LogEntry.entry_json).where(
        LogEntry.id == first.id)))
    assert entry["data"]["role"] == "delivery editor" and entry["data"]["day"]
    assert "@" not in first.entry_json  # the role, never the person
    with pytest.raises(DomainError):  # a correction must point at an entry of this kind
        records.post_update(cycle, editor, code, "x", corrects="1")


def test_an_oversized_photo_stores_nothing(tracked, monkeypatch):
    from pbvote.services import images

    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 100)
    before = _entries(cycle)
    with pytest.raises(DomainError) as refused:
        records.post_update(cycle, accounts["editor"], code, "photo", photo=_photo((400, 400)))
    assert refused.value.status == 413
    assert _entries(cycle) == before


def test_the_delivery_chain_verifies_and_folds_to_the_state(tracked):
    from pbvote.services import log

    cycle, accounts = tracked
    code = funded_codes(cycle)[0]
    records.set_status(cycle, accounts["editor"], code, "in_progress")
    chain = db.session.scalar(select(Chain).where(Chain.name == f"delivery:{cycle.slug}"))
    assert log.verify_stored_chain(chain.id).ok
    assert fold(records.chain_entries(cycle)) == records.require_state(cycle)


def test_unknown_project_is_404(tracked):
    cycle, accounts = tracked
    with pytest.raises(DomainError) as refused:
        records.set_progress(cycle, accounts["editor"], "NO-SUCH", "5")
    assert refused.value.status == 404


def test_published_cycle_helper_is_published(app_context):
    with write_intent():
        cycle = published_cycle()
        from pbvote.services.publication import published_results

        assert published_results(cycle) is not None
