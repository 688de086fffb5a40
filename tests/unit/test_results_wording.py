"""Issue #17, item 4: "why funded" reads as a person would write it: singular for one
supporter or vote, and the counting rule's raw parameters only in the auditors' section."""
from __future__ import annotations

from pbvote.rules.results_reading import parameter_rows, read_district
from tests.unit.test_results_view import _district, _money


def _why(rule, ballots):
    result = read_district(_district(rule, ballots), _money)
    return {p.id: " ".join(p.why) for p in result.projects}, result


def test_one_supporter_and_one_vote_are_singular():
    why, _result = _why("equalshares", [{"D"}] + [{"B"}] * 3)
    assert "1 supporter paid $20." in why["D"] or "1 supporter paid $20 " in why["D"]
    assert "1 supporters" not in " ".join(why.values())
    why, _result = _why("equalshares", [{"C"}] + [{"A", "B"}] * 4)
    assert "With 1 vote from 1 supporter, its supporter's equal share" in why["C"]
    why, _result = _why("greedy", [{"A", "B"}] * 3 + [{"C"}])
    assert "It came 3rd with 1 vote." in why["C"]
    assert "1 votes" not in " ".join(why.values())


def test_raw_parameters_stay_out_of_the_public_count_and_are_explained_for_auditors():
    _why_text, result = _why("equalshares/add1", [{"A"}] * 6 + [{"C", "D"}] * 4)
    public = " ".join(result.trace_lines)
    assert "Parameters:" not in public and "exhaustive=" not in public
    rows = {name: (value, meaning) for name, value, meaning in
            parameter_rows("equalshares/add1", {"completion": "add1", "exhaustive": True,
                                                "tie_seed": "s"})}
    assert rows["exhaustive"][0] == "true" and rows["completion"][0] == "add1"
    assert all(meaning for _value, meaning in rows.values())
