"""`pbvote backup` while ballots are being cast, `pbvote restore` into a fresh database, on
both engines: the restored chain verifies, every receipt acknowledged before the backup
began is there, ballots equal participations, and the standalone verifier passes on the
bundle of the restored cycle after closing, counting and publishing it. Then the refusals:
bad destinations, damaged backups, a non-empty target, the wrong engine, a newer schema."""
from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from pbvote import create_app
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Chain, Participation, RollEntry
from pbvote.services import log, setup, voting
from pbvote.services.cycles import get_cycle
from pbvote.services.demo import DEMO_SLUG
from pbvote.services.simulate import random_selections
from tests.conftest import POSTGRES_SERVER_URL, REPO_ROOT, _drop_postgres, _prepare_postgres
from tests.staff_helpers import make_account

pytestmark = pytest.mark.db


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _caster(app, acknowledged: list, stop: threading.Event, seed: int) -> None:
    """Casts one ballot per transaction, as the web does; a receipt counts as acknowledged
    once its transaction has committed."""
    import random

    rng = random.Random(seed)
    with app.app_context():
        cycle = get_cycle(DEMO_SLUG)
        districts = {d.id: (d.ballot_design(), d.project_costs()) for d in cycle.districts}
        entries = db.session.execute(select(RollEntry.id, RollEntry.district_id,
                                            RollEntry.identity_hash)
                                     .where(RollEntry.cycle_id == cycle.id)
                                     .order_by(RollEntry.id)).all()
        db.session.rollback()
        for entry_id, district_id, identity in entries:
            if stop.is_set():
                break
            design, costs = districts[district_id]
            with write_intent():
                cast = voting.cast_ballot(
                    voting.VerifiedVoter(cycle.id, district_id, identity, "roll", entry_id),
                    random_selections(design, costs, rng))
                db.session.commit()
            acknowledged.append((time.monotonic(), cast.receipt))
        db.session.remove()


@pytest.fixture
def target_url(engine_name, tmp_path):
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = str(POSTGRES_SERVER_URL).rsplit("/", 1)[0] + f"/pbvote_restore_{secrets.token_hex(4)}"
    _prepare_postgres(url)
    yield url
    _drop_postgres(url)


def _target_app(url, tmp_path, monkeypatch):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "restored-instance"))
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url)


def test_backup_under_load_restores_into_a_cycle_that_verifies(app, runner, tmp_path,
                                                                  target_url, monkeypatch):
    _ok(runner.invoke(args=["demo", "--voters", "240"]))
    acknowledged: list = []
    stop = threading.Event()
    caster = threading.Thread(target=_caster, args=(app, acknowledged, stop, 5))
    caster.start()
    try:
        while len(acknowledged) < 40:
            assert caster.is_alive(), "the caster stopped early"
            time.sleep(0.02)
        started = time.monotonic()
        backed_up = _ok(runner.invoke(args=["backup", str(tmp_path / "backup")]))
        finished = time.monotonic()
        while len(acknowledged) < len([a for a in acknowledged if a[0] <= finished]) + 20:
            assert caster.is_alive()
            time.sleep(0.02)
    finally:
        stop.set()
        caster.join(60)
    before = {receipt for moment, receipt in acknowledged if moment < started}
    assert "Backed up to" in backed_up and len(before) >= 40
    assert len(acknowledged) > len(before) + 10  # casting went on during and after it
    files = sorted(p.name for p in (tmp_path / "backup").iterdir())
    assert "metadata.json" in files and "instance.tar" in files

    target = _target_app(target_url, tmp_path, monkeypatch)
    restored = target.test_cli_runner()
    assert "chain heads match" in _ok(restored.invoke(args=["restore",
                                                            str(tmp_path / "backup")]))
    with target.app_context():
        cycle = get_cycle(DEMO_SLUG)
        assert log.verify_stored_chain(cycle.chain_id).ok
        receipts = set(db.session.scalars(select(Ballot.receipt)))
        assert before <= receipts
        assert len(receipts) == db.session.scalar(select(func.count()).select_from(Participation))
        chain = db.session.get(Chain, cycle.chain_id)
        metadata = json.loads((tmp_path / "backup" / "metadata.json").read_text())
        assert metadata["chains"][chain.name] == {"length": chain.length,
                                                  "head": chain.head_hash}
        staff = make_account("staff")[1]
        admin, second_admin = make_account("admin")[1], make_account("admin")[1]
        with write_intent():
            setup.close_voting(get_cycle(DEMO_SLUG), staff)
            db.session.commit()
        db.session.remove()
    tallied = _ok(restored.invoke(args=["tally", DEMO_SLUG, "--by", staff]))
    run_id = re.search(r"Tally run (\d+)", tallied).group(1)
    _ok(restored.invoke(args=["publish", DEMO_SLUG, "--run", run_id, "--by", admin]))
    _ok(restored.invoke(args=["confirm-publication", DEMO_SLUG, "--run", run_id,
                              "--by", second_admin]))
    out = tmp_path / "export"
    _ok(restored.invoke(args=["export", DEMO_SLUG, str(out), "--chain"]))
    done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify",
                           str(out / f"{DEMO_SLUG}-results.zip"), "--chain",
                           str(out / "chain.jsonl")],
                          capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ALL CHECKS PASSED" in done.stdout
    with target.app_context():
        db.engine.dispose()


