"""`pbvote upgrade` during a cycle, on both engines.

A database is built, a cycle opened and voted in, then the schema is taken back to an older
revision (0012_hardening): that is the database a city runs when a new pbvote arrives. The
upgrade applies the migrations, re-verifies the live cycle, and the cycle goes on: more
ballots, close, count, publish, and the standalone verifier passes. A migration that declares
it changes frozen data is refused unless named; one that changes frozen data without saying
so is caught after it ran and rolled back, schema and data alike."""
from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import downgrade
from flask_migrate import upgrade as migrate_to_head
from sqlalchemy import func, inspect, select, text

from pbvote import PROJECT_ROOT, create_app
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Ballot, Participation, Project
from pbvote.services import log, setup
from pbvote.services.cycles import get_cycle
from pbvote.services.demo import DEMO_SLUG
from tests.conftest import POSTGRES_SERVER_URL, REPO_ROOT, _drop_postgres, _prepare_postgres
from tests.staff_helpers import make_account

pytestmark = pytest.mark.db
OLDER = "0012_hardening"


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def fresh_url(engine_name, tmp_path):
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    url = str(POSTGRES_SERVER_URL).rsplit("/", 1)[0] + f"/pbvote_upgrade_{secrets.token_hex(4)}"
    _prepare_postgres(url)
    yield url
    _drop_postgres(url)


def _app(url, tmp_path, monkeypatch, migrations=None):
    monkeypatch.setenv("PBVOTE_INSTANCE_PATH", str(tmp_path / "instance"))
    extra = {"MIGRATIONS_DIR": str(migrations)} if migrations else {}
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, **extra)


def _revision(app) -> list[str]:
    with app.app_context():
        with db.engine.connect() as connection:
            found = sorted(connection.execute(text("SELECT version_num FROM alembic_version"))
                           .scalars())
        db.engine.dispose()
    return found


def _live_cycle(app, voters: int, ballots: int, monkeypatch) -> None:
    """At the head revision: the demo (its 2027 cycle is open, so frozen) with ballots; without
    online self-declaration, which the older schema the test goes back to cannot hold."""
    monkeypatch.setattr("pbvote.services.demo.DEMO_SELF_DECLARATION", False)
    runner = app.test_cli_runner()
    with app.app_context():
        migrate_to_head()
        db.engine.dispose()
    _ok(runner.invoke(args=["demo", "--voters", str(voters)]))
    _ok(runner.invoke(args=["cast-random", DEMO_SLUG, "--n", str(ballots), "--seed", "3"]))


def test_upgrade_from_an_older_schema_keeps_a_live_cycle_verifiable(fresh_url, tmp_path,
                                                                      monkeypatch):
    app = _app(fresh_url, tmp_path, monkeypatch)
    runner = app.test_cli_runner()
    _live_cycle(app, voters=120, ballots=60, monkeypatch=monkeypatch)
    with app.app_context():
        head = _revision(app)
        downgrade(revision=OLDER)
        db.engine.dispose()
    assert _revision(app) == [OLDER]

    planned = _ok(runner.invoke(args=["upgrade", "--dry-run"]))
    assert "0013_delivery" in planned and "nothing was changed" in planned
    assert re.search(rf"Frozen cycles: .*{DEMO_SLUG}", planned)
    assert _revision(app) == [OLDER]

    done = _ok(runner.invoke(args=["upgrade", "--backup", str(tmp_path / "before-upgrade")]))
    assert "re-verified" in done and "Backed up to" in done, done
    assert _revision(app) == head
    assert "0012_hardening" in (tmp_path / "before-upgrade" / "metadata.json").read_text()
    assert "Nothing to apply" in _ok(runner.invoke(args=["upgrade"]))

    # the cycle goes on after the upgrade: more ballots, then close, count, publish, verify
    _ok(runner.invoke(args=["cast-random", DEMO_SLUG, "--n", "20", "--seed", "4"]))
    with app.app_context():
        cycle = get_cycle(DEMO_SLUG)
        assert log.verify_stored_chain(cycle.chain_id).ok
        for model in (Ballot, Participation):
            assert db.session.scalar(select(func.count()).select_from(model).where(
                model.cycle_id == cycle.id)) == 80
        staff = make_account("staff")[1]
        admin, second_admin = make_account("admin")[1], make_account("admin")[1]
        with write_intent():
            setup.close_voting(cycle, staff)
            db.session.commit()
        db.session.remove()
    tallied = _ok(runner.invoke(args=["tally", DEMO_SLUG, "--by", staff]))
    run_id = re.search(r"Tally run (\d+)", tallied).group(1)
    _ok(runner.invoke(args=["publish", DEMO_SLUG, "--run", run_id, "--by", admin]))
    _ok(runner.invoke(args=["confirm-publication", DEMO_SLUG, "--run", run_id,
                            "--by", second_admin]))
    out = tmp_path / "export"
    _ok(runner.invoke(args=["export", DEMO_SLUG, str(out), "--chain"]))
    verified = subprocess.run([sys.executable, "-m", "pbvote.audit.verify",
                               str(out / f"{DEMO_SLUG}-results.zip"), "--chain",
                               str(out / "chain.jsonl")],
                              capture_output=True, text=True, cwd=REPO_ROOT)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ALL CHECKS PASSED" in verified.stdout
    with app.app_context():
        db.engine.dispose()


