"""One person, one vote: a code issued for a roll entry votes under that entry's identity, so
roll match, desk check-in and the mailed code exclude each other in every order and in a
race; roll re-imports keep such codes consistent; codes for people off the roll are as before.
On every engine."""
from __future__ import annotations

import datetime as dt
import itertools
from functools import partial

import pytest
from sqlalchemy import func, select

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Account, Cycle, LogEntry, Participation, RollEntry
from pbvote.services import codes, in_person, publication, roll_import, voting
from pbvote.services.errors import AlreadyVoted, NotEligible, NotFound
from tests.factories import make_cycle
from tests.race_helpers import race
from tests.staff_helpers import make_account

APPROVAL_VOTE = ("AP-A", "AP-B")
ACTS = ("code", "roll", "desk")


def _cycle(cycle_id: int) -> Cycle:
    return db.session.get(Cycle, cycle_id)


def _entry(made, kind: str = "approval") -> RollEntry:
    person = made.people[kind]
    by_postcode, _ = voting.roll_match_hashes(person.last_name, person.birth_date,
                                              person.postcode)
    return db.session.scalar(select(RollEntry).where(
        RollEntry.cycle_id == made.cycle_id, RollEntry.postcode_match_hash == by_postcode))


def _participations(cycle_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Participation).where(
        Participation.cycle_id == cycle_id))


def _cycle_with_roll_code(slug: str = "one-id") -> tuple:
    """make_cycle plus a code issued for the approval resident's roll entry."""
    made = make_cycle(slug)
    cycle = _cycle(made.cycle_id)
    issued = codes.issue_codes_for_roll(cycle, cycle.district_by_slug("approval"), "staff:test")
    # The district's other entry is ten years old: no letter for it.
    assert len(issued.codes) == 1 and issued.remaining == 0
    return made, issued.codes[0].code


def _verify(made, act: str, code: str) -> voting.VerifiedVoter:
    cycle = _cycle(made.cycle_id)
    district = cycle.district_by_slug("approval")
    if act == "code":
        return voting.verify_by_code(cycle, district, code)
    person = made.people["approval"]
    return voting.verify_by_roll(cycle, district, person.last_name, person.birth_date,
                                 person.postcode)


def _act(made, act: str, code: str, staff_id: int) -> None:
    """Vote by `act` from start to end: verify and cast, or check in at the desk."""
    if act == "desk":
        in_person.check_in(_cycle(made.cycle_id), _entry(made).id, site="Library",
                           id_checked=True, handout="paper",
                           actor=db.session.get(Account, staff_id))
    else:
        voting.cast_ballot(_verify(made, act, code), APPROVAL_VOTE)


@pytest.mark.parametrize("order", list(itertools.permutations(ACTS)),
                         ids=lambda order: "-".join(order))
def test_each_order_of_code_roll_and_desk_gives_one_participation(app_context, order):
    staff_id = make_account("staff")[0]
    with write_intent():
        made, code = _cycle_with_roll_code()
        db.session.commit()
    first, *later = order
    with write_intent():
        _act(made, first, code, staff_id)
        db.session.commit()
    for act in later:
        with write_intent():
            with pytest.raises(AlreadyVoted):
                _act(made, act, code, staff_id)
            db.session.rollback()
    assert _participations(made.cycle_id) == 1
    participation = db.session.scalar(select(Participation))
    assert participation.identity_hash == _entry(made).identity_hash
    assert participation.channel == ("desk" if first == "desk" else "online")


@pytest.mark.parametrize("winner", ["code", "roll"])
def test_verified_both_ways_only_the_first_cast_counts(app_context, winner):
    """Both checks pass before either ballot is cast: the cast itself refuses the second."""
    with write_intent():
        made, code = _cycle_with_roll_code()
        db.session.commit()
        by_code, by_roll = _verify(made, "code", code), _verify(made, "roll", code)
        first, second = (by_code, by_roll) if winner == "code" else (by_roll, by_code)
        voting.cast_ballot(first, APPROVAL_VOTE)
        db.session.commit()
        with pytest.raises(AlreadyVoted):
            voting.cast_ballot(second, APPROVAL_VOTE)
        db.session.rollback()
    assert _participations(made.cycle_id) == 1


