"""Tampering with the database after publication: the verifier must fail every time.

For each of the ballot, participation and log_entry tables, one row is inserted, deleted or
updated directly in SQL after publication; then the bundle and the chain are exported and
verified. Which check catches it (the first to fail):

ballot insert / delete            counts         (ballots ≠ participations in the district)
ballot update (selections)        scores         (re-counted supporters/scores ≠ results.json,
                                                  even where the winners stay the same; with
                                                  the chain, chain-ballots would follow)
participation insert / delete     counts         (participations ≠ ballots)
participation update (channel)    counts         (per channel ≠ what results.json counted)
participation update (district)   counts
log_entry insert                  chain-integrity (the export no longer ends at the head)
log_entry delete                  chain-integrity (a position is missing)
log_entry update                  chain-integrity (hash mismatch)

The log is not in the public bundle (only its head), so log tampering needs --chain; the
bundle alone still passes then, which the log tests assert too.
"""
from __future__ import annotations

import json
import secrets

import pytest
from sqlalchemy import select, text

from pbvote.audit import verify
from pbvote.audit.chain import canonical_json, entry_hash
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Chain, Cycle, District, LogEntry, Participation
from pbvote.services import audit, publication
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


@pytest.fixture
def published(app):
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            facts = {"slug": made.slug, "cycle_id": cycle.id, "chain_id": cycle.chain_id}
            db.session.commit()
    return facts


def export_and_verify(app, published, tmp_path, name="out") -> tuple[verify.Report, verify.Report]:
    """(bundle only, bundle and chain), from a fresh export of the database as it is now."""
    with app.app_context():
        cycle = db.session.get(Cycle, published["cycle_id"])
        paths = audit.export(cycle, tmp_path / name, with_chain=True)
        db.session.rollback()
    return verify.verify_path(paths.bundle_dir), verify.verify_path(paths.bundle_zip, paths.chain)


def tamper(app, statement: str, **params) -> None:
    with app.app_context(), write_intent():
        result = db.session.execute(text(statement), params)
        assert result.rowcount == 1
        db.session.commit()


def _ids(app, published, kind="approval", unlike=""):
    """Rows to tamper with; the ballot is one whose selections are not `unlike`."""
    with app.app_context():
        district = db.session.scalar(select(District).where(
            District.cycle_id == published["cycle_id"], District.slug == kind))
        ballot = db.session.scalar(select(Ballot).where(
            Ballot.district_id == district.id, Ballot.selections != unlike)
            .order_by(Ballot.id).limit(1))
        participation = db.session.scalar(select(Participation).where(
            Participation.district_id == district.id).order_by(Participation.id).limit(1))
        other = db.session.scalar(select(District.id).where(
            District.cycle_id == published["cycle_id"], District.slug == "ranked"))
        return {"district_id": district.id, "ballot_id": ballot.id,
                "ballot_selections": ballot.selections, "participation_id": participation.id,
                "other_district_id": other}


def test_untouched_export_verifies(app, published, tmp_path):
    alone, full = export_and_verify(app, published, tmp_path)
    assert alone.ok, alone.text()
    assert full.ok, full.text()


def _assert_fails(report: verify.Report, check: str, *fragments: str) -> None:
    assert not report.ok
    failure = report.first_failure
    assert failure.name == check, report.text()
    for fragment in fragments:
        assert fragment in failure.detail, failure.detail


# ----- ballot --------------------------------------------------------------------------------
def test_ballot_insert_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "INSERT INTO ballot (id, cycle_id, district_id, channel, selections, receipt, "
                "chain_position) VALUES (:id, :cycle, :district, 'online', :sel, 'ZZZZZ-00000', "
                "9999)", id=secrets.token_hex(16), cycle=published["cycle_id"],
           district=ids["district_id"], sel='["AP-C"]')
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "district approval: 7 ballots, 7 receipts, 6 participations")
    _assert_fails(full, "counts")


def test_ballot_delete_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "DELETE FROM ballot WHERE id = :id", id=ids["ballot_id"])
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "district approval: 5 ballots, 5 receipts, 6 participations")
    _assert_fails(full, "counts")


