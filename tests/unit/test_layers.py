"""The import-linter contracts in pyproject.toml hold, and they do catch a broken import.

The second test plants an import that climbs a layer in a throwaway copy of the package:
a contract that cannot fail would let it through.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(),
                                reason="import-linter is installed by ./run test")


def _lint(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([str(LINT_IMPORTS), str(project / "pyproject.toml")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_the_layer_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module, planted, contract", [
    ("rules/charts.py", "import flask", "are pure"),
    ("tally/ties.py", "import pbvote.rules.ballots", "stand on tally"),
    ("services/keys.py", "import pbvote.web.guards", "app layers"),
    ("infra/db.py", "import pbvote.models", "app layers"),
    ("cli/audit.py", "import pbvote.web.guards", "app layers"),
])
def test_a_planted_upward_import_breaks_its_contract(tmp_path, module, planted, contract):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "pbvote", tmp_path / "pbvote",
                    ignore=shutil.ignore_patterns("__pycache__", "translations"))
    target = tmp_path / "pbvote" / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by the test\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    # one summary line per contract, "<name> KEPT" or "<name> BROKEN" (possibly coloured)
    broken = [line for line in result.stdout.splitlines() if "BROKEN" in line]
    assert len(broken) == 1 and contract in broken[0], result.stdout
