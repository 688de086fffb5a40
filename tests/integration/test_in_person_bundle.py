"""A cycle with online, kiosk, counted and spoiled paper ballots and a paper audit publishes
a bundle that carries paper_audit.json and passes the standalone verifier."""
from __future__ import annotations

import datetime as dt
import json

from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import audit, in_person, publication, voting
from pbvote.services.in_person import reading
from tests.factories import make_cycle
from tests.staff_helpers import make_account


def _account(account_id: int) -> Account:
    return db.session.get(Account, account_id)


def test_in_person_ballots_publish_into_a_verified_bundle_with_the_paper_audit(app):
    with app.app_context():
        first, second = make_account("staff")[0], make_account("staff")[0]
        auditor = make_account("auditor")[0]
        admin, admin2 = make_account("admin")[0], make_account("admin")[0]
        with write_intent():
            made = make_cycle(codes_per_district=3)
            cycle = db.session.get(Cycle, made.cycle_id)
            cycle.self_declared_allowed = True
            approval = cycle.district_by_slug("approval")
            voting.cast_ballot(voting.verify_by_code(cycle, approval, made.codes["approval"][0]),
                               ("AP-A",))
            checked_in = []
            for number, handout in enumerate(["kiosk", "paper", "paper", "paper"]):
                entry = in_person.add_self_declared(
                    cycle, "approval", last_name=f"Walkin{number}",
                    birth_date=dt.date(1975, 3, 3), postcode="10001", display_name="",
                    site="Library", proof_seen="bill", actor=_account(first))
                checked_in.append(in_person.check_in(cycle, entry.id, site="Library",
                                                     id_checked=True, handout=handout,
                                                     actor=_account(first)))
            in_person.cast_kiosk_ballot(cycle, checked_in[0].kiosk_pass_id, ("AP-B",))
            batch = in_person.print_serials(cycle, "approval", "Library", 3, _account(first))
            counted, spoiled, _unreturned = [r.serial for r in
                                             in_person.batch_serials(cycle, batch)]
            window = cycle.phase_window("voting")
            window.ends_at = utcnow() - dt.timedelta(minutes=1)
            for who in (first, second):
                in_person.enter_paper_ballot(cycle, counted, reading(approval, "valid", ("AP-C",)),
                                             _account(who))
                in_person.enter_paper_ballot(cycle, spoiled,
                                             reading(approval, "spoiled", None, "torn"),
                                             _account(who))
            paper_audit = in_person.start_audit(cycle, seed="7 7 7", method="percentage",
                                                percentage="100", actor=_account(auditor))
            assert sorted(json.loads(paper_audit.sample_json)) == sorted([counted, spoiled])
            in_person.record_finding(cycle, counted, reading(approval, "valid", ("AP-C",)),
                                     _account(auditor))
            run = publication.run_tally(cycle, _account(first))
            publication.request_publication(cycle, run, _account(admin))
            publication.confirm_publication(cycle, run, _account(admin2))
            db.session.commit()

        cycle = db.session.get(Cycle, made.cycle_id)
        files = audit.bundle_files(cycle)
        document = json.loads(files["paper_audit.json"])
        assert document["districts"]["approval"] == {
            "desk_checkins": 4, "paper_counted": 1, "kiosk_ballots": 1, "spoiled": 1,
            "invalid": 0, "awaiting_entry": 0, "kiosk_not_used": 0, "unreturned": 1,
            "not_cast": 2}
        assert document["audit"]["seed"] == "7 7 7"
        assert document["audit"]["findings"][0]["serial"] == counted
        assert "paper_audit.json" in files["SHA256SUMS"].decode()
        report = audit.verify_now(cycle)
        assert report.ok, report.text()