@pytest.mark.parametrize("kind,new", [("approval", '["AP-C"]'),
                                      ("ranked", '["RA-A","RA-C"]'),  # same projects, reordered
                                      ("cumulative", '{"CU-A":5,"CU-D":5}')])
def test_ballot_update_fails(app, published, tmp_path, kind, new):
    ids = _ids(app, published, kind, unlike=new)
    tamper(app, "UPDATE ballot SET selections = :sel WHERE id = :id", sel=new,
           id=ids["ballot_id"])
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "scores", f"district {kind}, project")
    _assert_fails(full, "scores", f"district {kind}, project")


def test_ballot_update_is_also_caught_by_the_chain(app, published, tmp_path):
    """Even if results.json were forged to match, the chain's ballots would still differ."""
    ids = _ids(app, published, unlike='["AP-C"]')
    tamper(app, "UPDATE ballot SET selections = :sel WHERE id = :id", sel='["AP-C"]',
           id=ids["ballot_id"])
    with app.app_context():
        cycle = db.session.get(Cycle, published["cycle_id"])
        files = audit.bundle_files(cycle)
        chain = [json.loads(line) for line in audit.chain_export_lines(cycle)]
        db.session.rollback()
    # Skip the bundle-only checks that already failed: drop scores/tally by forging results.
    results = json.loads(files["results.json"])
    district = next(d for d in results["districts"] if d["slug"] == "approval")
    ballots = json.loads(files["ballots.json"])["districts"]["approval"]
    from pbvote.tally import run_rule

    manifest = json.loads(files["manifest.json"])["manifest"]
    spec = next(d for d in manifest["districts"] if d["slug"] == "approval")
    instance = verify.district_instance(spec)
    profile = verify.district_profile(spec, instance, ballots)
    recount = run_rule(instance, profile, spec["tally"]["rule"],
                       verify.tally_params(manifest, spec))
    district["outcome"] = recount.to_dict()
    from pbvote.tally.analysis import analyse

    district["analysis"] = analyse(instance, profile, recount)
    district["scores"] = {k: verify.exact_json(v) for k, v in profile.scores().items()}
    supporters = profile.supporters()
    for project in district["projects"]:
        project["supporters"] = supporters[project["id"]]
    files["results.json"] = canonical_json(results).encode()
    # ...and marks the new winners in the district's Pabulib file, which the verifier checks
    from pbvote.audit.bundle import _pabulib

    files[verify.pabulib_file_name("approval")] = _pabulib(
        manifest, spec, ballots, district["outcome"]["selected"]).encode()
    files = {k: v for k, v in files.items() if k != verify.SUMS_FILE}
    files[verify.SUMS_FILE] = verify.render_sums(files).encode()
    assert verify.verify_files(files).ok  # the forged bundle is self-consistent
    _assert_fails(verify.verify_files(files, chain), "chain-ballots", "district approval")


# ----- participation -----------------------------------------------------------------------
def test_participation_insert_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "INSERT INTO participation (id, cycle_id, district_id, identity_hash, channel, "
                "site, voted_on) VALUES (:id, :cycle, :district, :identity, 'online', '', "
                "'2026-01-01')", id=secrets.token_hex(16), cycle=published["cycle_id"],
           district=ids["district_id"], identity="f" * 64)
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "district approval: 6 ballots, 6 receipts, 7 participations")
    _assert_fails(full, "counts")


def test_participation_delete_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "DELETE FROM participation WHERE id = :id", id=ids["participation_id"])
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "6 ballots, 6 receipts, 5 participations")
    _assert_fails(full, "counts")


def test_participation_channel_update_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "UPDATE participation SET channel = 'kiosk' WHERE id = :id",
           id=ids["participation_id"])
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "district approval: participations by channel")
    _assert_fails(full, "counts")


def test_participation_district_update_fails(app, published, tmp_path):
    ids = _ids(app, published)
    tamper(app, "UPDATE participation SET district_id = :other WHERE id = :id",
           other=ids["other_district_id"], id=ids["participation_id"])
    alone, full = export_and_verify(app, published, tmp_path)
    _assert_fails(alone, "counts", "district approval: 6 ballots, 6 receipts, 5 participations")
    _assert_fails(full, "counts")


