"""pbvote tally / publish / confirm-publication, as a city's script would run them."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import ResultsSnapshot, TallyRun
from pbvote.services import setup
from pbvote.services.cycles import get_cycle
from pbvote.services.tally import count_district
from tests.staff_helpers import make_account

SLUG = "safer-streets-2027"


def _snapshots(app) -> int:
    with app.app_context():
        # the demo's earlier cycle (2026) is published already: count this cycle's only
        return db.session.scalar(select(func.count()).select_from(ResultsSnapshot).where(
            ResultsSnapshot.cycle_id == get_cycle(SLUG).id))


def test_count_then_publish_with_two_admins(app, runner):
    with app.app_context():
        staff = make_account("staff")[1]
        admin = make_account("admin")[1]
        admin2 = make_account("admin")[1]
    assert runner.invoke(args=["demo", "--voters", "40"]).exit_code == 0
    assert runner.invoke(args=["cast-random", SLUG, "--n", "30", "--seed", "3"]).exit_code == 0

    early = runner.invoke(args=["tally", SLUG, "--by", staff])
    assert early.exit_code != 0 and "Voting is still open" in early.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TallyRun).where(
            TallyRun.cycle_id == get_cycle(SLUG).id)) == 0
        with write_intent():
            setup.close_voting(get_cycle(SLUG), "test")
            db.session.commit()

    assert runner.invoke(args=["tally", SLUG, "--by", "nobody@example.org"]).exit_code != 0
    counted = runner.invoke(args=["tally", SLUG, "--by", staff])
    assert counted.exit_code == 0, counted.output
    run_id = re.search(r"Tally run (\d+)", counted.output).group(1)
    assert "PRIVATE: not published" in counted.output
    with app.app_context():
        cycle = get_cycle(SLUG)
        stored = json.loads(db.session.get(TallyRun, int(run_id)).results_json)
        for district, entry in zip(cycle.districts, stored["districts"]):
            outcome = count_district(district)
            assert entry["outcome"] == outcome.to_dict()
            for pid in outcome.selected:
                assert pid in counted.output

    by_staff = runner.invoke(args=["publish", SLUG, "--run", run_id, "--by", staff])
    assert by_staff.exit_code != 0 and "admin" in by_staff.output
    asked = runner.invoke(args=["publish", SLUG, "--run", run_id, "--by", admin])
    assert asked.exit_code == 0, asked.output
    same = runner.invoke(args=["confirm-publication", SLUG, "--run", run_id, "--by", admin])
    assert same.exit_code != 0 and "second administrator" in same.output
    assert _snapshots(app) == 0
    missing = runner.invoke(args=["confirm-publication", SLUG, "--run", "999", "--by", admin2])
    assert missing.exit_code != 0 and "no such tally run" in missing.output

    confirmed = runner.invoke(args=["confirm-publication", SLUG, "--run", run_id, "--by", admin2])
    assert confirmed.exit_code == 0, confirmed.output
    assert "Published the results" in confirmed.output
    twice = runner.invoke(args=["confirm-publication", SLUG, "--run", run_id, "--by", admin2])
    assert twice.exit_code != 0 and "already published" in twice.output
    assert _snapshots(app) == 1
    assert app.test_client().get(f"/cycles/{SLUG}/results").status_code == 200
