"""The systemd units shipped in config/ pass `systemd-analyze verify` (with the install paths
pointed at this checkout, which is where the executables are here)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = {"pbvote-web.service": "pbvote-web@.service", "pbvote-worker.service": None,
         "pbvote-retention.service": None, "pbvote-retention.timer": None}
#: a timer is verified beside the service it starts
COMPANIONS = {"pbvote-retention.timer": "pbvote-retention.service"}


# ./run test installs systemd-analyze (Debian's systemd); a bare pytest on a machine without
# it skips, but CI (which runs ./run test) must check the units
@pytest.mark.skipif(shutil.which("systemd-analyze") is None and not os.environ.get("CI"),
                    reason="systemd-analyze is not installed here (./run test installs it)")
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_unit_verifies(unit, tmp_path):
    venv_bin = Path(sys.executable).parent
    env_file = tmp_path / "pbvote.env"
    env_file.write_text("PBVOTE_SECRET_KEY=x\n")
    for part in (unit, COMPANIONS.get(unit)):
        if part is None:
            continue
        text = (ROOT / "config" / part).read_text()
        if part.endswith(".service"):
            for needed in ("User=pbvote", "EnvironmentFile=/etc/pbvote/pbvote.env", "Restart=",
                           "PBVOTE_INSTANCE_PATH=/var/lib/pbvote"):
                assert needed in text
        text = (text.replace("/opt/pbvote/.venv/bin", str(venv_bin)).replace(
            "/opt/pbvote", str(ROOT)).replace("/etc/pbvote/pbvote.env", str(env_file)))
        (tmp_path / (UNITS[part] or part)).write_text(text)
    name = UNITS[unit] or unit
    target = tmp_path / (name.replace("@.", "@8001.") if "@." in name else name)
    if target.name != name:
        target.symlink_to(tmp_path / name)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(target)],
                          capture_output=True, text=True)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and "user pbvote" not in line.lower()
                and "group pbvote" not in line.lower()]
    assert done.returncode == 0 or not problems, "\n".join(problems)
    assert not problems, "\n".join(problems)
