"""End to end: demo → cast-random → close → tally → publish → export → verify, and the
export command's refusals."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.services import audit, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.demo import DEMO_SLUG
from tests.conftest import REPO_ROOT
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_to_verified_bundle(app, runner, tmp_path):
    _ok(runner.invoke(args=["demo", "--voters", "60"]))
    _ok(runner.invoke(args=["cast-random", DEMO_SLUG, "--n", "40", "--seed", "11"]))
    with app.app_context():
        staff = make_account("staff")[1]
        admin, second_admin = make_account("admin")[1], make_account("admin")[1]
        with write_intent():
            setup.close_voting(get_cycle(DEMO_SLUG), staff)
            db.session.commit()
    tallied = _ok(runner.invoke(args=["tally", DEMO_SLUG, "--by", staff]))
    run_id = re.search(r"Tally run (\d+)", tallied).group(1)
    _ok(runner.invoke(args=["publish", DEMO_SLUG, "--run", run_id, "--by", admin]))
    _ok(runner.invoke(args=["confirm-publication", DEMO_SLUG, "--run", run_id,
                            "--by", second_admin]))
    out = tmp_path / "export"
    exported = _ok(runner.invoke(args=["export", DEMO_SLUG, str(out), "--chain"]))
    bundle_dir = out / f"{DEMO_SLUG}-results"
    assert f"Verify: python -m pbvote.audit.verify {out / (DEMO_SLUG + '-results.zip')} " \
           f"--chain {out / 'chain.jsonl'}" in exported
    assert sorted(p.name for p in bundle_dir.iterdir()) == sorted([
        "SHA256SUMS", "ballots-eastside.pb", "ballots-northbank.pb", "ballots-old-town.pb",
        "ballots.csv", "ballots.json", "chain_head.txt", "manifest.json", "participation.json",
        "receipts.txt", "results.json"])
    ballots = json.loads((bundle_dir / "ballots.json").read_text())["districts"]
    assert sum(len(b) for b in ballots.values()) == 40
    for target in (bundle_dir, out / f"{DEMO_SLUG}-results.zip"):
        done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(target),
                               "--chain", str(out / "chain.jsonl")],
                              capture_output=True, text=True, cwd=REPO_ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ALL CHECKS PASSED for the bundle and chain export." in done.stdout
    # Each district's Pabulib file re-counts to the published selection with the tally CLI.
    results = json.loads((bundle_dir / "results.json").read_text())
    seed = results["tie_break_seed"]
    for district in results["districts"]:
        done = subprocess.run([sys.executable, "-m", "pbvote.tally",
                               str(bundle_dir / f"ballots-{district['slug']}.pb"), "--json",
                               "--param", f"tie_seed={seed}"],
                              capture_output=True, text=True, cwd=REPO_ROOT)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["selected"] == district["outcome"]["selected"]


def test_export_refuses_an_unpublished_cycle_and_a_used_directory(app, runner, tmp_path):
    with app.app_context(), write_intent():
        cycle_with_ballots("closed")
        db.session.commit()
    refused = runner.invoke(args=["export", "test-cycle", str(tmp_path / "a")])
    assert refused.exit_code == 2
    assert "have not been published yet" in refused.output
    assert not (tmp_path / "a").exists()
    missing = runner.invoke(args=["export", "no-such-cycle", str(tmp_path / "b")])
    assert missing.exit_code == 2 and "no-such-cycle" in missing.output
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("old")
    refused = runner.invoke(args=["export", "test-cycle", str(used)])
    assert refused.exit_code == 2 and "not an empty directory" in refused.output


def test_chain_export_waits_for_voting_to_close(app):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("open")
        db.session.commit()
        cycle = get_cycle(made.slug)
        with pytest.raises(audit.Embargoed):
            list(audit.chain_export_lines(cycle))
        page = audit.browse_log(cycle, kind="ballot")
        assert page.total == 19
        assert all(e["data"]["selections"] == "(withheld until voting closes)"
                   for e in page.entries)


def test_verify_now_reports_on_the_servers_own_export(app):
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        from pbvote.models import Account
        from pbvote.services import publication

        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = get_cycle(made.slug)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            db.session.commit()
        report = audit.verify_now(get_cycle(made.slug))
        assert report.ok, report.text()
        assert report.chain_checked and len(report.checks) == 13
        rows = audit.reconciliation(get_cycle(made.slug))
        assert all(row.balanced for row in rows)
        assert {(r.district_slug, r.channel): r.ballots for r in rows}[("approval", "online")] == 6


def test_in_person_check_in_and_kiosk_ballot_reconcile_and_verify(app, tmp_path):
    """A desk check-in (participation "desk") leads to a kiosk ballot (ballot "kiosk"): matched
    as one in-person group, in the workspace table and by the verifier's chain-channels."""
    from sqlalchemy import select

    from pbvote.models import Account, RollEntry
    from pbvote.services import in_person, publication, voting
    from tests.factories import make_cycle

    with app.app_context():
        staff_id = make_account("staff")[0]
        admin, admin2 = make_account("admin")[0], make_account("admin")[0]
        with write_intent():
            made = make_cycle("in-person", voting="open")
            cycle = get_cycle(made.slug)
            district = cycle.district_by_slug("approval")
            staff = db.session.get(Account, staff_id)
            entry_id = db.session.scalar(select(RollEntry.id).where(
                RollEntry.district_id == district.id).order_by(RollEntry.id).limit(1))
            checked_in = in_person.check_in(cycle, entry_id, site="Town Hall", id_checked=True,
                                            handout="kiosk", actor=staff)
            in_person.cast_kiosk_ballot(cycle, checked_in.kiosk_pass_id, ("AP-A", "AP-B"))
            online = voting.verify_by_code(cycle, district, made.codes["approval"][0])
            voting.cast_ballot(online, ("AP-C",))
            db.session.commit()
            rows = {(r.district_slug, r.channel): r for r in audit.reconciliation(cycle)}
            assert (rows[("approval", "in person")].participations,
                    rows[("approval", "in person")].ballots,
                    rows[("approval", "in person")].receipts) == (1, 1, 1)
            assert rows[("approval", "in person")].detail == "desk 1 / kiosk 1"
            assert rows[("approval", "online")].balanced
            setup.close_voting(cycle, "staff@example.org")
            run = publication.run_tally(cycle, staff)
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            db.session.commit()
        report = audit.verify_now(get_cycle(made.slug))
        assert report.ok, report.text()
