"""The bundle verified at the count is the one published and exported, on both engines.

The count builds the bundle once, runs the verifier on it and keeps the zip with its SHA-256
and a digest of what it was built from. Asking to publish, confirming and exporting serve
those bytes (the chain head renewed) after cheap checks; each check is shown refusing here:
altered stored bytes, a chain rewritten after the count, inputs changed after the count.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select, text, update

from pbvote.audit import verify
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import (
    Account,
    Ballot,
    Chain,
    Cycle,
    LogEntry,
    Participation,
    ResultsSnapshot,
    TallyRun,
)
from pbvote.services import audit, publication, transitions
from pbvote.services.errors import DomainError
from tests.results_helpers import cycle_with_ballots
from tests.security.helpers import changed_tables, fingerprint
from tests.staff_helpers import make_account


@pytest.fixture
def counted(app):
    """A closed cycle with ballots, counted (and so verified) by staff; three accounts."""
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            run = publication.run_tally(db.session.get(Cycle, made.cycle_id),
                                        db.session.get(Account, staff))
            facts = {"cycle_id": made.cycle_id, "run_id": run.id, "admin": admin,
                     "admin2": admin2}
            db.session.commit()
    return facts


def _cycle(facts) -> Cycle:
    return db.session.get(Cycle, facts["cycle_id"])


def _run(facts) -> TallyRun:
    return db.session.get(TallyRun, facts["run_id"])


def _account(facts, name) -> Account:
    return db.session.get(Account, facts[name])


def _request(facts) -> None:
    with write_intent():
        publication.request_publication(_cycle(facts), _run(facts), _account(facts, "admin"))
        db.session.commit()


def _publish(facts) -> None:
    _request(facts)
    with write_intent():
        publication.confirm_publication(_cycle(facts), _run(facts), _account(facts, "admin2"))
        db.session.commit()


def _raw(statement: str, **params) -> None:
    """A change made behind the application's back, straight in SQL."""
    with write_intent():
        assert db.session.execute(text(statement), params).rowcount == 1
        db.session.commit()


