"""Hostile or huge .pb files: memory stays a bounded multiple of the file's size, and no line
makes the reader quadratic. Peak memory is measured with tracemalloc and compared with the
file's size (a ratio; the bounds are generous, the figures measured are in the comments)."""
from __future__ import annotations

import random
import tracemalloc

import pytest

from pbvote.tally.pabulib import PabulibError, read_pabulib

HEAD = "META\nkey;value\nbudget;1000000\nvote_type;approval\nrule;greedy\n"


def _peak_ratio(path, expect_error=None):
    size = path.stat().st_size
    tracemalloc.start()
    try:
        if expect_error:
            with pytest.raises(PabulibError, match=expect_error):
                read_pabulib(path, strict=False)
            held = 0
        else:
            pb = read_pabulib(path, strict=False)
            held = tracemalloc.get_traced_memory()[0]
            assert pb.profile.num_voters > 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / size, held / size


def test_a_large_file_of_short_ballots_is_not_held_several_times_over(tmp_path):
    """60,000 short approval ballots (about 0.9 MB). Before: the bytes, the decoded text, its lines,
    a dict per row and a list of every ballot were all alive at once: peak 65x the file (a 4.5 MB
    file peaked at 294 MB; this one 71x, 50x held after reading). Now about 43x at peak and 34x
    held (a row is a tuple, ballots stream into the profile, ids are shared): what stays is the
    rows, for writing the file back, and the grouped profile."""
    rng = random.Random(7)
    path = tmp_path / "big.pb"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEAD + "PROJECTS\nproject_id;cost;name\n")
        for p in range(60):
            fh.write(f"{p};{rng.randrange(1000, 100000)};Projekt żółty {p}\n")
        fh.write("VOTES\nvoter_id;vote\n")
        for v in range(60_000):
            fh.write(f"{v};{','.join(map(str, rng.sample(range(60), rng.randrange(1, 6))))}\n")
    peak, held = _peak_ratio(path)
    assert peak < 55, f"peak memory {peak:.1f}x the file size"
    assert held < 42, f"memory held after reading {held:.1f}x the file size"


def test_a_million_column_line_is_refused_without_a_copy_per_column(tmp_path):
    """One VOTES line of a million ';' (1 MB): refused naming the line; peak about 10x."""
    path = tmp_path / "wide.pb"
    path.write_text(HEAD + "PROJECTS\nproject_id;cost\n1;10\n2;20\nVOTES\nvoter_id;vote\n"
                    + "v1;" + ";" * 1_000_000 + "\n", encoding="utf-8")
    peak, _ = _peak_ratio(path, expect_error=r"wide\.pb:12:5: VOTES row has 1000002 fields")
    assert peak < 20, f"peak memory {peak:.1f}x the file size"


def test_a_ballot_repeating_one_project_a_hundred_thousand_times_is_read_in_linear_time(tmp_path):
    """Lenient reading counts a repeated approval once and reports it. The repeats used to be
    found with ``ids.count`` per id: quadratic (20,000 repeats took 2 s, 100,000 about a minute)."""
    path = tmp_path / "repeat.pb"
    path.write_text(HEAD + "PROJECTS\nproject_id;cost\n1;10\n2;20\nVOTES\nvoter_id;vote\n"
                    + "v1;" + ",".join(["1"] * 100_000) + "\nv2;2\n", encoding="utf-8")
    peak, _ = _peak_ratio(path)
    assert peak < 30, f"peak memory {peak:.1f}x the file size"
    pb = read_pabulib(path, strict=False)
    assert pb.duplicates == [{"line": 12, "voter": "v1", "projects": ["1"]}]
    assert pb.profile.supporters() == {"1": 1, "2": 1}
