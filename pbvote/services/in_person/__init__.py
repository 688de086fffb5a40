"""In-person voting: the check-in desk, kiosks, paper ballots and their double entry,
reconciliation per site and district, and the sampled paper audit.

Decisions (README "Voting in person" says the same for staff):

* A check-in writes the Participation (channel "desk", the site, the day only), whatever the
  voter then uses. The unique participation row is what makes desk and online exclude each
  other in both orders. Check-ins are deliberately not written to the cycle's chain: an entry
  with a time right before a kiosk ballot's entry would tie the person to the ballot.
* Kiosk ballots count under desk check-ins: desk check-ins = paper counted + spoiled or
  invalid + awaiting entry + kiosk ballots + cancelled kiosk passes + unreturned paper.
* Paper ballots are committed with a receipt like every ballot (the board lists it), but no
  one is given it: the voter left long before the entry. Paper voters have their serial.
* A resident added to the roll at a desk is logged in the system chain, not the cycle's, so
  that its time sits next to no ballot entry.
"""
from __future__ import annotations

# The web pages read these two models through this package.
from pbvote.models.in_person import PAPER_OUTCOMES, KioskPass
from pbvote.services.in_person.common import InPersonRefused, clean_site
from pbvote.services.in_person.desk import (
    CheckIn,
    RollMatch,
    add_self_declared,
    check_in,
    lookup_roll,
)
from pbvote.services.in_person.kiosk import (
    cancel_pass,
    cast_kiosk_ballot,
    get_waiting_pass,
    waiting_passes,
)
from pbvote.services.in_person.paper import (
    EntryResult,
    PaperReading,
    adjudicate,
    adjudication_queue,
    batch_serials,
    batches,
    enter_paper_ballot,
    find_serial,
    print_serials,
    reading,
    serial_rows,
    serials_awaiting_second_entry,
)
from pbvote.services.in_person.reconciliation import (
    Reconciliation,
    SiteRow,
    bundle_figures,
    reconciliation,
)
from pbvote.services.in_person.sampled_audit import (
    audit_population,
    audit_summary,
    bundle_document,
    get_audit,
    record_finding,
    start_audit,
)

# in_person.reconciliation is the function: its import above rebinds the submodule's name.
__all__ = [
    "CheckIn",
    "EntryResult",
    "InPersonRefused",
    "KioskPass",
    "PAPER_OUTCOMES",
    "PaperReading",
    "Reconciliation",
    "RollMatch",
    "SiteRow",
    "add_self_declared",
    "adjudicate",
    "adjudication_queue",
    "audit_population",
    "audit_summary",
    "batch_serials",
    "batches",
    "bundle_document",
    "bundle_figures",
    "cancel_pass",
    "cast_kiosk_ballot",
    "check_in",
    "clean_site",
    "enter_paper_ballot",
    "find_serial",
    "get_audit",
    "get_waiting_pass",
    "lookup_roll",
    "print_serials",
    "reading",
    "reconciliation",
    "record_finding",
    "serial_rows",
    "serials_awaiting_second_entry",
    "start_audit",
    "waiting_passes",
]
