"""The command-line contract: python -m pbvote.tally FILE.pb [--rule] [--param k=v] [--json]."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def cli(*args):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pbvote.tally", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=REPO)


def test_json_uses_the_files_rule_and_has_the_contract_keys(pabulib_path):
    res = cli(pabulib_path / "Poland_Swiecie_2023.pb", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"selected", "rule", "params", "total_cost", "trace"} <= set(data)
    assert data["rule"] == "equalshares/add1" and len(data["selected"]) == 17
    assert all(isinstance(p, str) for p in data["selected"])


def test_ordinal_file_defaults_to_greedy_on_borda_points(pabulib_path):
    res = cli(pabulib_path / "Poland_Krakow_2023_Nowa_Huta.pb", "--json")
    data = json.loads(res.stdout)
    assert data["rule"] == "greedy" and data["params"]["scoring_fn"] == "borda"
    assert data["selected"][0] == "BO.D18.22/23"


def test_rule_and_params_from_the_command_line(pabulib_path):
    res = cli(pabulib_path / "Netherlands_Assen_2024.pb", "--rule", "equalshares", "--param", "utilities=cardinality",
              "--json")
    data = json.loads(res.stdout)
    assert data["rule"] == "equalshares" and data["params"]["utilities"] == "cardinality"
    res = cli(pabulib_path / "Poland_Warszawa_2026_Mokotow.pb", "--rule", "greedy-threshold", "--json")
    assert json.loads(res.stdout)["params"]["min_score"] == 150


def test_readable_output(pabulib_path):
    res = cli(pabulib_path / "Poland_Gdynia_2022_Green_Budget.pb")
    assert res.returncode == 0
    assert "Rule: greedy-no-skip" in res.stdout and "the count stops here" in res.stdout
    assert "Selected (2)" in res.stdout


def test_errors_exit_non_zero_with_a_clear_message(pabulib_path, tmp_path):
    res = cli(pabulib_path / "Poland_Gdynia_2022_Green_Budget.pb", "--rule", "add1")
    assert res.returncode != 0 and "unknown rule 'add1'" in res.stderr and not res.stdout
    res = cli(pabulib_path / "Poland_Gdynia_2022_Green_Budget.pb", "--param", "colour=blue")
    assert res.returncode != 0 and "no parameter" in res.stderr
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\na;ten\nVOTES\nvoter_id;vote\n1;a\n")
    res = cli(bad)
    assert res.returncode != 0 and "bad.pb:6:" in res.stderr and "not a number" in res.stderr
    res = cli(tmp_path / "missing.pb")
    assert res.returncode != 0 and "cannot read" in res.stderr
    res = cli(pabulib_path / "Poland_Krakow_2023_Nowa_Huta.pb", "--rule", "phragmen")
    assert res.returncode != 0 and "does not take ordinal" in res.stderr


def test_list_rules_and_missing_file_argument():
    res = cli("--list-rules")
    assert res.returncode == 0
    names = {r["name"] for r in json.loads(res.stdout)}
    assert {"greedy", "equalshares/add1", "equalshares/add1-comparison", "phragmen"} <= names
    res = cli()
    assert res.returncode == 2 and "a .pb file or a directory is required" in res.stderr


SMALL = """META
key;value
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;votes;name;selected
a;60;3;Park;{a}
b;50;2;Library;{b}
c;40;1;Bench;{c}
VOTES
voter_id;vote
1;a,b
2;a,b
3;a,c
"""


def test_check_official_passes_on_a_match_and_fails_with_the_first_difference(tmp_path):
    good = tmp_path / "good.pb"
    good.write_text(SMALL.format(a=1, b=0, c=1))
    res = cli(good, "--check-official")
    assert res.returncode == 0, res.stderr
    assert "Checked against the file's official outcome (selected=1): the same projects are funded." in res.stdout
    bad = tmp_path / "bad.pb"
    bad.write_text(SMALL.format(a=1, b=1, c=0))
    res = cli(bad, "--check-official")
    assert res.returncode == 1
    assert "DIFFERS from the official outcome: greedy step 2: the count does not fund b: skipped" in res.stderr
    assert "Funded by the count only: c; official only: b." in res.stderr
    # without --check-official the difference is stated, not an error
    res = cli(bad)
    assert res.returncode == 0 and "DIFFERENT: greedy step 2" in res.stdout


def test_directory_mode_prints_one_line_per_file_and_a_summary(tmp_path):
    (tmp_path / "1_good.pb").write_text(SMALL.format(a=1, b=0, c=1))
    (tmp_path / "2_bad.pb").write_text(SMALL.format(a=1, b=1, c=0))
    (tmp_path / "3_broken.pb").write_text(SMALL.format(a=1, b=0, c=1).replace("a;60", "a;sixty"))
    (tmp_path / "4_none.pb").write_text(SMALL.format(a=1, b=0, c=1).replace(";selected", "").replace(";1\n", "\n")
                                        .replace(";0\n", "\n"))
    res = cli(tmp_path)
    lines = res.stdout.splitlines()
    assert lines[0].startswith("1_good.pb\tgreedy\t2 funded, cost 100\tmatches official\t")
    assert lines[1].startswith("2_bad.pb\tgreedy\t2 funded, cost 100\tDIFFERS from official: greedy step 2")
    assert lines[2].startswith("3_broken.pb\t-\tERROR\t") and "3_broken.pb:8:3" in lines[2]
    assert lines[3].startswith("4_none.pb\tgreedy\t2 funded, cost 100\tno official outcome")
    assert "# greedy: 3 files: 1 match, 1 differ, 1 no official outcome" in res.stdout
    assert res.returncode == 2   # a file could not be read
    (tmp_path / "3_broken.pb").unlink()
    assert cli(tmp_path).returncode == 0
    assert cli(tmp_path, "--check-official").returncode == 1


def test_repeated_projects_are_reported_and_strict_refuses(tmp_path):
    path = tmp_path / "dup.pb"
    path.write_text(SMALL.format(a=1, b=0, c=1).replace("3;a,c\n", "3;a,c,a\n"))
    res = cli(path)
    assert res.returncode == 0
    assert "1 of 3 ballots list a project more than once (lines 15); each repeated project was counted once" \
        in res.stdout
    res = cli(path, "--strict")
    assert res.returncode == 2 and "dup.pb:15:3: voter '3' lists project(s) a more than once" in res.stderr


def test_hostile_files_give_a_clear_error_and_no_traceback(tmp_path):
    cases = {
        "latin1.pb": (SMALL.format(a=1, b=0, c=1).replace("Park", "Pärk").encode("latin-1"),
                      "latin1.pb:8:9: the file is not UTF-8 text"),
        "unknown.pb": (SMALL.format(a=1, b=0, c=1).replace("3;a,c", "3;a,zz").encode(),
                       "unknown.pb:15:3: voter '3' votes for project 'zz', which is not in PROJECTS"),
        "huge.pb": (SMALL.format(a=1, b=0, c=1).replace("budget;100", "budget;1e999999999").encode(),
                    "huge.pb:3:8: META budget '1e999999999' has an exponent beyond the bound (at most 100)"),
        "wide.pb": (SMALL.format(a=1, b=0, c=1).replace("1;a,b\n", "1;a,b" + ";x" * 100_000 + "\n").encode(),
                    "wide.pb:13:7: VOTES row has 100002 fields but the header has 2"),
        "truncated.pb": (SMALL.format(a=1, b=0, c=1).split("VOTES")[0].encode(), "truncated.pb: missing VOTES"),
        "quote.pb": (SMALL.format(a=1, b=0, c=1).replace("c;40;1;Bench", 'c;40;1;"Bench').encode(),
                     "quote.pb:10:8: a cell starts with a quote (\") that is never closed"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        res = cli(tmp_path / name)
        assert res.returncode == 2, (name, res.stderr)
        assert message in res.stderr, (name, res.stderr)
        assert "Traceback" not in res.stderr and not res.stdout