def _migrations_with(tmp_path, revision: str, body: str, flagged: bool):
    """A copy of the real migrations plus one more after their head."""
    folder = tmp_path / "migrations"
    shutil.copytree(PROJECT_ROOT / "migrations", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    config = Config()
    config.set_main_option("script_location", str(folder))
    head = ScriptDirectory.from_config(config).get_heads()[0]
    flag = "touches_frozen_cycles = True\n" if flagged else ""
    (folder / "versions" / f"{revision}.py").write_text(
        f'"""test: {revision}"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {revision!r}\ndown_revision = {head!r}\nbranch_labels = None\n"
        f"depends_on = None\n{flag}\n\ndef upgrade():\n{body}\n\ndef downgrade():\n"
        "    op.execute('DROP TABLE IF EXISTS upgrade_probe')\n")
    return folder


COSTS_UP = ("    op.create_table('upgrade_probe', sa.Column('id', sa.Integer, primary_key=True))\n"
            "    op.execute('UPDATE project SET cost = cost + 1')\n")


def _costs(app) -> list[int]:
    with app.app_context():
        costs = list(db.session.scalars(select(Project.cost).order_by(Project.id)))
        db.session.remove()
        db.engine.dispose()
    return costs


def test_a_flagged_migration_is_refused_while_a_cycle_is_frozen(fresh_url, tmp_path,
                                                                 monkeypatch):
    migrations = _migrations_with(tmp_path, "0099_reprice", COSTS_UP, flagged=True)
    app = _app(fresh_url, tmp_path, monkeypatch, migrations)
    runner = app.test_cli_runner()
    _live_cycle(app, voters=20, ballots=5, monkeypatch=monkeypatch)
    # _live_cycle migrated to the copy's head, so go back one step first
    with app.app_context():
        downgrade(revision="-1")
        db.engine.dispose()
    before, revision = _costs(app), _revision(app)

    for args in (["upgrade"], ["upgrade", "--dry-run"],
                 ["upgrade", "--backup", str(tmp_path / "b1")]):
        refused = runner.invoke(args=args)
        assert refused.exit_code != 0, refused.output
        assert "Refused" in refused.output and "0099_reprice" in refused.output
        assert DEMO_SLUG in refused.output and "--allow-frozen-change 0099_reprice" in \
            refused.output
    assert not (tmp_path / "b1").exists()  # refused before the backup was taken
    old_way = runner.invoke(args=["init-db"])  # the first-install command does not bypass it
    assert old_way.exit_code != 0 and "0099_reprice" in old_way.output, old_way.output
    wrong = runner.invoke(args=["upgrade", "--allow-frozen-change", "0098_other"])
    assert wrong.exit_code != 0 and "not a pending migration" in wrong.output
    assert _costs(app) == before and _revision(app) == revision

    allowed = _ok(runner.invoke(args=["upgrade", "--allow-frozen-change", "0099_reprice"]))
    assert "no longer rebuilds the frozen manifest" in allowed
    assert _costs(app) == [cost + 1 for cost in before]
    assert _revision(app) == ["0099_reprice"]


def test_an_undeclared_change_to_frozen_data_is_rolled_back(fresh_url, tmp_path, monkeypatch):
    migrations = _migrations_with(tmp_path, "0099_sneaky", COSTS_UP, flagged=False)
    app = _app(fresh_url, tmp_path, monkeypatch, migrations)
    runner = app.test_cli_runner()
    _live_cycle(app, voters=20, ballots=5, monkeypatch=monkeypatch)
    with app.app_context():
        downgrade(revision="-1")
        db.engine.dispose()
    before, revision = _costs(app), _revision(app)

    assert "0099_sneaky" in _ok(runner.invoke(args=["upgrade", "--dry-run"]))
    result = runner.invoke(args=["upgrade"])
    assert result.exit_code != 0, result.output
    assert "Rolled back" in result.output and "frozen manifest" in result.output
    assert _costs(app) == before and _revision(app) == revision
    with app.app_context():  # the schema change of the same migration is gone too
        assert "upgrade_probe" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_deleting_a_ballot_is_rolled_back_even_when_allowed(fresh_url, tmp_path, monkeypatch):
    migrations = _migrations_with(
        tmp_path, "0099_lossy",
        "    op.execute('DELETE FROM ballot WHERE id = (SELECT MAX(b.id) FROM ballot b'\n"
        f"               ' JOIN cycle c ON c.id = b.cycle_id WHERE c.slug = \\'{DEMO_SLUG}\\')')\n",
        flagged=True)
    app = _app(fresh_url, tmp_path, monkeypatch, migrations)
    runner = app.test_cli_runner()
    _live_cycle(app, voters=20, ballots=5, monkeypatch=monkeypatch)
    with app.app_context():
        downgrade(revision="-1")
        db.engine.dispose()
    revision = _revision(app)
    result = runner.invoke(args=["upgrade", "--allow-frozen-change", "0099_lossy"])
    assert result.exit_code != 0, result.output
    assert f"cycle {DEMO_SLUG}: 5 ballots before, 4 after" in result.output
    assert _revision(app) == revision
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.cycle_id == get_cycle(DEMO_SLUG).id)) == 5
        db.session.remove()
        db.engine.dispose()


