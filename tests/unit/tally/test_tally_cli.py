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
    assert res.returncode == 2 and "a .pb file is required" in res.stderr
