"""Issue #17, item 6: after a rank given twice, both choices are marked and the summary links
to the first of them (without JavaScript); ballot.js says the clash at once (tests/e2e)."""
from __future__ import annotations

import re

from tests.web.test_resident_path import _submit_ballot, _verify_by_roll


def test_both_projects_holding_a_rank_are_marked_after_the_error(client, made):
    _verify_by_roll(client, made, "ranked")
    response = _submit_ballot(client, made, {"rank_RA-A": "1", "rank_RA-C": "1",
                                             "rank_RA-B": "2"})
    assert response.status_code == 422
    page = response.text
    for pid in ("RA-A", "RA-C"):
        select = re.search(rf'<select name="rank_{pid}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in select and f'aria-describedby="rank-{pid}-error"' in select
        message = re.search(rf'<p [^>]*id="rank-{pid}-error"[^>]*>([^<]*)<', page)
        assert "hidden" not in message.group(0)
        assert "Choice 1 is also given to another project." in message.group(1)
    other = re.search(r'<select name="rank_RA-B"[^>]*>', page).group(0)
    assert "aria-invalid" not in other
    # the summary's link lands on the first of the two
    assert 'href="#rank-RA-A"' in page
    # the live region ballot.js fills in as the resident picks
    assert 'id="rank-counter"' in page and 'aria-live="polite"' in page