def test_init_db_builds_a_new_database_and_upgrade_then_has_nothing_to_do(fresh_url, tmp_path,
                                                                           monkeypatch):
    app = _app(fresh_url, tmp_path, monkeypatch)
    runner = app.test_cli_runner()
    assert "up to date" in _ok(runner.invoke(args=["init-db"]))
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert _revision(app) == sorted(ScriptDirectory.from_config(config).get_heads())
    assert "Nothing to apply" in _ok(runner.invoke(args=["upgrade", "--dry-run"]))


def test_rewritten_ballots_with_the_same_count_are_caught(fresh_url, tmp_path, monkeypatch):
    migrations = _migrations_with(
        tmp_path, "0099_rewrite",
        "    op.execute(\"UPDATE ballot SET selections = selections || ' '\")\n", flagged=False)
    app = _app(fresh_url, tmp_path, monkeypatch, migrations)
    _live_cycle(app, voters=20, ballots=5, monkeypatch=monkeypatch)
    with app.app_context():
        downgrade(revision="-1")
        before = sorted(db.session.scalars(select(Ballot.selections)))
        db.session.remove()
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["upgrade"])
    assert result.exit_code != 0, result.output
    assert f"cycle {DEMO_SLUG}: ballots rewritten" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Ballot.selections))) == before
        db.session.remove()
        db.engine.dispose()
