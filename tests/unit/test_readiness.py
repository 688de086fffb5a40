"""The pure readiness checks (pbvote.rules.readiness): examples, and a property test that the
open check blocks exactly when a district cannot fund a project or cannot be voted in."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pbvote.rules import readiness
from pbvote.rules import setup as setup_rules
from pbvote.rules.ballots import BallotDesign
from pbvote.rules.eligibility import EligibilityRules

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def district(slug="north", budget=1000, costs=(300, 200, 100), roll=10, codes=0, sites=0,
             kind="approval", rule="greedy", params=None):
    design = BallotDesign(kind=kind, budget=budget, max_choices=2 if kind in (
        "approval", "ranked") else None, points=10 if kind == "cumulative" else None)
    settings_ = setup_rules.DistrictSettings(slug, slug.title(), budget, design, rule,
                                             params or {})
    return readiness.DistrictSnapshot(
        settings_, tuple((f"{slug[:2].upper()}-{i}", cost) for i, cost in enumerate(costs)),
        roll, codes, sites)


def snapshot(districts=None, frozen=False, start=NOW + DAY, end=NOW + 5 * DAY, **more):
    districts = districts if districts is not None else (district(),)
    return readiness.CycleSnapshot(
        slug="c", now=NOW,
        settings=setup_rules.CycleSettings("c", "C", "USD",
                                           sum(d.settings.budget for d in districts) or 1,
                                           "UTC", "seed"),
        eligibility=EligibilityRules(16, frozenset({"roll", "code"}), False),
        phases=(setup_rules.PhaseWindow("voting", start, end),),
        districts=tuple(districts), frozen=frozen, **more)


def codes(result):
    return [f.code for f in result.blockers]


def test_a_complete_cycle_is_ready_to_open():
    result = readiness.open_voting(snapshot())
    assert result.ready and result.warnings == ()


def test_a_budget_below_a_project_blocks_opening_and_links_to_the_district():
    # Defect 2: $100,000 with projects of $120,000 and $150,000.
    result = readiness.open_voting(snapshot((district(budget=100_000,
                                                      costs=(120_000, 150_000)),)))
    over = [f for f in result.blockers if f.code == "project_over_budget"]
    assert len(over) == 2
    assert over[0].link == readiness.Link("staff_setup.edit_district",
                                          (("district_slug", "north"), ("slug", "c")))


def test_a_district_nobody_can_vote_in_blocks_opening():
    # Defect 3: an empty roll and no access codes.
    result = readiness.open_voting(snapshot((district(roll=0, codes=0),)))
    assert "no_way_to_vote" in codes(result)
    assert readiness.open_voting(snapshot((district(roll=0, codes=3),))).ready


def test_rule_that_does_not_fit_the_ballot_and_phases_link_to_their_forms():
    result = readiness.open_voting(snapshot((district(kind="ranked", rule="mes"),),
                                            start=NOW + 3 * DAY, end=NOW + 2 * DAY))
    endpoints = {f.link.endpoint for f in result.blockers}
    assert "staff_setup.phases" in endpoints and "staff_setup.edit_district" in endpoints


def test_missing_translations_warn_but_do_not_block():
    result = readiness.open_voting(snapshot(missing_texts=(("NO-0", "es"), ("NO-0", "zh_Hans"))))
    assert result.ready
    assert [f.code for f in result.warnings] == ["text_missing"]
    assert result.warnings[0].link.endpoint == "content_translations.project"


def test_count_waits_for_closing_pending_paper_and_unexplained_imbalances():
    closed = dict(frozen=True, start=NOW - 5 * DAY, end=NOW - DAY)
    assert readiness.count(snapshot(**closed)).ready
    assert codes(readiness.count(snapshot(frozen=True))) == ["voting_not_closed"]
    blocked = readiness.count(snapshot(**closed, paper_entered_once=1, paper_adjudication=2,
                                       imbalances=(readiness.Imbalance("Library", "north",
                                                                       "3 returned, 1 out"),)))
    assert codes(blocked) == ["paper_pending", "paper_adjudication", "unexplained_imbalance"]
    explained = readiness.Imbalance("Library", "north", "3 returned, 1 out", explained=True)
    assert readiness.count(snapshot(**closed, imbalances=(explained,))).ready


def test_publication_is_blocked_by_a_failing_bundle_and_names_the_check():
    closed = dict(frozen=True, start=NOW - 5 * DAY, end=NOW - DAY)
    result = readiness.confirm_publication(snapshot(**closed, requested_run=4,
                                                    bundle_failure="counts: 3 ≠ 2"))
    assert codes(result) == ["bundle_fails"] and "counts: 3 ≠ 2" in result.blockers[0].message
    assert readiness.confirm_publication(snapshot(**closed, requested_run=4,
                                                  bundle_failure="")).ready
    assert codes(readiness.request_publication(snapshot(**closed))) == ["no_run"]


def test_the_verdict_stored_at_count_time_blocks_asking_to_publish_that_run_only():
    closed = dict(frozen=True, start=NOW - 5 * DAY, end=NOW - DAY)
    failed = readiness.request_publication(snapshot(**closed, draft_run=7,
                                                    draft_run_verdict="counts: 3 ≠ 2"))
    assert codes(failed) == ["bundle_fails"]
    assert "count 7" in failed.blockers[0].message and "counts: 3 ≠ 2" in failed.blockers[0].message
    assert failed.blockers[0].link.kwargs == {"slug": "c", "run_id": "7"}
    for verdict in ("", None):  # passed, or counted before verdicts were kept
        assert readiness.request_publication(snapshot(**closed, draft_run=7,
                                                      draft_run_verdict=verdict)).ready
    # a bundle built for this very check outranks the stored verdict
    assert readiness.request_publication(snapshot(**closed, draft_run=7, bundle_failure="",
                                                  draft_run_verdict="counts: 3 ≠ 2")).ready
    # a failed draft does not block confirming another run already put forward
    assert readiness.confirm_publication(snapshot(**closed, draft_run=7, requested_run=6,
                                                  draft_run_verdict="counts: 3 ≠ 2")).ready


def test_close_only_while_open():
    assert codes(readiness.close_voting(snapshot())) == ["voting_draft"]
    assert readiness.close_voting(snapshot(frozen=True, start=NOW - DAY)).ready
    assert codes(readiness.close_voting(snapshot(frozen=True))) == ["voting_scheduled"]
    closed = readiness.close_voting(snapshot(frozen=True, start=NOW - 3 * DAY, end=NOW - DAY))
    assert closed.done and not closed.ready  # taken already: shown as done, never again
    assert readiness.open_voting(snapshot(frozen=True)).done


DISTRICTS = st.builds(
    lambda i, budget, costs, roll, codes_, sites: district(
        f"d{i}", budget, tuple(costs), roll, codes_, sites),
    st.integers(0, 0), st.integers(1, 500), st.lists(st.integers(1, 600), min_size=2,
                                                     max_size=5),
    st.integers(0, 2), st.integers(0, 2), st.integers(0, 2))


@settings(max_examples=300, deadline=None)
@given(st.lists(DISTRICTS, min_size=1, max_size=4), st.booleans())
def test_open_blocks_exactly_on_unfundable_projects_and_unreachable_districts(found, frozen):
    districts = tuple(readiness.DistrictSnapshot(
        setup_rules.DistrictSettings(f"d{i}", f"D{i}", d.settings.budget,
                                     BallotDesign(kind="approval", budget=d.settings.budget,
                                                  max_choices=2), "greedy", {}),
        d.projects, d.roll_entries, d.unused_codes, d.desk_sites)
        for i, d in enumerate(found))
    result = readiness.open_voting(snapshot(districts, frozen=frozen))
    if frozen:
        assert codes(result) == ["already_frozen"]
        return
    unfundable = sum(1 for d in districts for _code, cost in d.projects
                     if cost > d.settings.budget)
    unreachable = sum(1 for d in districts if not (d.roll_entries or d.unused_codes))
    assert codes(result).count("project_over_budget") == unfundable
    assert codes(result).count("no_way_to_vote") == unreachable
    assert result.ready == (unfundable == 0 and unreachable == 0)
    # every finding has a page that fixes it, and the check is a pure function
    assert all(f.link.endpoint and dict(f.link.args)["slug"] == "c" for f in result.blockers)
    assert readiness.open_voting(snapshot(districts, frozen=frozen)) == result
