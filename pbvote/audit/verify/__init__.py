"""The standalone verifier: ``python -m pbvote.audit.verify BUNDLE_DIR_OR_ZIP [--chain CHAIN]``.

It imports only the standard library, :mod:`pbvote.tally` and :mod:`pbvote.audit.chain`
(pure): no Flask, no database. It re-derives what the bundle claims and stops at the first
check that fails, naming it. Exit status: 0 when every check holds, 1 when one fails,
2 when the input cannot be read at all.

Checks, in order (a later check relies on the earlier ones):

bundle only
  files            every file named in SHA256SUMS is there, and no other file is
  sha256           every file's SHA-256 equals its line in SHA256SUMS
  manifest-hash    the manifest's hash equals the SHA-256 of its canonical JSON, and the
                   hash results.json was counted under
  ballot-files     ballots.json, ballots.csv and each ballots-<district>.pb hold the same
                   ballots (as a multiset), and every ballot names only the district's projects;
                   each .pb file's 'votes' column matches its ballots
  counts           per district: ballots = receipts = participations (less the desk
                   check-ins that cast nothing, when paper_audit.json lists them), and both
                   equal what results.json counted (participations also per channel)
  scores           per district: every project's supporters and score (votes, points or
                   ranking points), re-counted from the published ballots, equal results.json
                   (so changing a ballot after the count shows even where the winners stay)
  tally            per district: a fresh count of the published ballots with the manifest's
                   rule, parameters and tie-break seed equals results.json (selection, cost,
                   parameters, the round-by-round trace and every tie), and each .pb file's
                   'selected' column marks that selection
  explanations     per district: every figure of results.json's 'analysis' (effective
                   support, money earlier projects took, what each project needed, score
                   gaps, voters with nothing funded, average shares) equals the analysis
                   recomputed from the re-count (pbvote.tally.analysis)
  turnout-tables   results.json's public turnout tables (district × channel, day, age band)
                   show no figure of 1 to 9 participants, no hidden figure can be worked out
                   from the totals, and what they show agrees with participation.json
with --chain
  chain-integrity  positions, links and hashes of every entry; the head equals
                   chain_head.txt; the entry results.json was counted at is in the chain with
                   that hash, and no ballot was logged after it
  chain-receipts   the receipts re-derived from the chain's ballot entries equal receipts.txt
  chain-ballots    the chain's ballots equal the published ballots as a multiset, per district
  chain-channels   the chain's ballots per district and channel equal what results.json
                   counted, and per channel group (online; in person: desk, paper, kiosk)
                   equal the participations

Modules: :mod:`.layout` (file names) and :mod:`.shared` (definitions the exporter uses too),
:mod:`.reading`, :mod:`.counting` (the ballot files as counts of distinct ballots),
:mod:`.chain_scan` (the chain export's one pass, in worker processes for a long export),
:mod:`.checks` (one module per check), :mod:`.report`, :mod:`.run` (their order, the entry
points) and ``__main__``. The package re-exports the names the exporter,
services and tests use.
"""
from pbvote.audit.verify.layout import (
    BALLOTS_CSV_FILE,
    BALLOTS_JSON_FILE,
    CHAIN_HEAD_FILE,
    CHANNEL_GROUPS,
    CSV_HEADER,
    MANIFEST_FILE,
    PAPER_AUDIT_FILE,
    PARTICIPATION_FILE,
    RECEIPTS_FILE,
    RESULTS_FILE,
    SUMS_FILE,
    TRANSITIONS_FILE,
    pabulib_file_name,
)
from pbvote.audit.verify.reading import (
    BundleError,
    parse_receipts,
    read_bundle_files,
    read_chain_export,
    render_sums,
)
from pbvote.audit.verify.report import CheckResult, Report
from pbvote.audit.verify.run import verify_files, verify_path
from pbvote.audit.verify.shared import (
    ballot_text,
    district_instance,
    district_profile,
    exact_json,
    manifest_digest,
    tally_params,
)

__all__ = [
    "BALLOTS_CSV_FILE", "BALLOTS_JSON_FILE", "CHAIN_HEAD_FILE", "CHANNEL_GROUPS", "CSV_HEADER",
    "MANIFEST_FILE", "PAPER_AUDIT_FILE", "PARTICIPATION_FILE", "RECEIPTS_FILE", "RESULTS_FILE",
    "SUMS_FILE", "TRANSITIONS_FILE", "BundleError", "CheckResult", "Report", "ballot_text",
    "district_instance", "district_profile", "exact_json", "manifest_digest", "pabulib_file_name",
    "parse_receipts", "read_bundle_files", "read_chain_export", "render_sums", "tally_params",
    "verify_files", "verify_path",
]
