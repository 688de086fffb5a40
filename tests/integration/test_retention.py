"""Issue #17: `pbvote enforce-retention` does what the privacy notice promises, when it is
due, and nothing else: a cycle published retention_days ago loses its voter roll and access
codes and its participation records their identity fingerprints (the records and every
ballot stay, so the published bundle still verifies); expired sign-in codes and day-old roll
uploads go. A second run changes nothing."""
from __future__ import annotations

import datetime as dt
import os
import time

from sqlalchemy import func, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import (
    AccessCode,
    Account,
    Ballot,
    Cycle,
    DeskRollAddition,
    EmailSignInCode,
    LogEntry,
    Participation,
    RollEntry,
)
from pbvote.services import audit, publication, retention, roll_stash
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account

DAY = dt.timedelta(days=1)


def _publish(slug: str, at: dt.datetime) -> int:
    made = cycle_with_ballots("closed", slug=slug)
    cycle = db.session.get(Cycle, made.cycle_id)
    staff = db.session.get(Account, make_account("staff")[0])
    admins = [db.session.get(Account, make_account("admin")[0]) for _ in range(2)]
    run = publication.run_tally(cycle, staff, now=at)
    publication.request_publication(cycle, run, admins[0], now=at)
    publication.confirm_publication(cycle, run, admins[1], now=at)
    return cycle.id


def _state(cycle_id: int) -> dict:
    """Everything about a cycle that retention may touch, and its ballots."""
    def rows(statement):
        return sorted(tuple(row) for row in db.session.execute(statement))

    return {
        "roll": rows(select(RollEntry.id, RollEntry.identity_hash, RollEntry.birth_date)
                     .where(RollEntry.cycle_id == cycle_id)),
        "codes": rows(select(AccessCode.id, AccessCode.code_hash, AccessCode.status)
                      .where(AccessCode.cycle_id == cycle_id)),
        "desk": rows(select(DeskRollAddition.id).where(DeskRollAddition.cycle_id == cycle_id)),
        "participation": rows(select(Participation.id, Participation.district_id,
                                     Participation.identity_hash, Participation.channel,
                                     Participation.site, Participation.voted_on)
                              .where(Participation.cycle_id == cycle_id)),
        "ballots": rows(select(Ballot.id, Ballot.selections, Ballot.receipt,
                               Ballot.chain_position).where(Ballot.cycle_id == cycle_id)),
    }


def _make_world(app):
    """Cycle "old" published 2 days ago, "recent" published now, "open" never published
    (voting still open, with ballots); with retention of 1 day only "old" is due."""
    now = utcnow()
    with app.app_context(), write_intent():
        old = _publish("old", now - 1.9 * DAY)
        recent = _publish("recent", now)
        still_open = cycle_with_ballots("open", slug="open").cycle_id
        staff_id = make_account("staff")[0]
        for cycle_id in (old, recent):
            entry = db.session.scalar(select(RollEntry).where(RollEntry.cycle_id == cycle_id))
            db.session.add(DeskRollAddition(roll_entry_id=entry.id, cycle_id=cycle_id,
                                            site="Library", proof_seen="utility bill",
                                            account_id=staff_id))
        db.session.add_all([
            EmailSignInCode(email="gone@example.org", code_hash="a" * 64, attempts=0,
                            expires_at=now - dt.timedelta(minutes=1), created_at=now),
            EmailSignInCode(email="live@example.org", code_hash="b" * 64, attempts=0,
                            expires_at=now + dt.timedelta(minutes=9), created_at=now)])
        db.session.commit()
        return now, {"old": old, "recent": recent, "open": still_open}


