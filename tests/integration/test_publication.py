"""Tally, two-admin publication and the immutable snapshot, on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select, text, update

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Cycle, LogEntry, ResultsSnapshot, TallyRun
from pbvote.services import log, publication
from pbvote.services.errors import DomainError
from pbvote.services.tally import count_district, district_election
from tests.results_helpers import DEFAULT_BALLOTS, cycle_with_ballots
from tests.staff_helpers import make_account


@pytest.fixture
def people(app_context):
    accounts = {}
    for name, role in [("staff", "staff"), ("admin", "admin"), ("admin2", "admin"),
                       ("auditor", "auditor")]:
        accounts[name] = make_account(role)[0]
    return accounts


def _account(people, name) -> Account:
    return db.session.get(Account, people[name])


def _cycle(made) -> Cycle:
    return db.session.get(Cycle, made.cycle_id)


def _log_kinds(cycle) -> list[str]:
    return list(db.session.scalars(select(LogEntry.kind).where(
        LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position)))


def _published_run(people, made):
    cycle = _cycle(made)
    run = publication.run_tally(cycle, _account(people, "staff"))
    publication.request_publication(cycle, run, _account(people, "admin"))
    snapshot = publication.confirm_publication(cycle, run, _account(people, "admin2"))
    return cycle, run, snapshot


@pytest.mark.parametrize("state", ["open", "not_yet"])
def test_nothing_is_counted_before_voting_closes(app_context, people, state):
    with write_intent():
        made = cycle_with_ballots(state, ballots={} if state == "not_yet" else None)
        cycle = _cycle(made)
        before = _log_kinds(cycle)
        with pytest.raises(DomainError) as refused:
            publication.run_tally(cycle, _account(people, "staff"))
        assert refused.value.status == 409
        with pytest.raises(DomainError):
            publication.compute_results(cycle)
        assert db.session.scalar(select(func.count()).select_from(TallyRun)) == 0
        assert _log_kinds(cycle) == before


def test_tally_after_close_matches_count_district_and_is_logged(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = _cycle(made)
        chain_before = (cycle.chain.length, cycle.chain.head_hash)
        run = publication.run_tally(cycle, _account(people, "staff"))
        results = json.loads(run.results_json)
        assert run.status == "draft"
        assert run.results_json == canonical_json(results)
        assert run.results_hash == hashlib.sha256(run.results_json.encode()).hexdigest()
        assert results["chain"] == {"length": chain_before[0], "head": chain_before[1]}
        by_slug = {d["slug"]: d for d in results["districts"]}
        for district in cycle.districts:
            stored = by_slug[district.slug]
            assert stored["outcome"] == count_district(district).to_dict()
            assert stored["ballots"] == len(DEFAULT_BALLOTS[district.slug])
            assert stored["participations"] == {"total": len(DEFAULT_BALLOTS[district.slug]),
                                                "by_channel": {"online": len(
                                                    DEFAULT_BALLOTS[district.slug])}}
            election = district_election(district)
            expected = election.profile.scores(
                "borda" if district.ballot_kind == "ranked" else None)
            assert stored["scores"] == expected
        assert by_slug["approval"]["scores"] == {"AP-A": 3, "AP-B": 3, "AP-C": 2, "AP-D": 1}
        assert by_slug["ranked"]["scores"] == {"RA-A": 6, "RA-B": 6, "RA-C": 9, "RA-D": 0}
        assert by_slug["cumulative"]["scores"] == {"CU-A": 12, "CU-B": 5, "CU-C": 5, "CU-D": 8}
        # 6 approval voters: the roll person and the 10-year-old are on the roll, the child
        # cannot vote, so 1 eligible roll entry plus 6 access codes.
        assert by_slug["approval"]["roll_size"] == 1
        assert by_slug["approval"]["eligible"] == 7
        assert by_slug["approval"]["turnout"] == {"fraction": "6/7", "percent": "85.7"}
        entry = db.session.scalar(select(LogEntry).where(LogEntry.chain_id == cycle.chain_id)
                                  .order_by(LogEntry.position.desc()).limit(1))
        data = json.loads(entry.entry_json)["data"]
        assert entry.kind == "tally.run"
        assert data["results_hash"] == run.results_hash and data["tally_run"] == run.id
        assert data["actor"] == _account(people, "staff").label
        # Counting again gives the same bytes: nothing time-dependent is in the results.
        again = publication.compute_results(cycle, results["chain"])
        assert canonical_json(again) == run.results_json


def test_only_staff_and_admins_count_and_only_admins_publish(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = _cycle(made)
        with pytest.raises(DomainError) as refused:
            publication.run_tally(cycle, _account(people, "auditor"))
        assert refused.value.status == 403
        run = publication.run_tally(cycle, _account(people, "staff"))
        with pytest.raises(DomainError) as refused:
            publication.request_publication(cycle, run, _account(people, "staff"))
        assert refused.value.status == 403
        publication.request_publication(cycle, run, _account(people, "admin"))
        with pytest.raises(DomainError) as refused:
            publication.confirm_publication(cycle, run, _account(people, "staff"))
        assert refused.value.status == 403
        assert publication.published_results(cycle) is None


def test_the_requesting_admin_cannot_confirm(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = _cycle(made)
        run = publication.run_tally(cycle, _account(people, "admin"))
        publication.request_publication(cycle, run, _account(people, "admin"))
        with pytest.raises(DomainError) as refused:
            publication.confirm_publication(cycle, run, _account(people, "admin"))
        assert refused.value.status == 403
        assert "second administrator" in refused.value.message
        assert publication.published_results(cycle) is None
        assert run.status == "requested"


def test_a_draft_needs_a_request_before_confirmation(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = _cycle(made)
        run = publication.run_tally(cycle, _account(people, "staff"))
        with pytest.raises(DomainError) as refused:
            publication.confirm_publication(cycle, run, _account(people, "admin2"))
        assert refused.value.status == 409
        assert publication.published_results(cycle) is None


def test_confirmation_refused_when_a_ballot_changed_after_the_tally(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle = _cycle(made)
        run = publication.run_tally(cycle, _account(people, "staff"))
        publication.request_publication(cycle, run, _account(people, "admin"))
        district = cycle.district_by_slug("approval")
        ballot_id = db.session.scalar(select(Ballot.id).where(Ballot.district_id == district.id)
                                      .order_by(Ballot.id).limit(1))
        # No approval ballot of DEFAULT_BALLOTS is B+C, so this is always a change.
        db.session.execute(update(Ballot).where(Ballot.id == ballot_id)
                           .values(selections=canonical_json(["AP-B", "AP-C"])))
        with pytest.raises(DomainError) as refused:
            publication.confirm_publication(cycle, run, _account(people, "admin2"))
        assert refused.value.status == 409
        assert "no longer give the results" in refused.value.message
        assert publication.published_results(cycle) is None


def test_publishing_writes_one_snapshot_that_is_never_replaced(app_context, people):
    with write_intent():
        made = cycle_with_ballots("closed")
        cycle, run, snapshot = _published_run(people, made)
        assert snapshot.results_json == run.results_json
        assert snapshot.results_hash == run.results_hash
        assert snapshot.published_by == _account(people, "admin").label
        assert snapshot.confirmed_by == _account(people, "admin2").label
        assert run.status == "published"
        assert _log_kinds(cycle)[-3:] == ["tally.run", "publication.requested",
                                          "results.published"]
        published = json.loads(db.session.scalar(select(LogEntry.entry_json).where(
            LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position.desc()).limit(1)))
        assert published["data"]["before"]["published"] is False
        assert published["data"]["after"]["published"] is True
        assert log.verify_stored_chain(cycle.chain_id).ok

        second = publication.run_tally(cycle, _account(people, "staff"))
        for attempt in (
                lambda: publication.request_publication(cycle, second, _account(people, "admin")),
                lambda: publication.confirm_publication(cycle, run, _account(people, "admin2"))):
            with pytest.raises(DomainError) as refused:
                attempt()
            assert refused.value.status == 409
        assert db.session.scalar(select(func.count()).select_from(ResultsSnapshot)) == 1
        db.session.commit()
    with write_intent():
        # The database itself refuses to change a published snapshot.
        with pytest.raises(Exception, match="immutable"):
            db.session.execute(text("UPDATE results_snapshot SET results_hash = 'x'"))
        db.session.rollback()
        with pytest.raises(RuntimeError, match="immutable"):
            stored = db.session.scalar(select(ResultsSnapshot))
            stored.confirmed_by = "someone else"
            db.session.flush()
        db.session.rollback()
    assert db.session.scalar(select(ResultsSnapshot.results_hash)) == run.results_hash