def _altered_zip(content: bytes) -> bytes:
    """The same bundle with one byte of ballots.csv changed (a valid zip, other bytes)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("/ballots.csv"):
                data = data.replace(b"AP-A", b"AP-B", 1)
            target.writestr(info, data)
    return out.getvalue()


def _refused_without_change(app, attempt, error=DomainError) -> DomainError:
    before = fingerprint(app)
    with write_intent():
        with pytest.raises(error) as refused:
            attempt()
        db.session.rollback()
    assert not changed_tables(before, fingerprint(app))
    assert db.session.scalar(select(func.count()).select_from(ResultsSnapshot)) == 0
    return refused.value


def test_the_count_keeps_the_verified_bundle_with_its_hash(app, counted):
    with app.app_context():
        run = _run(counted)
        assert run.verified_ok is True
        files = audit.stored_bundle(run)
        assert files[verify.RESULTS_FILE] == run.results_json.encode()
        assert verify.verify_files(files).ok
        assert run.inputs_digest == audit.inputs_digest(_cycle(counted))


def test_a_tampered_stored_bundle_is_refused_at_request_confirm_and_export(app, counted,
                                                                           tmp_path):
    with app.app_context():
        good = _run(counted).bundle_zip
        _raw("UPDATE tally_run SET bundle_zip = :b WHERE id = :id",
             b=_altered_zip(good), id=counted["run_id"])
        refused = _refused_without_change(app, lambda: publication.request_publication(
            _cycle(counted), _run(counted), _account(counted, "admin")),
            audit.StoredBundleAltered)
        assert refused.status == 409 and "was altered" in refused.message

        _raw("UPDATE tally_run SET bundle_zip = :b WHERE id = :id", b=good,
             id=counted["run_id"])
        _request(counted)
        _raw("UPDATE tally_run SET bundle_zip = :b WHERE id = :id",
             b=_altered_zip(good), id=counted["run_id"])
        _refused_without_change(app, lambda: publication.confirm_publication(
            _cycle(counted), _run(counted), _account(counted, "admin2")),
            audit.StoredBundleAltered)

        _raw("UPDATE tally_run SET bundle_zip = :b WHERE id = :id", b=good,
             id=counted["run_id"])
        with write_intent():
            publication.confirm_publication(_cycle(counted), _run(counted),
                                            _account(counted, "admin2"))
            db.session.commit()
        _raw("UPDATE tally_run SET bundle_zip = :b WHERE id = :id",
             b=_altered_zip(good), id=counted["run_id"])
        with pytest.raises(audit.StoredBundleAltered):
            audit.export(_cycle(counted), tmp_path / "out", with_chain=True)
        assert not (tmp_path / "out").exists()
        with pytest.raises(audit.StoredBundleAltered):
            audit.bundle_zip(_cycle(counted))


def test_confirmation_is_refused_when_the_chain_moved_after_the_count(app, counted):
    with app.app_context():
        _request(counted)
        cycle = _cycle(counted)
        # The entry the verified bundle names (the count's own log entry) is rewritten.
        position = db.session.scalar(select(LogEntry.position).where(
            LogEntry.chain_id == cycle.chain_id, LogEntry.kind == "tally.run"))
        _raw("UPDATE log_entry SET entry_hash = :h WHERE chain_id = :c AND position = :p",
             h="0" * 64, c=cycle.chain_id, p=position)
        refused = _refused_without_change(app, lambda: publication.confirm_publication(
            _cycle(counted), _run(counted), _account(counted, "admin2")),
            transitions.TransitionRefused)
        assert "no longer in the chain" in refused.message


def test_a_participation_changed_after_the_count_refuses_request_and_confirmation(app,
                                                                                   counted):
    with app.app_context():
        cycle = _cycle(counted)
        participation_id = db.session.scalar(select(Participation.id).where(
            Participation.cycle_id == cycle.id).order_by(Participation.id).limit(1))
        _request(counted)
        # The day someone voted (the turnout tables by day): no imbalance a readiness check
        # would see, so only the digest of the count's inputs can tell.
        _raw("UPDATE participation SET voted_on = :day WHERE id = :id",
             day=dt.date(2000, 1, 1), id=participation_id)
        refused = _refused_without_change(app, lambda: publication.confirm_publication(
            _cycle(counted), _run(counted), _account(counted, "admin2")),
            publication.PublicationRefused)
        assert "no longer give the results" in refused.message
        with write_intent():
            db.session.execute(update(TallyRun).where(TallyRun.id == counted["run_id"])
                               .values(status="draft"))
            db.session.commit()
        refused = _refused_without_change(app, lambda: publication.request_publication(
            _cycle(counted), _run(counted), _account(counted, "admin")),
            transitions.TransitionRefused)
        assert "inputs:" in refused.message


def test_the_export_serves_the_verified_bytes_and_rebuilds_only_after_a_change(app, counted,
                                                                               tmp_path):
    with app.app_context():
        _publish(counted)
        verified = audit.stored_bundle(_run(counted))
        paths = audit.export(_cycle(counted), tmp_path / "one", with_chain=True)
        # ballots.json is shuffled afresh by every build: equal bytes mean no build.
        exported = (paths.bundle_dir / verify.BALLOTS_JSON_FILE).read_bytes()
        assert exported == verified[verify.BALLOTS_JSON_FILE]
        chain = db.session.get(Chain, _cycle(counted).chain_id)
        assert (paths.bundle_dir / verify.CHAIN_HEAD_FILE).read_text() == \
            f"{chain.head_hash} {chain.length}\n"
        assert verify.verify_path(paths.bundle_zip, paths.chain).ok
        db.session.rollback()

        participation_id = db.session.scalar(select(Participation.id).where(
            Participation.cycle_id == counted["cycle_id"]).order_by(Participation.id).limit(1))
        _raw("DELETE FROM participation WHERE id = :id", id=participation_id)
        paths = audit.export(_cycle(counted), tmp_path / "two", with_chain=True)
        report = verify.verify_path(paths.bundle_zip, paths.chain)
        assert not report.ok and report.first_failure.name == "counts", report.text()


def test_a_run_counted_before_bundles_were_kept_is_rebuilt_verified_and_recounted(app, counted,
                                                                                  tmp_path):
    with app.app_context():
        _raw("UPDATE tally_run SET bundle_zip = NULL, bundle_sha256 = NULL, "
             "inputs_digest = NULL WHERE id = :id", id=counted["run_id"])
        _request(counted)
        approval = _cycle(counted).district_by_slug("approval")
        ballot_id, selections = db.session.execute(select(Ballot.id, Ballot.selections).where(
            Ballot.district_id == approval.id).order_by(Ballot.id).limit(1)).one()
        changed = '["AP-B","AP-C"]' if selections != '["AP-B","AP-C"]' else '["AP-A"]'
        _raw("UPDATE ballot SET selections = :s WHERE id = :id", s=changed, id=ballot_id)
        refused = _refused_without_change(app, lambda: publication.confirm_publication(
            _cycle(counted), _run(counted), _account(counted, "admin2")),
            publication.PublicationRefused)
        assert "a recount now gives" in refused.message
        _raw("UPDATE ballot SET selections = :s WHERE id = :id", s=selections, id=ballot_id)
        with write_intent():
            publication.confirm_publication(_cycle(counted), _run(counted),
                                            _account(counted, "admin2"))
            db.session.commit()
        paths = audit.export(_cycle(counted), tmp_path / "out", with_chain=True)
        assert verify.verify_path(paths.bundle_zip, paths.chain).ok
