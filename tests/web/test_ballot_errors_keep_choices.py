"""A ballot that cannot be read (a rank twice, points that are not a number) comes back with
what the resident typed, and its error summary links to the ballot's own controls."""
from __future__ import annotations

import re

from tests.web.test_resident_path import _submit_ballot, _verify_by_code


def _selected_rank(html: str, code: str) -> str | None:
    select = re.search(rf'<select name="rank_{code}".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option value="(\d*)"\s*selected', select)
    return chosen.group(1) if chosen else None


def test_a_rank_given_twice_keeps_every_rank_typed(app, client, made):
    _verify_by_code(client, made, "ranked", made.codes["ranked"][0])
    response = _submit_ballot(client, made, {"rank_RA-A": "2", "rank_RA-B": "2",
                                             "rank_RA-C": "1", "rank_RA-D": "x"})
    assert response.status_code == 422
    assert [_selected_rank(response.text, c) for c in ("RA-A", "RA-B", "RA-C", "RA-D")] \
        == ["2", "2", "1", None]
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert targets and all(t.startswith("rank-RA-") for t in targets), summary
    for target in targets:
        assert f'id="{target}"' in response.text


def test_points_that_are_not_numbers_keep_the_other_points(app, client, made):
    _verify_by_code(client, made, "cumulative", made.codes["cumulative"][0])
    response = _submit_ballot(client, made, {"points_CU-A": "4", "points_CU-B": "lots",
                                             "points_CU-C": "", "points_CU-D": "3"})
    assert response.status_code == 422
    assert re.search(r'name="points_CU-A" id="points-CU-A" value="4"', response.text)
    assert re.search(r'name="points_CU-D" id="points-CU-D" value="3"', response.text)
    assert re.search(r'name="points_CU-B" id="points-CU-B" value=""', response.text)
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    assert re.findall(r'href="#([^"]+)"', summary) == ["points-CU-B"]  # the field at fault


def test_a_ballot_over_budget_links_its_error_to_the_first_choice(app, client, made):
    _verify_by_code(client, made, "knapsack", made.codes["knapsack"][0])
    response = _submit_ballot(client, made, {"project": ["KN-A", "KN-B", "KN-C"]})
    assert response.status_code == 422
    assert 'href="#choice-KN-A"' in response.text
    assert response.text.count("checked") == 3  # the choices stay ticked
