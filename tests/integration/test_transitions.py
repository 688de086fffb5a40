"""Issue 15's defects 1, 2, 3, 6 and 7 through the services, on both engines: every step of a
cycle is checked, and a refused step leaves the cycle, roll, chain and bundle as they were."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from pbvote.audit import verify
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Chain, Cycle, District, LogEntry, TallyRun
from pbvote.services import audit, in_person, publication, setup, transitions, voting
from pbvote.services.errors import DomainError
from pbvote.services.in_person import reading
from tests.factories import make_cycle
from tests.results_helpers import cycle_with_ballots
from tests.security.helpers import changed_tables, fingerprint
from tests.staff_helpers import make_account

HOUR = dt.timedelta(hours=1)


def _account(account_id: int) -> Account:
    return db.session.get(Account, account_id)


def _chain_length(cycle: Cycle) -> int:
    return db.session.get(Chain, cycle.chain_id).length


# ----- defect 1: a count and a publication that the verifier would fail -------------------------
def _desk_and_paper_scenario(made, first, second):
    """One desk check-in, four paper sheets printed, three serials entered by one person and
    two of them by a second person: one is left at "entered once"."""
    cycle = db.session.get(Cycle, made.cycle_id)
    cycle.self_declared_allowed = True
    approval = cycle.district_by_slug("approval")
    voting.cast_ballot(voting.verify_by_code(cycle, approval, made.codes["approval"][0]),
                       ("AP-A",))
    entry = in_person.add_self_declared(
        cycle, "approval", last_name="Walkin", birth_date=dt.date(1975, 3, 3), postcode="10001",
        display_name="", site="Library", proof_seen="bill", actor=_account(first))
    in_person.check_in(cycle, entry.id, site="Library", id_checked=True, handout="paper",
                       actor=_account(first))
    batch = in_person.print_serials(cycle, "approval", "Library", 4, _account(first))
    serials = [r.serial for r in in_person.batch_serials(cycle, batch)]
    setup.close_voting(cycle, "staff")
    for serial in serials[:3]:
        in_person.enter_paper_ballot(cycle, serial, reading(approval, "valid", ("AP-C",)),
                                     _account(first))
    for serial in serials[:2]:
        in_person.enter_paper_ballot(cycle, serial, reading(approval, "valid", ("AP-C",)),
                                     _account(second))
    return cycle, approval, serials


def test_count_is_refused_with_an_entry_pending_and_paper_beyond_the_check_ins(app):
    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        with write_intent():
            made = make_cycle(codes_per_district=3)
            cycle, _approval, _serials = _desk_and_paper_scenario(made, first, second)
            db.session.commit()
        before = fingerprint(app)
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            with pytest.raises(transitions.TransitionRefused) as refused:
                publication.run_tally(cycle, _account(first))
            db.session.rollback()
        assert refused.value.status == 409
        found = [r.code for r in refused.value.reasons]
        assert found == ["paper_pending", "unexplained_imbalance"], found
        assert "3 paper ballots returned but only 1 handed out" in \
            " ".join(r.message for r in refused.value.reasons)
        assert not changed_tables(before, fingerprint(app))


def test_publication_is_refused_when_the_bundle_would_fail_the_verifier(app):
    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        admin = make_account("admin")[0]
        with write_intent():
            made = make_cycle(codes_per_district=3)
            cycle, approval, serials = _desk_and_paper_scenario(made, first, second)
            # The pending sheet gets its second entry: 3 paper ballots for 1 check-in. A staff
            # note "explains" the difference, so the count may run; the verifier still fails.
            in_person.enter_paper_ballot(cycle, serials[2], reading(approval, "valid", ("AP-C",)),
                                         _account(second))
            transitions.explain_imbalance(cycle, "Library", "approval",
                                          "Two sheets were taken from the stack by mistake.",
                                          "staff")
            run = publication.run_tally(cycle, _account(first))
            run_id = run.id  # read before the commit expires it (no read under write intent)
            db.session.commit()
        before = fingerprint(app)
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            with pytest.raises(transitions.TransitionRefused) as refused:
                publication.request_publication(cycle, db.session.get(TallyRun, run_id),
                                                _account(admin))
            db.session.rollback()
        assert refused.value.status == 409
        assert refused.value.reasons[-1].code == "bundle_fails"
        assert "counts:" in refused.value.message
        assert not changed_tables(before, fingerprint(app))
        with pytest.raises(DomainError):
            audit.bundle_files(db.session.get(Cycle, made.cycle_id))  # nothing published


def test_the_count_stores_the_verifiers_verdict_and_a_failing_run_blocks_the_request(app):
    """The verdict is taken on the exact bundle when the count is made, so the overview and
    the readiness of "ask to publish" show it before anyone asks; asking is then refused."""
    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        admin = make_account("admin")[0]
        with write_intent():
            made = make_cycle(codes_per_district=3)
            cycle, approval, serials = _desk_and_paper_scenario(made, first, second)
            in_person.enter_paper_ballot(cycle, serials[2], reading(approval, "valid", ("AP-C",)),
                                         _account(second))
            transitions.explain_imbalance(cycle, "Library", "approval",
                                          "Two sheets were taken from the stack by mistake.",
                                          "staff")
            run = publication.run_tally(cycle, _account(first))
            run_id = run.id
            db.session.commit()
        run = db.session.get(TallyRun, run_id)
        assert run.verified_ok is False
        assert run.verifier_failure.startswith("counts:"), run.verifier_failure
        cycle = db.session.get(Cycle, made.cycle_id)
        assert transitions.latest_unpublished_run(cycle).id == run_id
        # Readiness reads the stored verdict: no bundle is built to show it.
        ready = transitions.readiness_of(cycle, "request")
        assert [b.code for b in ready.blockers] == ["bundle_fails"]
        assert f"count {run_id}" in ready.blockers[0].message
        assert "counts:" in ready.blockers[0].message
        before = fingerprint(app)
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            with pytest.raises(transitions.TransitionRefused) as refused:
                publication.request_publication(cycle, db.session.get(TallyRun, run_id),
                                                _account(admin))
            db.session.rollback()
        assert refused.value.status == 409 and "counts:" in refused.value.message
        assert not changed_tables(before, fingerprint(app))


def test_a_count_whose_bundle_verifies_stores_a_pass(app):
    with app.app_context():
        staff = make_account("staff")[0]
        with write_intent():
            made = cycle_with_ballots("closed")
            run = publication.run_tally(db.session.get(Cycle, made.cycle_id), _account(staff))
            run_id = run.id
            db.session.commit()
        run = db.session.get(TallyRun, run_id)
        assert run.verified_ok is True and run.verifier_failure is None
        ready = transitions.readiness_of(db.session.get(Cycle, made.cycle_id), "request")
        assert ready.ready, ready.blockers


def test_the_count_verifies_the_bytes_that_confirmation_publishes(app, monkeypatch):
    """The verifier runs once, at the count, on the bundle the publication will serve; a
    verdict of failure keeps no bundle and blocks asking, and the published bundle is those
    verified bytes (only the chain head renewed), not a new build."""
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        seen = []
        real = verify.verify_files

        def failing(files, chain=None):
            seen.append(files)
            report = real(files, chain)
            report.checks[-1] = verify.CheckResult("tally", False, "made to fail")
            return report

        monkeypatch.setattr(verify, "verify_files", failing)
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            failed = publication.run_tally(cycle, _account(staff))
            failed_id = failed.id
            db.session.commit()
        assert len(seen) == 1, "the verifier runs once, at the count"
        failed = db.session.get(TallyRun, failed_id)
        assert failed.verified_ok is False and failed.verifier_failure == "tally: made to fail"
        assert failed.bundle_zip is None and failed.bundle_sha256 is None
        with write_intent():
            with pytest.raises(transitions.TransitionRefused) as refused:
                publication.request_publication(db.session.get(Cycle, made.cycle_id), failed,
                                                _account(admin))
            db.session.rollback()
        assert "tally: made to fail" in refused.value.message

        monkeypatch.setattr(verify, "verify_files", real)
        seen.clear()
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, _account(staff))
            run_id = run.id
            db.session.commit()
        monkeypatch.setattr(verify, "verify_files", failing)  # any later verification fails
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            run = db.session.get(TallyRun, run_id)
            publication.request_publication(cycle, run, _account(admin))
            publication.confirm_publication(cycle, run, _account(admin2))
            db.session.commit()
        assert seen == [], "asking and confirming publish the verified bytes, never rebuilt"
        monkeypatch.setattr(verify, "verify_files", real)
        run = db.session.get(TallyRun, run_id)
        verified = audit.stored_bundle(run)
        cycle = db.session.get(Cycle, made.cycle_id)
        published = audit.bundle_files(cycle)
        chain = db.session.get(Chain, cycle.chain_id)
        assert published[verify.CHAIN_HEAD_FILE] == f"{chain.head_hash} {chain.length}\n".encode()
        same = set(verified) - {verify.CHAIN_HEAD_FILE, verify.SUMS_FILE}
        assert set(published) == set(verified)
        assert all(published[name] == verified[name] for name in same)
        assert audit.verify_now(cycle).ok


# ----- defect 2: a district budget below a project's cost ---------------------------------------
def test_a_district_budget_below_a_project_is_refused_and_blocks_opening(app):
    with app.app_context():
        with write_intent():
            made = make_cycle(voting="not_yet")
            db.session.commit()
            cycle = db.session.get(Cycle, made.cycle_id)
            district = cycle.district_by_slug("approval")
            data = setup.DistrictInput("approval", "Approval", 50, "approval", max_choices=2)
            with pytest.raises(setup.SetupInvalid) as refused:
                setup.save_district(cycle, district, data, "staff")
            assert refused.value.status == 422
            assert refused.value.reasons[0].field == "budget"
            assert "AP-A" in refused.value.reasons[0].message
            db.session.rollback()
            # A budget stored below a cost some other way still blocks opening.
            db.session.execute(District.__table__.update().where(District.slug == "approval")
                               .values(budget=50))
            db.session.commit()
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            for step in (setup.open_voting, transitions.schedule_voting):
                with pytest.raises(transitions.TransitionRefused) as refused:
                    step(cycle, "staff")
                assert "project_over_budget" in [r.code for r in refused.value.reasons]
            db.session.rollback()
            assert db.session.get(Cycle, made.cycle_id).manifest_hash is None


# ----- defect 3: nobody could vote ---------------------------------------------------------------
def test_a_cycle_nobody_can_vote_in_does_not_open_by_hand_or_by_date(app):
    from pbvote.models import AccessCode, RollEntry

    with app.app_context():
        with write_intent():
            made = make_cycle(voting="not_yet")
            cycle = db.session.get(Cycle, made.cycle_id)
            db.session.execute(AccessCode.__table__.delete())
            db.session.execute(RollEntry.__table__.delete())
            db.session.commit()
        with write_intent():
            cycle = db.session.get(Cycle, made.cycle_id)
            with pytest.raises(transitions.TransitionRefused) as refused:
                transitions.schedule_voting(cycle, "staff")
            assert refused.value.reasons.count(refused.value.reasons[0]) == 1
            assert {r.code for r in refused.value.reasons} == {"no_way_to_vote"}
            with pytest.raises(transitions.TransitionRefused):
                setup.open_voting(cycle, "staff")
            db.session.rollback()
        cycle = db.session.get(Cycle, made.cycle_id)
        start = cycle.phase_window("voting").starts_at
        # by date: the start passes, but nothing was scheduled, so voting stays closed
        assert not cycle.voting_open(start + HOUR)
        assert transitions.unscheduled_but_due(cycle, start + HOUR)
        with write_intent():
            lines = transitions.due_transitions(start + HOUR)
            db.session.commit()
        assert lines == [f"{made.slug}: not opened, voting was never scheduled"]
        assert db.session.get(Cycle, made.cycle_id).manifest_hash is None


# ----- defect 6: scheduled voting opens by the clock, with its manifest already stored --------
def test_scheduled_voting_opens_by_the_clock_with_the_manifest_stored_at_scheduling(app):
    with app.app_context():
        with write_intent():
            made = make_cycle(voting="not_yet")
            cycle = db.session.get(Cycle, made.cycle_id)
            digest = transitions.schedule_voting(cycle, "staff")
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        start = cycle.phase_window("voting").starts_at
        assert cycle.manifest_hash == digest and cycle.manifest_json
        assert not cycle.voting_open(start - HOUR) and cycle.voting_open(start + HOUR)
        with pytest.raises(DomainError) as frozen:  # scheduling froze the configuration
            setup.set_phases(cycle, [], "staff")
        assert frozen.value.status == 409
        db.session.rollback()
        with write_intent():
            assert transitions.due_transitions(start - HOUR) == []
            assert transitions.due_transitions(start + HOUR) == [
                f"{made.slug}: voting opened at {start.isoformat()}"]
            assert transitions.due_transitions(start + 2 * HOUR) == []  # once
            db.session.commit()
        kinds = list(db.session.scalars(select(LogEntry.kind).where(
            LogEntry.chain_id == cycle.chain_id).order_by(LogEntry.position)))
        assert kinds[-2:] == ["voting.scheduled", "voting.opened"]


# ----- defect 7: extending voting ---------------------------------------------------------------
def test_an_admin_extends_open_voting_later_only_and_the_bundle_verifies(app):
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("open")
            cycle = db.session.get(Cycle, made.cycle_id)
            end = cycle.phase_window("voting").ends_at
            cycle.phases.append(type(cycle.phases[0])(kind="tally", starts_at=end + HOUR,
                                                      ends_at=end + 3 * HOUR))
            db.session.flush()
            before = _chain_length(cycle)
            for actor, new_end, reason, status in (
                    (_account(staff), end + 5 * HOUR, "storm", 403),
                    (_account(admin), end - HOUR, "storm", 422),
                    (_account(admin), end, "storm", 422),
                    (_account(admin), end + 5 * HOUR, "  ", 422)):
                with pytest.raises(DomainError) as refused:
                    transitions.extend_voting(cycle, actor, new_end, reason)
                assert refused.value.status == status
            assert _chain_length(cycle) == before
            transitions.extend_voting(cycle, _account(admin), end + 5 * HOUR,
                                      "A storm closed two polling sites.")
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        assert cycle.phase_window("voting").ends_at == end + 5 * HOUR
        assert cycle.phase_window("tally").starts_at == end + 6 * HOUR
        [extension] = transitions.extensions(cycle)
        assert extension["reason"] == "A storm closed two polling sites."
        assert extension["voting_ends_before"] == end.isoformat()
        with write_intent():  # close, count, publish: the verifier accepts the extension
            cycle = db.session.get(Cycle, made.cycle_id)
            setup.close_voting(cycle, "staff")
            run = publication.run_tally(cycle, _account(staff))
            publication.request_publication(cycle, run, _account(admin))
            publication.confirm_publication(cycle, run, _account(admin2))
            db.session.commit()
        cycle = db.session.get(Cycle, made.cycle_id)
        files = audit.bundle_files(cycle)
        document = json.loads(files["transitions.json"])
        assert document["voting_extensions"][0]["reason"] == extension["reason"]
        report = verify.verify_files(files)
        assert report.ok, report.text()
        assert "1 extensions of voting" in report.checks[2].detail
        # an extension that moved the end earlier does not verify
        document["voting_extensions"][0]["voting_ends_after"] = \
            (end - HOUR).isoformat()
        forged = dict(files)
        forged["transitions.json"] = json.dumps(document).encode()
        forged["SHA256SUMS"] = verify.render_sums(
            {k: v for k, v in forged.items() if k != "SHA256SUMS"}).encode()
        failed = verify.verify_files(forged)
        assert not failed.ok and failed.checks[-1].name == "manifest-hash"
        assert "not later" in failed.checks[-1].detail


def test_voting_is_not_extended_once_closed(app):
    with app.app_context():
        admin = make_account("admin")[0]
        with write_intent():
            made = make_cycle(voting="closed")
            db.session.commit()
            cycle = db.session.get(Cycle, made.cycle_id)
            with pytest.raises(DomainError) as refused:
                transitions.extend_voting(cycle, _account(admin), utcnow() + HOUR, "late")
            assert refused.value.status == 409
            db.session.rollback()


# ----- the command line: a refusal exits non-zero and writes nothing -----------------------------
def test_cli_steps_refuse_with_a_non_zero_exit_and_change_nothing(app, runner):
    from pbvote.models import AccessCode, RollEntry

    with app.app_context():
        _, email, _, _ = make_account("staff")
        with write_intent():
            made = make_cycle(voting="not_yet")
            db.session.execute(AccessCode.__table__.delete())
            db.session.execute(RollEntry.__table__.delete())
            db.session.commit()
    before = fingerprint(app)
    for command in ("schedule-voting", "open-voting"):
        result = runner.invoke(args=[command, made.slug, "--by", email])
        assert result.exit_code == 1, result.output
        assert "nobody could vote" in result.output
    assert runner.invoke(args=["close-voting", made.slug, "--by", email]).exit_code == 1
    assert not changed_tables(before, fingerprint(app))
    readiness_report = runner.invoke(args=["readiness", made.slug])
    assert readiness_report.exit_code == 0 and "Open voting: blocked" in readiness_report.output
    due = runner.invoke(args=["due-transitions"])
    assert due.exit_code == 0 and due.output == ""