def _race(app, slug: str, kinds: tuple[str, str], staff_id: int) -> list[str]:
    with app.app_context(), write_intent():
        made, code = _cycle_with_roll_code(slug)
        db.session.commit()
        voters = {kind: _verify(made, kind, code) for kind in kinds if kind != "desk"}
        entry_id = _entry(made).id
    def check_in():
        in_person.check_in(_cycle(made.cycle_id), entry_id, site="Library", id_checked=True,
                           handout="paper", actor=db.session.get(Account, staff_id))

    outcomes = race(app, [(kind, check_in if kind == "desk" else
                           partial(voting.cast_ballot, voters[kind], APPROVAL_VOTE))
                          for kind in kinds])
    with app.app_context():
        assert _participations(made.cycle_id) == 1
    return outcomes


@pytest.mark.parametrize("rival", ["roll", "desk"])
def test_code_racing_roll_match_or_desk_leaves_one_participation(app, rival):
    with app.app_context():
        staff_id = make_account("staff")[0]
    for round_number in range(4):
        outcomes = _race(app, f"race-{rival}-{round_number}", ("code", rival), staff_id)
        assert outcomes in (sorted(["code", "refused"]), sorted([rival, "refused"])), outcomes


def test_codes_for_people_off_the_roll_are_their_own_identity(app_context):
    with write_intent():
        made = make_cycle("unbound")
        cycle = _cycle(made.cycle_id)
        district = cycle.district_by_slug("approval")
        code = made.codes["approval"][0]
        voter = voting.verify_by_code(cycle, district, code)
        assert voter.identity_hash == voting.code_identity_hash(
            cycle, voting.eligibility.normalise_access_code(code))
        voting.cast_ballot(voter, APPROVAL_VOTE)
        db.session.commit()
        with pytest.raises(AlreadyVoted):
            voting.verify_by_code(cycle, district, code)
        # The roll resident of the district is another person and still votes.
        voting.cast_ballot(_verify(made, "roll", code), APPROVAL_VOTE)
        db.session.commit()
    assert _participations(made.cycle_id) == 2
    assert db.session.scalar(select(AccessCode.roll_entry_id).where(
        AccessCode.status == "used")) is None


def test_issuing_for_the_roll_skips_who_has_a_code_voted_or_is_too_young(app_context):
    staff_id = make_account("staff")[0]
    with write_intent():
        made = make_cycle("issuing")
        cycle = _cycle(made.cycle_id)
        in_person.check_in(cycle, _entry(made, "ranked").id, site="Library", id_checked=True,
                           handout="paper", actor=db.session.get(Account, staff_id))
        first = codes.issue_codes_for_roll(cycle, None, "staff:test", limit=2)
        assert [c.district_slug for c in first.codes] == ["approval", "knapsack"]
        assert first.remaining == 1  # cumulative; ranked voted, the ten-year-old is left out
        rest = codes.issue_codes_for_roll(cycle, None, "staff:test")
        assert [c.district_slug for c in rest.codes] == ["cumulative"] and rest.remaining == 0
        with pytest.raises(codes.CodesRefused) as nobody:
            codes.issue_codes_for_roll(cycle, None, "staff:test")
        assert nobody.value.status == 409 and "already has an access code" in nobody.value.message
        # A voided letter can be replaced.
        codes.void_code(cycle, first.codes[0].code, "staff:test")
        again = codes.issue_codes_for_roll(cycle, cycle.district_by_slug("approval"),
                                           "staff:test")
        assert len(again.codes) == 1 and again.codes[0].code != first.codes[0].code
        db.session.commit()
    bound = db.session.scalars(select(AccessCode).where(AccessCode.roll_entry_id.is_not(None),
                                                        AccessCode.status == "unused")).all()
    assert len(bound) == 3 and len({c.roll_entry_id for c in bound}) == 3
    logged = db.session.scalars(select(LogEntry.entry_json).where(
        LogEntry.kind == "access_codes.issued_for_roll")).all()
    assert len(logged) == 3 and first.codes[0].code not in "".join(logged)


