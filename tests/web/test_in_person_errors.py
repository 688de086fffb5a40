"""Kiosk and paper-entry errors follow the online ballot's pattern: one summary that takes the
focus, each error a link to the control it is about, and the form filled in again with what
was typed, so a voter (or the staff member entering a paper ballot) fixes one field."""
from __future__ import annotations

import re

from tests.conftest import csrf_token
from tests.web.test_in_person_pages import DESK, PAPER, _check_in, _cycle, _post, _signed_in


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)
    assert found, "no error summary"
    summary = found.group(0)
    for attribute in ('role="alert"', 'tabindex="-1"', 'id="error-summary"', "autofocus",
                      'aria-labelledby="error-summary-title"'):
        assert attribute in summary, (attribute, summary)
    return summary


def _link_targets(html: str) -> list[str]:
    """The summary's link targets, each checked to be a control on the page."""
    targets = re.findall(r'href="#([^"]+)"', _summary(html))
    assert targets, "the error summary links to no field"
    for target in targets:
        assert re.search(rf'<(input|select|textarea)[^>]*\sid="{re.escape(target)}"', html), \
            f"#{target} is not a control on the page"
    return targets


def _selected_rank(html: str, code: str) -> str | None:
    select = re.search(rf'<select name="rank_{code}".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option value="(\d*)"\s*selected', select)
    return chosen.group(1) if chosen else None


def _kiosk_for(app, kind: str):
    """A kiosk unlocked for one checked-in voter of the `kind` district."""
    made = _cycle(app)
    kiosk = _signed_in(app)
    _post(kiosk, DESK + "/", DESK + "/site", {"site": "Library"})
    assert _check_in(kiosk, made, kind=kind, handout="kiosk").status_code == 200
    assert _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                               "pin": "2468", "pin_again": "2468"}
                 ).status_code == 302
    page = kiosk.get("/kiosk/ready")
    pass_id = re.search(r'<option value="([0-9a-f]{32})">', page.text).group(1)
    unlocked = kiosk.post("/kiosk/unlock", data={"csrf_token": csrf_token(page.text),
                                                 "pass_id": pass_id, "pin": "2468"})
    assert unlocked.headers["Location"].endswith("/kiosk/ballot")
    return kiosk


def test_kiosk_ballot_with_a_rank_twice_keeps_the_ranks_and_links_each_error(app):
    kiosk = _kiosk_for(app, "ranked")
    response = _post(kiosk, "/kiosk/ballot", "/kiosk/ballot",
                     {"rank_RA-A": "2", "rank_RA-B": "2", "rank_RA-C": "1", "rank_RA-D": "x"})
    assert response.status_code == 422
    assert [_selected_rank(response.text, c) for c in ("RA-A", "RA-B", "RA-C", "RA-D")] \
        == ["2", "2", "1", None]
    assert all(target.startswith("rank-RA-") for target in _link_targets(response.text))


def test_kiosk_ballot_over_budget_keeps_the_ticks_and_links_to_the_first_choice(app):
    kiosk = _kiosk_for(app, "knapsack")
    response = _post(kiosk, "/kiosk/ballot", "/kiosk/ballot",
                     {"project": ["KN-A", "KN-B", "KN-C"]})
    assert response.status_code == 422
    assert set(_link_targets(response.text)) == {"choice-KN-A"}
    ticked = re.findall(r'value="(KN-[A-D])" id="choice-KN-[A-D]"\s*checked', response.text)
    assert ticked == ["KN-A", "KN-B", "KN-C"]


def test_kiosk_points_that_are_not_numbers_keep_the_other_points(app):
    kiosk = _kiosk_for(app, "cumulative")
    response = _post(kiosk, "/kiosk/ballot", "/kiosk/ballot",
                     {"points_CU-A": "4", "points_CU-B": "lots", "points_CU-D": "3"})
    assert response.status_code == 422
    assert 'name="points_CU-A" id="points-CU-A" value="4"' in response.text
    assert 'name="points_CU-B" id="points-CU-B" value=""' in response.text
    assert 'name="points_CU-D" id="points-CU-D" value="3"' in response.text
    assert "points-CU-B" in _link_targets(response.text)


def test_kiosk_set_up_and_pin_errors_link_to_their_field(app):
    _cycle(app)
    kiosk = _signed_in(app)
    differ = _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                                "pin": "2468", "pin_again": "2469"})
    assert differ.status_code == 422
    assert _link_targets(differ.text) == ["pin_again"]
    assert re.search(r'id="pin_again" aria-invalid="true"', differ.text)
    short = _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                               "pin": "12", "pin_again": "12"})
    assert _link_targets(short.text) == ["pin"]
    assert 'value="Library"' in short.text  # the site stays as typed

    assert _post(kiosk, "/kiosk/", "/kiosk/", {"cycle": "test-cycle", "site": "Library",
                                               "pin": "2468", "pin_again": "2468"}
                 ).status_code == 302
    wrong_exit = _post(kiosk, "/kiosk/ready", "/kiosk/exit", {"pin": "0000"})
    assert wrong_exit.headers["Location"].endswith("/kiosk/ready?error=exit-pin")
    page = kiosk.get(wrong_exit.headers["Location"])
    assert _link_targets(page.text) == ["exit-pin"]
    wrong_unlock = _post(kiosk, "/kiosk/ready", "/kiosk/unlock", {"pin": "0000", "pass_id": ""})
    assert _link_targets(kiosk.get(wrong_unlock.headers["Location"]).text) == ["pin"]


def _paper_entry(app, district: str):
    _cycle(app)
    staff = _signed_in(app)
    batch = _post(staff, PAPER + "/", PAPER + "/print",
                  {"district": district, "site": "Library", "count": "1"})
    sheets = staff.get(batch.headers["Location"]).text
    serial = re.search(r'<p class="paper-serial">[^<]*<strong>([^<]+)</strong>', sheets).group(1)

    def enter(data):
        page = staff.get(PAPER + "/enter", query_string={"serial": serial})
        return staff.post(PAPER + "/enter", data={"csrf_token": csrf_token(page.text),
                                                  "serial": serial, **data})
    return enter


def test_paper_entry_with_a_rank_twice_keeps_the_ranks_and_links_each_error(app):
    enter = _paper_entry(app, "ranked")
    response = enter({"outcome": "valid", "rank_RA-A": "1", "rank_RA-B": "1",
                      "rank_RA-C": "3"})
    assert response.status_code == 422
    assert [_selected_rank(response.text, c) for c in ("RA-A", "RA-B", "RA-C", "RA-D")] \
        == ["1", "1", "3", None]
    assert all(target.startswith("rank-RA-") for target in _link_targets(response.text))


def test_paper_entry_breaking_the_rules_links_to_the_choices_and_keeps_them(app):
    enter = _paper_entry(app, "approval")
    response = enter({"outcome": "valid", "project": ["AP-A", "AP-B", "AP-C"]})
    assert response.status_code == 422 and "enter it as invalid" in response.text
    assert set(_link_targets(response.text)) == {"choice-AP-A"}
    assert len(re.findall(r'id="choice-AP-[A-D]"\s*checked', response.text)) == 3


def test_paper_entry_spoiled_without_a_reason_links_to_the_reason(app):
    enter = _paper_entry(app, "approval")
    response = enter({"outcome": "spoiled", "reason": " "})
    assert response.status_code == 422
    assert _link_targets(response.text) == ["reason"]
    assert re.search(r'id="outcome-spoiled"\s*checked', response.text)
