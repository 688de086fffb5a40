"""`pbvote backup` onto a destination that fills up or is read-only, on both engines: a clear
message, a non-zero exit, and nothing half-written left behind (the folder is as it was).

A small tmpfs is mounted for each case, so this needs root (CI and `./run test` are); as
another user it skips, saying why."""
from __future__ import annotations

import os
import subprocess

import pytest

pytestmark = pytest.mark.db


@pytest.fixture
def mount(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    points = []

    def make(options: str):
        point = tmp_path / f"mnt{len(points)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:  # root without the right to mount (a restricted container)
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        points.append(point)
        return point

    yield make
    for point in points:
        subprocess.run(["umount", str(point)], check=False, capture_output=True)


def _refused(result) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_full_destination_fails_clearly_and_leaves_nothing(app, runner, mount):
    assert runner.invoke(args=["demo", "--voters", "50"]).exit_code == 0
    full = mount("size=96k")
    # a new folder on the full disk: removed again
    out = _refused(runner.invoke(args=["backup", str(full / "hourly")]))
    assert "No space left on device" in out or "disk is full" in out, out
    assert "Nothing was kept" in out or "pg_dump failed" in out, out
    assert list(full.iterdir()) == []
    # the empty folder itself: emptied again, kept
    out = _refused(runner.invoke(args=["backup", str(full)]))
    assert "No space left on device" in out or "disk is full" in out, out
    assert list(full.iterdir()) == []
    # with room, the same command works (so the refusal above was the disk, nothing else)
    roomy = mount("size=64m")
    done = runner.invoke(args=["backup", str(roomy / "hourly")])
    assert done.exit_code == 0, done.output
    assert (roomy / "hourly" / "metadata.json").is_file()


def test_a_read_only_destination_is_refused_before_anything_is_written(app, runner, mount):
    assert runner.invoke(args=["demo", "--voters", "5"]).exit_code == 0
    read_only = mount("ro,size=1m")
    for target in (read_only / "hourly", read_only):
        out = _refused(runner.invoke(args=["backup", str(target)]))
        assert "Cannot write to" in out and "Read-only file system" in out, out
    assert list(read_only.iterdir()) == []