def test_issuing_for_the_roll_follows_the_code_generation_rules(app_context):
    with write_intent():
        made = make_cycle("rules")
        other = make_cycle("other-cycle")
        cycle = _cycle(made.cycle_id)
        with pytest.raises(NotFound):
            codes.issue_codes_for_roll(cycle, _cycle(other.cycle_id).district_by_slug("approval"),
                                       "staff:test")
        cycle.allowed_methods = "roll"
        with pytest.raises(codes.CodesRefused, match="does not allow voting with an access"):
            codes.issue_codes_for_roll(cycle, None, "staff:test")
        cycle.allowed_methods = "roll,code"
        cycle.phase_window("voting").ends_at = utcnow() - dt.timedelta(minutes=1)
        with pytest.raises(codes.CodesRefused, match="Voting has closed"):
            codes.issue_codes_for_roll(cycle, None, "staff:test")
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessCode).where(
        AccessCode.roll_entry_id.is_not(None))) == 0


def test_a_too_young_holder_is_refused_as_on_the_roll(app_context):
    with write_intent():
        made = make_cycle("young-holder", minimum_age=16)
        cycle = _cycle(made.cycle_id)
        person = made.people["approval"]
        code = codes.issue_codes_for_roll(cycle, cycle.district_by_slug("approval"),
                                          "staff:test").codes[0].code
        cycle.minimum_age = dt.date.today().year - person.birth_date.year + 1
        with pytest.raises(NotEligible) as refused:
            voting.verify_by_code(cycle, cycle.district_by_slug("approval"), code)
        assert {r.code for r in refused.value.reasons} == {"too_young"}
        db.session.rollback()


# ----- roll re-imports ------------------------------------------------------------------------
HEADER = "last_name,birth_date,postcode,district,roll_number,display_name\n"
LEE = "Lee,1980-01-01,AB1 2CD,approval,R1,Sam Lee\n"
KIM = "Kim,1981-02-02,AB1 2CD,knapsack,R2,Jo Kim\n"
OKAFOR = "Okafor,1982-03-03,XY9,ranked,R3,\n"