def test_deletes_exactly_what_is_due_and_a_second_run_changes_nothing(app):
    now, cycles = _make_world(app)
    with app.app_context():
        before = {name: _state(cycle_id) for name, cycle_id in cycles.items()}
        assert all(before[n]["roll"] and before[n]["codes"] and before[n]["participation"]
                   for n in cycles)
        assert before["old"]["desk"] and before["recent"]["desk"]
        with write_intent():
            report = retention.enforce(1, now=now, with_files=False)
            db.session.commit()
        assert [c.slug for c in report.cycles] == ["old"]
        old = report.cycles[0]
        assert (old.roll_entries, old.access_codes, old.participations) == (
            len(before["old"]["roll"]), len(before["old"]["codes"]),
            len(before["old"]["participation"]))
        assert report.sign_in_codes == 1

        after = {name: _state(cycle_id) for name, cycle_id in cycles.items()}
        assert after["recent"] == before["recent"] and after["open"] == before["open"]
        assert after["old"]["roll"] == after["old"]["codes"] == after["old"]["desk"] == []
        assert after["old"]["ballots"] == before["old"]["ballots"]
        # the same participations, by district, channel, site and day; no fingerprint left
        assert ([row[:2] + row[3:] for row in after["old"]["participation"]]
                == [row[:2] + row[3:] for row in before["old"]["participation"]])
        retired = [row[2] for row in after["old"]["participation"]]
        assert all(h.startswith(retention.RETIRED_PREFIX) and len(h) == 64 for h in retired)
        assert len(set(retired)) == len(retired)
        assert not set(retired) & {row[2] for row in before["old"]["participation"]}
        assert db.session.scalars(select(EmailSignInCode.email)).all() == ["live@example.org"]
        logged = db.session.scalars(select(LogEntry.entry_json).where(
            LogEntry.kind == "retention.enforced")).all()
        assert len(logged) == 1 and '"cycle":"old"' in logged[0].replace(" ", "")

        # the published bundle of the retired cycle still verifies, chain and all
        verified = audit.verify_now(db.session.get(Cycle, cycles["old"]))
        assert verified.ok, verified.text()

        with write_intent():
            again = retention.enforce(1, now=now, with_files=False)
            db.session.commit()
        assert not again.changed and again.cycles[0].participations == 0
        assert {name: _state(cycle_id) for name, cycle_id in cycles.items()} == after
        assert db.session.scalar(select(func.count()).select_from(LogEntry).where(
            LogEntry.kind == "retention.enforced")) == 1  # nothing done, nothing logged


def test_nothing_is_due_before_the_retention_period_ends(app):
    now, cycles = _make_world(app)
    with app.app_context():
        before = {name: _state(cycle_id) for name, cycle_id in cycles.items()}
        with write_intent():
            report = retention.enforce(2, now=now, with_files=False)  # "old" is 1.9 days old
            db.session.commit()
        assert report.cycles == []
        assert {name: _state(cycle_id) for name, cycle_id in cycles.items()} == before


def test_roll_uploads_older_than_a_day_are_removed(app):
    with app.test_request_context():
        folder = roll_stash.stash_folder()
        stale, fresh = folder / "1-stale.csv", folder / "1-fresh.csv"
        for path in (stale, fresh):
            path.write_text("last_name,birth_date\nDoe,1980-01-01\n")
        old = time.time() - roll_stash.STASH_MAX_AGE_SECONDS - 60
        os.utime(stale, (old, old))
        with write_intent():
            report = retention.enforce(365)
            db.session.commit()
        assert report.roll_files == 1
        assert not stale.exists() and fresh.exists()


def test_the_command_reports_and_repeats_safely(app, runner):
    now, cycles = _make_world(app)
    app.config["PB_OFFICE"] = {**app.config["PB_OFFICE"], "retention_days": 1}
    first = runner.invoke(args=["enforce-retention"])
    assert first.exit_code == 0, first.output
    assert "old (published" in first.output and "anonymised" in first.output
    assert "deleted 1 expired sign-in codes" in first.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RollEntry).where(
            RollEntry.cycle_id == cycles["old"])) == 0
        assert db.session.scalar(select(func.count()).select_from(RollEntry).where(
            RollEntry.cycle_id == cycles["recent"])) > 0
    second = runner.invoke(args=["enforce-retention"])
    assert second.exit_code == 0 and "old: nothing left to delete" in second.output
    assert "nothing was due" in second.output


def test_a_retired_cycle_still_shows_its_published_pages(app, client):
    now, cycles = _make_world(app)
    with app.app_context(), write_intent():
        retention.enforce(1, now=now, with_files=False)
        db.session.commit()
    for path in ("/cycles/old", "/cycles/old/results", "/cycles/old/turnout",
                 "/cycles/old/board", "/cycles/old/results/bundle.zip"):
        assert client.get(path).status_code == 200, path
