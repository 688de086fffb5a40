"""The bundle format: the file names the exporter (:mod:`pbvote.audit.bundle`) writes and
the checks read, defined once so the two cannot drift apart."""
from __future__ import annotations

MANIFEST_FILE = "manifest.json"
BALLOTS_JSON_FILE = "ballots.json"
BALLOTS_CSV_FILE = "ballots.csv"
RECEIPTS_FILE = "receipts.txt"
RESULTS_FILE = "results.json"
PARTICIPATION_FILE = "participation.json"
CHAIN_HEAD_FILE = "chain_head.txt"
SUMS_FILE = "SHA256SUMS"
#: optional: in-person counts per district, among them "not_cast", the desk check-ins that
#: ended without a counted ballot (kiosk pass not used, paper spoiled, invalid or unreturned)
PAPER_AUDIT_FILE = "paper_audit.json"
#: optional: every extension of voting (before/after, reason) and every staff note that
#: explains a reconciliation difference
TRANSITIONS_FILE = "transitions.json"
REQUIRED_FILES = (MANIFEST_FILE, BALLOTS_JSON_FILE, BALLOTS_CSV_FILE, RECEIPTS_FILE,
                  RESULTS_FILE, PARTICIPATION_FILE, CHAIN_HEAD_FILE)
CSV_HEADER = ["district", "ballot"]
#: Channels that record that a person voted and what was voted are matched by group: online
#: voting writes both at once; in person, a desk check-in (participation "desk") leads to a
#: paper or kiosk ballot, and a kiosk vote without a check-in records its own participation.
CHANNEL_GROUPS = {"online": "online", "desk": "in person", "paper": "in person",
                  "kiosk": "in person"}


def pabulib_file_name(district_slug: str) -> str:
    return f"ballots-{district_slug}.pb"