# ----- log_entry ---------------------------------------------------------------------------
def _ballot_entry(app, published) -> LogEntry:
    with app.app_context():
        entry = db.session.scalar(select(LogEntry).where(
            LogEntry.chain_id == published["chain_id"], LogEntry.kind == "ballot")
            .order_by(LogEntry.position).limit(1))
        db.session.expunge(entry)
        return entry


def test_log_entry_insert_fails(app, published, tmp_path):
    """A well-formed entry appended after the head, without moving the recorded head."""
    with app.app_context():
        chain = db.session.get(Chain, published["chain_id"])
        position, previous = chain.length + 1, chain.head_hash
    entry_json = canonical_json({"position": position, "kind": "ballot", "data": {
        "ballot_id": secrets.token_hex(16), "cycle": published["slug"], "district": "approval",
        "channel": "online", "selections": ["AP-C"]}})
    tamper(app, "INSERT INTO log_entry (chain_id, position, kind, entry_json, previous_hash, "
                "entry_hash) VALUES (:chain, :position, 'ballot', :json, :previous, :hash)",
           chain=published["chain_id"], position=position, json=entry_json, previous=previous,
           hash=entry_hash(previous, entry_json))
    alone, full = export_and_verify(app, published, tmp_path)
    assert alone.ok  # the bundle carries only the head, which did not move
    _assert_fails(full, "chain-integrity", f"ends at entry {position}",
                  f"publishes entry {position - 1}")


def test_log_entry_delete_fails(app, published, tmp_path):
    entry = _ballot_entry(app, published)
    tamper(app, "DELETE FROM log_entry WHERE id = :id", id=entry.id)
    alone, full = export_and_verify(app, published, tmp_path)
    assert alone.ok
    _assert_fails(full, "chain-integrity", f"entry {entry.position}: found position "
                                           f"{entry.position + 1}")


def test_log_entry_update_fails(app, published, tmp_path):
    entry = _ballot_entry(app, published)
    document = json.loads(entry.entry_json)
    document["data"]["selections"] = ["AP-C"] if document["data"]["district"] == "approval" \
        else document["data"]["selections"][::-1]
    tamper(app, "UPDATE log_entry SET entry_json = :json WHERE id = :id",
           json=canonical_json(document), id=entry.id)
    alone, full = export_and_verify(app, published, tmp_path)
    assert alone.ok
    _assert_fails(full, "chain-integrity", f"entry {entry.position}: hash mismatch")


# ----- the frozen configuration ------------------------------------------------------------
@pytest.fixture
def published_with_frozen_hash(app):
    """Like `published`, but the cycle keeps only its manifest hash, as the demo seed does."""
    from pbvote.services.cycles import manifest_hash

    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            cycle.manifest_hash, cycle.manifest_json = manifest_hash(cycle), None
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            facts = {"slug": made.slug, "cycle_id": cycle.id, "chain_id": cycle.chain_id}
            db.session.commit()
    return facts


def test_frozen_configuration_verifies_until_it_is_changed(app, published_with_frozen_hash,
                                                           tmp_path):
    published = published_with_frozen_hash
    alone, full = export_and_verify(app, published, tmp_path, "before")
    assert alone.ok and full.ok, full.text()
    tamper(app, "UPDATE project SET cost = cost + 1 WHERE code = 'RA-A'")
    alone, full = export_and_verify(app, published, tmp_path, "after")
    _assert_fails(alone, "manifest-hash", "results.json was counted under manifest")


def test_an_unlogged_phase_change_fails_the_manifest_hash(app, published_with_frozen_hash,
                                                         tmp_path):
    tamper(app, "UPDATE phase SET ends_at = starts_at + INTERVAL '2 hours' WHERE kind = 'voting'"
           if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else
           "UPDATE phase SET ends_at = datetime(starts_at, '+2 hours') WHERE kind = 'voting'")
    alone, _ = export_and_verify(app, published_with_frozen_hash, tmp_path)
    _assert_fails(alone, "manifest-hash")