def _import(cycle, tmp_path, text: str, name: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    # these tests replace the roll wholesale: confirm the removals the preview states
    removed = roll_import.plan_import(cycle, path).removed
    return roll_import.apply_import(cycle, path, "staff:test", confirmed_removals=removed)


def _code_for(issued, slug: str) -> str:
    return next(c.code for c in issued.codes if c.district_slug == slug)


def _status(code: str) -> AccessCode:
    code_hash = voting.access_code_hash(voting.eligibility.normalise_access_code(code))
    return db.session.scalar(select(AccessCode).where(AccessCode.code_hash == code_hash))


def test_reimport_voids_the_codes_of_removed_and_moved_entries(app_context, tmp_path):
    with write_intent():
        made = make_cycle("reimport", codes_per_district=0)
        cycle = _cycle(made.cycle_id)
        _import(cycle, tmp_path, HEADER + LEE + KIM + OKAFOR, "first.csv")
        issued = codes.issue_codes_for_roll(cycle, None, "staff:test")
        assert {(c.display_name, c.birth_date) for c in issued.codes} == {
            ("Sam Lee", "1980-01-01"), ("Jo Kim", "1981-02-02"), ("", "1982-03-03")}
        lee, kim, okafor = (_code_for(issued, d) for d in ("approval", "knapsack", "ranked"))
        # Kim votes with the code; Okafor moves district; Lee leaves the roll.
        voting.cast_ballot(voting.verify_by_code(cycle, cycle.district_by_slug("knapsack"), kim),
                           ("KN-A", "KN-B"))
        plan = _import(cycle, tmp_path,
                       HEADER + "Okafor,1982-03-03,XY9,approval,R3,\n", "second.csv")
        db.session.commit()
    assert (plan.removed, plan.changed, plan.kept_voted, plan.codes_voided) == (1, 1, 1, 2)
    assert (_status(lee).status, _status(lee).roll_entry_id) == ("voided", None)
    assert _status(okafor).status == "voided" and _status(okafor).roll_entry_id is not None
    assert _status(kim).status == "used"
    # Kim, who voted, is kept: the roll still refuses a second vote.
    with pytest.raises(AlreadyVoted):
        voting.verify_by_roll(cycle, cycle.district_by_slug("knapsack"), "Kim",
                              dt.date(1981, 2, 2), "AB1 2CD")
    for code, district in ((lee, "approval"), (okafor, "ranked")):
        with pytest.raises(NotEligible) as refused:
            voting.verify_by_code(cycle, cycle.district_by_slug(district), code)
        assert "code_voided" in {r.code for r in refused.value.reasons}
    logged = db.session.scalars(select(LogEntry.entry_json).where(
        LogEntry.kind == "roll.imported")).all()
    assert '"access_codes_voided":2' in logged[-1]


def test_a_code_follows_its_entry_through_a_change_in_the_same_district(app_context, tmp_path):
    with write_intent():
        made = make_cycle("follow", codes_per_district=0)
        cycle = _cycle(made.cycle_id)
        _import(cycle, tmp_path, HEADER + LEE, "first.csv")
        lee = codes.issue_codes_for_roll(cycle, None, "staff:test").codes[0].code
        plan = _import(cycle, tmp_path, HEADER + "Lee,1980-01-01,ZZ9 9ZZ,approval,R1,Sam Lee\n",
                       "moved-house.csv")
        assert (plan.changed, plan.codes_voided) == (1, 0)
        district = cycle.district_by_slug("approval")
        voting.cast_ballot(voting.verify_by_code(cycle, district, lee), APPROVAL_VOTE)
        db.session.commit()
        with pytest.raises(AlreadyVoted):
            voting.verify_by_roll(cycle, district, "Lee", dt.date(1980, 1, 1), "ZZ9 9ZZ")
    assert _participations(made.cycle_id) == 1


def test_a_reimport_between_check_and_cast_refuses_the_ballot(app_context, tmp_path):
    with write_intent():
        made = make_cycle("between", codes_per_district=0)
        cycle = _cycle(made.cycle_id)
        _import(cycle, tmp_path, HEADER + LEE, "first.csv")
        lee = codes.issue_codes_for_roll(cycle, None, "staff:test").codes[0].code
        voter = voting.verify_by_code(cycle, cycle.district_by_slug("approval"), lee)
        _import(cycle, tmp_path, HEADER + "Lee,1980-01-01,ZZ9 9ZZ,approval,R1,Sam Lee\n",
                "moved-house.csv")
        with pytest.raises(NotEligible, match="no longer available"):
            voting.cast_ballot(voter, APPROVAL_VOTE)
        db.session.rollback()


def test_eligible_people_count_a_roll_entry_with_a_code_once(app_context):
    with write_intent():
        made = make_cycle("eligible", codes_per_district=2)
        cycle = _cycle(made.cycle_id)
        codes.issue_codes_for_roll(cycle, None, "staff:test")
        cycle.phase_window("voting").ends_at = utcnow() - dt.timedelta(minutes=1)
        db.session.flush()
        results = publication.compute_results(cycle)
        db.session.rollback()
    approval = next(d for d in results["districts"] if d["slug"] == "approval")
    # one roll entry old enough (and its letter), two codes for people off the roll
    assert (approval["roll_size"], approval["access_codes"], approval["eligible"]) == (1, 2, 3)
