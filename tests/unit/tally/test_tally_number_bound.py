"""Numbers beyond the documented bound are refused with a message (issue #21 item 12):
before, a 5,000-digit budget crashed ``python -m pbvote.tally`` while formatting."""
from __future__ import annotations

import pytest

from pbvote.tally.exact import MAX_EXPONENT, parse_exact
from pbvote.tally.pabulib import MAX_NUMBER_CHARS
from tests.unit.tally.test_tally_cli import cli

PB = """META
key;value
description;bound test
num_projects;2
num_votes;2
budget;{budget}
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;{cost};A
2;50;B
VOTES
voter_id;vote
v1;1,2
v2;1
"""


@pytest.mark.parametrize(("budget", "cost"), [("9" * 5000, "10"), ("1e5000", "10"),
                                              ("100", "1" + "0" * 70), ("100", "1/" + "3" * 70)])
def test_the_cli_refuses_numbers_beyond_the_bound(tmp_path, budget, cost):
    path = tmp_path / "big.pb"
    path.write_text(PB.format(budget=budget, cost=cost), encoding="utf-8")
    result = cli(path)
    assert result.returncode == 2, (result.stdout[-300:], result.stderr[-600:])
    assert "at most" in result.stderr and "Traceback" not in result.stderr


def test_numbers_within_the_bound_count(tmp_path):
    path = tmp_path / "fine.pb"
    path.write_text(PB.format(budget="9" * MAX_NUMBER_CHARS, cost="10.25"), encoding="utf-8")
    result = cli(path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("text", ["1/0", "1/x", "", f"1e{MAX_EXPONENT + 1}"])
def test_parse_exact_refuses_with_value_error(text):
    with pytest.raises(ValueError):
        parse_exact(text)
