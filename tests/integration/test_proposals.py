"""Idea services on SQLite and PostgreSQL: submission, limits, the intake window, editing,
support, every staff transition, merging, moderation, promotion, emails and the log."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import (
    Account,
    Cycle,
    LogEntry,
    OutboxMessage,
    Project,
    Proposal,
    ProposalProjectLink,
    ProposalSupport,
)
from pbvote.services import log, proposals, setup
from pbvote.services.errors import ConfigurationFrozen, DomainError
from tests.proposal_helpers import latest_mail, make_intake_cycle, png_bytes
from tests.staff_helpers import make_account

FIELDS = {"title": "Light the underpass", "description": "It is dark.\nPeople avoid it.",
          "category": "Street lighting", "district": "approval", "location": "Mill Road underpass",
          "cost_estimate": "15000"}


@pytest.fixture
def world(app_context):
    cycle_id = make_intake_cycle()
    resident_id = make_account("resident")[0]
    other_id = make_account("resident")[0]
    staff_id = make_account("staff")[0]
    return {"cycle": cycle_id, "resident": resident_id, "other": other_id, "staff": staff_id}


def _get(model, key):
    return db.session.get(model, key)


def _submit(world, account="resident", **changes):
    with write_intent():
        proposal = proposals.submit(_get(Cycle, world["cycle"]), _get(Account, world[account]),
                                    {**FIELDS, **changes})
        db.session.commit()
        return proposal.id


def _staff(world):
    return _get(Account, world["staff"])


def _do(action):
    """Run a service call in a write transaction; commit on success, roll back on refusal."""
    with write_intent():
        try:
            result = action()
        except DomainError:
            db.session.rollback()
            raise
        db.session.commit()
        return result


def _chain_kinds(world) -> list[str]:
    chain_id = _get(Cycle, world["cycle"]).chain_id
    return list(db.session.scalars(select(LogEntry.kind).where(LogEntry.chain_id == chain_id)
                                   .order_by(LogEntry.position)))


def _chain_ok(world) -> bool:
    return log.verify_stored_chain(_get(Cycle, world["cycle"]).chain_id).ok


def test_submission_is_stored_logged_and_confirmed_by_email(world):
    proposal_id = _submit(world)
    proposal = _get(Proposal, proposal_id)
    assert (proposal.status, proposal.cost_estimate, proposal.district.slug) == \
        ("submitted", 15000, "approval")
    assert proposal.description == "It is dark.\nPeople avoid it."
    assert "proposal.submitted" in _chain_kinds(world) and _chain_ok(world)
    entry = db.session.scalars(select(LogEntry).where(LogEntry.kind == "proposal.submitted")).one()
    data = json.loads(entry.entry_json)["data"]
    assert data["actor"] == f"resident #{world['resident']}"  # no email address in the chain
    assert "@" not in entry.entry_json
    assert data["before"] is None and data["after"]["title"] == FIELDS["title"]
    mail = latest_mail(_get(Account, world["resident"]).email)
    assert f"#{proposal_id}" in mail.subject


def test_invalid_submissions_store_nothing(world):
    with pytest.raises(proposals.ProposalRefused) as refused:
        _submit(world, title="", category="Casinos", district="nowhere", cost_estimate="-1")
    assert {r.field for r in refused.value.reasons} == {"title", "category", "district",
                                                        "cost_estimate"}
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_photos_are_checked_and_re_encoded(world, app):
    with write_intent():
        proposal = proposals.submit(_get(Cycle, world["cycle"]), _get(Account, world["resident"]),
                                    FIELDS, io.BytesIO(png_bytes()))
        db.session.commit()
        name = proposal.photo_name
    assert name.endswith(".png")
    from pbvote.services import images

    assert (images.image_folder() / name).exists()
    for data, status in [(b"<?php echo 1; ?>", 415), (b"\x00" * (5 * 1024 * 1024 + 1), 413)]:
        with pytest.raises(DomainError) as refused:
            with write_intent():
                proposals.submit(_get(Cycle, world["cycle"]), _get(Account, world["resident"]),
                                 FIELDS, io.BytesIO(data))
        db.session.rollback()
        assert refused.value.status == status
        assert refused.value.reasons[0].field == "photo"


def test_only_during_intake(world):
    with write_intent():
        cycle = _get(Cycle, world["cycle"])
        intake = cycle.phase_window("intake")
        intake.starts_at, intake.ends_at = intake.starts_at.replace(year=2020), \
            intake.ends_at.replace(year=2020)
        db.session.commit()
    with pytest.raises(proposals.IntakeClosed) as refused:
        _submit(world)
    assert refused.value.status == 403 and "idea collection" in refused.value.message


def test_limit_per_person(world):
    with write_intent():
        proposals.save_intake_settings(_get(Cycle, world["cycle"]), _staff(world),
                                       "Street lighting\nBenches", "2")
        db.session.commit()
    _submit(world)
    _submit(world, category="Benches")
    with pytest.raises(DomainError) as refused:
        _submit(world)
    assert refused.value.status == 409 and refused.value.reasons[0].code == "limit_reached"
    _submit(world, account="other")  # the limit is per person
    with pytest.raises(proposals.ProposalRefused):  # categories are the configured ones
        _submit(world, account="other", category="Parks and public space")
    assert "intake.settings_updated" in _chain_kinds(world)


def test_author_edits_until_review_starts(world):
    proposal_id = _submit(world)
    _do(lambda: proposals.edit(_get(Proposal, proposal_id), _get(Account, world["resident"]),
                               {**FIELDS, "title": "Light the whole underpass"}))
    assert _get(Proposal, proposal_id).title == "Light the whole underpass"
    with pytest.raises(proposals.NotYours):
        _do(lambda: proposals.edit(_get(Proposal, proposal_id), _get(Account, world["other"]),
                                   FIELDS))
    _do(lambda: proposals.change_status(_get(Proposal, proposal_id), _staff(world),
                                        "under_review"))
    with pytest.raises(proposals.TransitionRefused) as refused:
        _do(lambda: proposals.edit(_get(Proposal, proposal_id),
                                   _get(Account, world["resident"]), FIELDS))
    assert refused.value.reasons[0].code == "review_started"
    kinds = _chain_kinds(world)
    assert kinds.count("proposal.edited") == 1 and _chain_ok(world)


def test_support_once_per_account(world):
    proposal_id = _submit(world)
    _do(lambda: proposals.support(_get(Proposal, proposal_id), _get(Account, world["other"])))
    with pytest.raises(DomainError) as refused:
        _do(lambda: proposals.support(_get(Proposal, proposal_id),
                                      _get(Account, world["other"])))
    assert refused.value.status == 409
    with pytest.raises(DomainError) as refused:
        _do(lambda: proposals.support(_get(Proposal, proposal_id), _staff(world)))
    assert refused.value.status == 403
    assert proposals.support_count(proposal_id) == 1
    assert "proposal.supported" in _chain_kinds(world)


def _review_to(world, proposal_id, *steps):
    for target, kwargs in steps:
        _do(lambda t=target, k=kwargs: proposals.change_status(
            _get(Proposal, proposal_id), _staff(world), t, **k))


def test_the_full_review_path_emails_the_author_at_each_step(world):
    proposal_id = _submit(world)
    email = _get(Account, world["resident"]).email
    _review_to(world, proposal_id, ("under_review", {}),
               ("needs_information", {"question": "Which end of the underpass?"}))
    assert "Which end of the underpass?" in latest_mail(email).body
    _do(lambda: proposals.answer_question(_get(Proposal, proposal_id),
                                          _get(Account, world["resident"]), "The east end"))
    _review_to(world, proposal_id, ("feasible", {"cost": 18000, "reason": "Two lamps"}),
               ("accepted", {}))
    proposal = _get(Proposal, proposal_id)
    assert (proposal.status, proposal.staff_cost_estimate) == ("accepted", 18000)
    history = [(e.kind, e.from_status, e.to_status, e.message) for e in proposal.events]
    assert history == [
        ("submitted", None, "submitted", ""),
        ("status", "submitted", "under_review", ""),
        ("status", "under_review", "needs_information", "Which end of the underpass?"),
        ("status", "needs_information", "under_review", "The east end"),
        ("status", "under_review", "feasible", "Two lamps"),
        ("status", "feasible", "accepted", ""),
    ]
    subjects = list(db.session.scalars(select(OutboxMessage.subject).where(
        OutboxMessage.recipient == email).order_by(OutboxMessage.id)))
    assert len(subjects) == 6  # received, 4 staff decisions, answer received
    assert _chain_kinds(world).count("proposal.status_changed") == 5 and _chain_ok(world)


def test_not_feasible_needs_a_reason_and_can_be_reopened(world):
    proposal_id = _submit(world)
    _review_to(world, proposal_id, ("under_review", {}))
    with pytest.raises(proposals.TransitionRefused) as refused:
        _review_to(world, proposal_id, ("not_feasible", {}))
    assert refused.value.reasons[0].code == "reason_required"
    _review_to(world, proposal_id, ("not_feasible", {"reason": "Private land"}))
    assert "Private land" in latest_mail(_get(Account, world["resident"]).email).body
    _review_to(world, proposal_id, ("under_review", {"reason": "The owner agreed"}))
    assert _get(Proposal, proposal_id).status == "under_review"


@pytest.mark.parametrize("path,target", [
    ((), "accepted"), ((), "feasible"), ((), "needs_information"),
    ((("under_review", {}),), "under_review"),
    ((("under_review", {}), ("feasible", {"cost": 5})), "not_feasible"),
])
def test_illegal_transitions_are_refused_with_a_reason_and_change_nothing(world, path, target):
    proposal_id = _submit(world)
    _review_to(world, proposal_id, *path)
    before_status = _get(Proposal, proposal_id).status
    entries = len(_chain_kinds(world))
    with pytest.raises(proposals.TransitionRefused) as refused:
        _review_to(world, proposal_id, (target, {"reason": "r", "question": "q", "cost": 5}))
    assert refused.value.status == 409
    assert refused.value.reasons[0].code == "illegal_transition"
    assert _get(Proposal, proposal_id).status == before_status
    assert len(_chain_kinds(world)) == entries


def test_residents_cannot_make_staff_decisions(world):
    proposal_id = _submit(world)
    with pytest.raises(DomainError) as refused:
        _do(lambda: proposals.change_status(_get(Proposal, proposal_id),
                                            _get(Account, world["resident"]), "under_review"))
    assert refused.value.status == 403
    with pytest.raises(proposals.TransitionRefused) as refused:  # not asked anything
        _do(lambda: proposals.answer_question(_get(Proposal, proposal_id),
                                              _get(Account, world["resident"]), "hi"))
    assert refused.value.reasons[0].code == "no_question"


def test_merge_points_duplicates_at_one_idea_and_moves_supports(world):
    first = _submit(world)
    duplicate = _submit(world, account="other", title="Underpass lamps")
    _do(lambda: proposals.support(_get(Proposal, duplicate), _get(Account, world["resident"])))
    _do(lambda: proposals.merge(_get(Proposal, duplicate), _staff(world), first, "Same place"))
    merged = _get(Proposal, duplicate)
    assert (merged.status, merged.merged_into_id) == ("merged", first)
    assert proposals.support_count(first) == 1
    assert "merged" in latest_mail(_get(Account, world["other"]).email).subject
    with pytest.raises(proposals.TransitionRefused) as refused:
        _do(lambda: proposals.merge(_get(Proposal, first), _staff(world), first))
    assert refused.value.reasons[0].code == "merge_into_self"
    with pytest.raises(proposals.TransitionRefused) as refused:
        _do(lambda: proposals.merge(_get(Proposal, first), _staff(world), duplicate))
    assert refused.value.reasons[0].code == "merge_target_merged"
    with pytest.raises(proposals.TransitionRefused) as refused:
        _do(lambda: proposals.merge(_get(Proposal, first), _staff(world), 987654))
    assert refused.value.reasons[0].code == "merge_target_missing"
    assert "proposal.merged" in _chain_kinds(world) and _chain_ok(world)


def test_moderation_tells_the_author_why_and_is_logged(world):
    proposal_id = _submit(world)
    with pytest.raises(proposals.TransitionRefused):
        _do(lambda: proposals.hide(_get(Proposal, proposal_id), _staff(world), "  "))
    _do(lambda: proposals.hide(_get(Proposal, proposal_id), _staff(world), "Insults a neighbour"))
    proposal = _get(Proposal, proposal_id)
    assert proposal.hidden and proposal.status == "submitted"  # moderation keeps the status
    assert "Insults a neighbour" in latest_mail(_get(Account, world["resident"]).email).body
    listing = proposals.list_ideas(_get(Cycle, world["cycle"]))
    assert listing.total == 0
    with pytest.raises(DomainError):
        _do(lambda: proposals.support(_get(Proposal, proposal_id), _get(Account, world["other"])))
    _do(lambda: proposals.unhide(_get(Proposal, proposal_id), _staff(world)))
    assert proposals.list_ideas(_get(Cycle, world["cycle"])).total == 1
    entries = [json.loads(e) for e in db.session.scalars(select(LogEntry.entry_json).where(
        LogEntry.kind.in_(("proposal.hidden", "proposal.unhidden"))).order_by(LogEntry.id))]
    assert entries[0]["data"]["reason"] == "Insults a neighbour"
    assert entries[0]["data"]["actor"] == _staff(world).label
    assert entries[0]["data"]["before"]["hidden"] is False
    assert entries[1]["data"]["after"]["hidden"] is False


def _accepted(world, account="resident", **changes):
    proposal_id = _submit(world, account=account, **changes)
    _review_to(world, proposal_id, ("under_review", {}), ("feasible", {"cost": 20}),
               ("accepted", {}))
    return proposal_id


def test_promotion_makes_a_project_linked_to_its_ideas(world):
    with write_intent():
        proposal = proposals.submit(_get(Cycle, world["cycle"]), _get(Account, world["resident"]),
                                    FIELDS, io.BytesIO(png_bytes()))
        db.session.commit()
        with_photo = proposal.id
    _review_to(world, with_photo, ("under_review", {}), ("feasible", {"cost": 20}),
               ("accepted", {}))
    second = _accepted(world, account="other")
    data = setup.ProjectInput(code="AP-IDEA", title="Underpass lighting", cost=35,
                              category="Street lighting")
    project_id = _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world),
                                               [second, with_photo], "approval", data,
                                               photo_from=with_photo).id)
    project = _get(Project, project_id)
    assert project.image_name and project.image_name != _get(Proposal, with_photo).photo_name
    assert proposals.idea_links(_get(Cycle, world["cycle"])) == {
        project_id: sorted([with_photo, second])}
    assert "project.created" in _chain_kinds(world)
    assert "proposal.promoted" in _chain_kinds(world) and _chain_ok(world)
    assert "ballot project" in latest_mail(_get(Account, world["other"]).email).body
    with pytest.raises(proposals.ProposalRefused) as refused:  # an idea becomes one project
        _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world), [second],
                                      "approval", setup.ProjectInput("AP-2", "Again", 10)))
    assert refused.value.reasons[0].code == "already_promoted"


def test_only_accepted_ideas_are_promoted(world):
    proposal_id = _submit(world)
    with pytest.raises(proposals.ProposalRefused) as refused:
        _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world), [proposal_id],
                                      "approval", setup.ProjectInput("AP-X", "X", 10)))
    assert refused.value.reasons[0].code == "not_accepted"
    assert db.session.scalar(select(func.count()).select_from(ProposalProjectLink)) == 0


def test_promotion_obeys_the_frozen_configuration(world):
    proposal_id = _accepted(world)
    with write_intent():
        cycle = _get(Cycle, world["cycle"])
        for phase in cycle.phases:  # voting has opened: the project list is frozen
            if phase.kind == "intake":
                phase.starts_at, phase.ends_at = phase.starts_at.replace(year=2020), \
                    phase.ends_at.replace(year=2020)
            if phase.kind == "voting":
                phase.starts_at = phase.starts_at.replace(year=2021)
        setup.store_manifest(cycle)  # as opening voting does
        db.session.commit()
    with pytest.raises(ConfigurationFrozen):
        _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world), [proposal_id],
                                      "approval", setup.ProjectInput("AP-LATE", "Late", 10)))
    assert db.session.scalar(select(func.count()).select_from(ProposalProjectLink)) == 0


def test_board_search_filters_and_sorting(world):
    lamps = _submit(world, title="Lamps on Elm", category="Street lighting")
    park = _submit(world, account="other", title="Benches in the park", district="knapsack",
                   category="Parks and public space", description="100% shade_wanted")
    _do(lambda: proposals.support(_get(Proposal, park), _get(Account, world["resident"])))
    cycle = _get(Cycle, world["cycle"])

    def ids(**kwargs):
        return [p.id for p, _ in proposals.list_ideas(cycle, **kwargs).rows]

    assert ids() == [park, lamps]  # newest first
    assert ids(sort="most_supported") == [park, lamps]
    assert ids(q="elm") == [lamps]
    assert ids(category="Parks and public space") == [park]
    assert ids(district="approval") == [lamps]
    assert ids(status="under_review") == []
    assert ids(q="100%") == [park] and ids(q="%") == [park]  # wildcards are literal
    assert ids(q="_") == [park] and ids(q="e_m") == []
    for attack in ("' OR '1'='1", "'; DROP TABLE proposal; --", "\\", "%' --",
                   "\" OR 1=1 --", "x' UNION SELECT * FROM account --"):
        assert ids(q=attack) == []
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 2
    _do(lambda: proposals.support(_get(Proposal, lamps), _get(Account, world["other"])))
    _do(lambda: proposals.support(_get(Proposal, lamps), _get(Account, world["resident"])))
    assert ids(sort="most_supported") == [lamps, park]
    assert db.session.scalar(select(func.count()).select_from(ProposalSupport)) == 3


def test_a_promoted_project_takes_the_public_place_of_its_idea(world):
    """The map shows the project where the idea was, at the idea's public grid-cell centre:
    the author's exact spot stays private even though project places are public."""
    from pbvote.rules import geo

    unplaced = _accepted(world, account="other")
    placed = _accepted(world, point="51.501234, -0.123456")
    exact = geo.Point(51_501_234, -123_456)
    assert (_get(Proposal, placed).lat_e6, _get(Proposal, placed).lon_e6) == (exact.lat, exact.lon)
    data = setup.ProjectInput(code="AP-MAP", title="Placed", cost=35)
    project_id = _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world),
                                               [unplaced, placed], "approval", data).id)
    project = _get(Project, project_id)
    public = geo.public_point(exact)
    assert public != exact
    assert (project.lat_e6, project.lon_e6) == (public.lat, public.lon)
    chain_id = _get(Cycle, world["cycle"]).chain_id
    promoted = db.session.scalars(select(LogEntry).where(
        LogEntry.chain_id == chain_id, LogEntry.kind == "proposal.promoted")).one()
    assert json.loads(promoted.entry_json)["data"]["place"] == public.as_text()
    assert _chain_ok(world)


def test_a_project_from_ideas_without_a_place_has_none(world):
    idea = _accepted(world)
    project_id = _do(lambda: proposals.promote(_get(Cycle, world["cycle"]), _staff(world),
                                               [idea], "approval",
                                               setup.ProjectInput("AP-NONE", "None", 10)).id)
    project = _get(Project, project_id)
    assert project.lat_e6 is None and project.lon_e6 is None
