"""Every real election that records an official outcome (selected=1) and a known rule is
reproduced exactly, under that rule with the parameters its META implies."""
from __future__ import annotations

import pytest
from tally_testdata import pabulib_dir

from pbvote.tally import RULES, default_rule_and_params, read_pabulib, run_rule
from pbvote.tally.instance import WITHDRAWN_COST

# What the README of the shared folder lists; the test below checks the folder agrees, so a
# file that stops carrying its outcome (or a new one) is noticed rather than skipped.
EXPECTED = {
    "Netherlands_Assen_2024": ("equalshares/add1", 9),
    "Poland_Swiecie_2023": ("equalshares/add1", 17),
    "Poland_Warszawa_2026_Mokotow": ("greedy-threshold", 9),
    "Poland_Gdynia_2022_Green_Budget": ("greedy-no-skip", 2),
    "Poland_Krakow_2023_Nowa_Huta": ("greedy", 8),
    "Poland_Poznan_2023": ("greedy-no-skip", 1),   # META says greedy-custom: counted without skipping
}


def _files_with_outcomes():
    out = []
    for path in sorted(pabulib_dir().glob("*.pb")):
        pb = read_pabulib(path)
        if pb.official_selection and pb.meta.get("rule", "unknown") != "unknown":
            out.append(path)
    return out


def test_the_folder_has_exactly_the_expected_official_outcomes():
    assert {p.stem for p in _files_with_outcomes()} == set(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_official_outcome_is_reproduced(stem, pabulib_path):
    pb = read_pabulib(pabulib_path / f"{stem}.pb")
    rule, params, _notes = default_rule_and_params(pb)
    expected_rule, expected_count = EXPECTED[stem]
    assert rule == expected_rule
    if pb.meta["rule"] in RULES:
        assert rule == pb.meta["rule"]
    outcome = run_rule(pb.instance, pb.profile, rule, params)
    official = pb.official_selection
    assert len(official) == expected_count
    assert set(outcome.selected) == official
    assert len(outcome.selected) == len(set(outcome.selected))
    assert outcome.total_cost == pb.instance.cost_of(official)
    assert outcome.total_cost <= pb.instance.budget


def test_warszawa_threshold_comes_from_meta(pabulib_path):
    pb = read_pabulib(pabulib_path / "Poland_Warszawa_2026_Mokotow.pb")
    _rule, params, _ = default_rule_and_params(pb)
    assert params["min_score"] == int(pb.meta["min_project_score_threshold"]) == 150


def test_krakow_uses_3_2_1_points_and_never_funds_the_withdrawn_project(pabulib_path):
    pb = read_pabulib(pabulib_path / "Poland_Krakow_2023_Nowa_Huta.pb")
    withdrawn = [p for p in pb.instance.projects if p.cost == WITHDRAWN_COST]
    assert [p.id for p in withdrawn] == ["BO.D18.9/23"] and withdrawn[0].withdrawn
    scores = pb.profile.scores("borda")
    # The file's own score column is the 3-2-1 count.
    for p in pb.instance.projects:
        assert scores[p.id] == int(p.extra["score"]), p.id
    outcome = run_rule(pb.instance, pb.profile, "greedy", {})
    assert "BO.D18.9/23" not in outcome.selected
    # Even with an enormous budget the withdrawn project stays out.
    from pbvote.tally import Instance
    rich = Instance(pb.instance.projects, 10**12)
    prof = type(pb.profile)(rich, "ordinal", pb.profile.groups, max_length=3)
    assert "BO.D18.9/23" not in run_rule(rich, prof, "greedy", {}).selected
    assert "BO.D18.9/23" not in run_rule(rich, prof, "equalshares", {}).selected


def test_add1_defaults_are_the_ones_that_reproduce_official_outcomes(pabulib_path):
    """equalshares.net's add1 (exhaustive, integral, +1 per voter) without the utilitarian
    completion: adding that completion funds an extra project in Assen."""
    pb = read_pabulib(pabulib_path / "Netherlands_Assen_2024.pb")
    spec = RULES["equalshares/add1"]
    assert spec.params["exhaustive"][0] is True and spec.params["integral"][0] is True
    assert spec.params["increment"][0] == 1 and spec.params["utilitarian_completion"][0] is False
    assert spec.params["utilities"][0] == "cost"
    with_completion = run_rule(pb.instance, pb.profile, "equalshares/add1", {"utilitarian_completion": True})
    assert set(with_completion.selected) != pb.official_selection
    plain_mes = run_rule(pb.instance, pb.profile, "equalshares", {})
    assert set(plain_mes.selected) < pb.official_selection