def _backup(runner, folder):
    _ok(runner.invoke(args=["backup", str(folder)]))
    return folder


def _refused(result, words: str) -> None:
    assert result.exit_code != 0, result.output
    assert words in result.output, result.output


def test_bad_destinations_are_refused(app, runner, tmp_path):
    _ok(runner.invoke(args=["demo", "--voters", "5"]))
    full = tmp_path / "used"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    _refused(runner.invoke(args=["backup", str(full)]), "is not an empty folder")
    assert (full / "keep.txt").read_text() == "mine"
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _refused(runner.invoke(args=["backup", str(a_file / "below")]), "Cannot write to")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not __import__("os").access(locked, __import__("os").W_OK):  # root may write anyway
        _refused(runner.invoke(args=["backup", str(locked / "b")]), "Cannot write to")


def test_damaged_backups_and_wrong_targets_are_refused(app, runner, tmp_path, target_url,
                                                       monkeypatch, engine_name):
    _ok(runner.invoke(args=["demo", "--voters", "5"]))
    good = _backup(runner, tmp_path / "good")
    # the source database is not empty
    _refused(runner.invoke(args=["restore", str(good)]), "is not empty")
    target = _target_app(target_url, tmp_path, monkeypatch)
    restore = target.test_cli_runner()

    def damaged(name, change):
        copy = tmp_path / f"damaged-{name}-{secrets.token_hex(2)}"
        __import__("shutil").copytree(good, copy)
        change(copy)
        return copy

    database = json.loads((good / "metadata.json").read_text())["database_file"]
    truncated = damaged("truncated", lambda c: (c / database).write_bytes(
        (c / database).read_bytes()[:1000]))
    _refused(restore.invoke(args=["restore", str(truncated)]), "does not match its checksum")
    tampered = damaged("tar", lambda c: (c / "instance.tar").write_bytes(
        (c / "instance.tar").read_bytes() + b"x"))
    _refused(restore.invoke(args=["restore", str(tampered)]), "does not match its checksum")
    no_meta = damaged("meta", lambda c: (c / "metadata.json").unlink())
    _refused(restore.invoke(args=["restore", str(no_meta)]), "not a pbvote backup")

    def edit(key, value):
        def change(copy):
            metadata = json.loads((copy / "metadata.json").read_text())
            metadata[key] = value
            (copy / "metadata.json").write_text(json.dumps(metadata))
        return change

    newer = damaged("newer", edit("schema_revision", ["0099_from_the_future"]))
    _refused(restore.invoke(args=["restore", str(newer)]), "newer version of pbvote")
    other = "postgresql" if engine_name == "sqlite" else "sqlite"
    wrong = damaged("engine", edit("engine", other))
    _refused(restore.invoke(args=["restore", str(wrong)]), f"This is a {other} backup")
    lying = damaged("counts", edit("counts", {"ballot": 999, "participation": 999,
                                              "roll_entry": 999}))
    _refused(restore.invoke(args=["restore", str(lying)]), "does not match the backup's counts")
    with target.app_context():  # the refused restore left nothing behind
        from sqlalchemy import inspect

        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
    assert "Restored" in _ok(restore.invoke(args=["restore", str(good)]))
