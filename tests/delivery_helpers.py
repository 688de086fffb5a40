"""A published cycle with delivery tracking opened, and the accounts that work on it."""
from __future__ import annotations

from pbvote.infra.extensions import db
from pbvote.models import Account, Cycle
from pbvote.services import publication
from pbvote.services.delivery import records
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


def published_cycle(slug: str = "test-cycle") -> Cycle:
    made = cycle_with_ballots("closed", slug=slug)
    cycle = db.session.get(Cycle, made.cycle_id)
    staff = db.session.get(Account, make_account("staff")[0])
    admin = db.session.get(Account, make_account("admin")[0])
    admin2 = db.session.get(Account, make_account("admin")[0])
    run = publication.run_tally(cycle, staff)
    publication.request_publication(cycle, run, admin)
    publication.confirm_publication(cycle, run, admin2)
    return cycle


def people() -> dict[str, Account]:
    """editor (staff, granted), staff (not granted), admin, auditor, resident."""
    found = {}
    for name, role in [("editor", "staff"), ("staff", "staff"), ("admin", "admin"),
                       ("auditor", "auditor"), ("resident", "resident")]:
        found[name] = db.session.get(Account, make_account(role)[0])
    return found


def tracked_cycle(slug: str = "test-cycle") -> tuple[Cycle, dict[str, Account]]:
    cycle = published_cycle(slug)
    accounts = people()
    records.grant_editor(cycle, accounts["admin"], accounts["editor"].email)
    records.open_delivery(cycle, accounts["editor"])
    return cycle, accounts


def funded_codes(cycle: Cycle) -> list[str]:
    return sorted(records.require_state(cycle)["projects"])
