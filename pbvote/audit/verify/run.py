"""Running the checks in order, stopping at the first that fails, and the entry points."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pbvote.audit.verify.checks import State
from pbvote.audit.verify.checks.ballot_files import check_ballot_files
from pbvote.audit.verify.checks.chain import (
    check_chain_ballots,
    check_chain_integrity,
    check_chain_receipts,
    start_chain_check,
)
from pbvote.audit.verify.checks.channels import check_chain_channels
from pbvote.audit.verify.checks.counts import check_counts
from pbvote.audit.verify.checks.explanations import check_explanations
from pbvote.audit.verify.checks.files import check_files, check_sums
from pbvote.audit.verify.checks.manifest import check_manifest
from pbvote.audit.verify.checks.scores import check_scores
from pbvote.audit.verify.checks.tally import check_tally
from pbvote.audit.verify.checks.turnout_tables import check_turnout_tables
from pbvote.audit.verify.reading import (
    BundleError,
    ChainExportError,
    read_bundle_files,
    read_chain_export,
)
from pbvote.audit.verify.report import CheckFailed, CheckResult, Report
from pbvote.tally.exact import gc_paused

# A later check relies on what the earlier ones read, so the order is fixed.
BUNDLE_CHECKS = [("files", check_files), ("sha256", check_sums),
                 ("manifest-hash", check_manifest), ("ballot-files", check_ballot_files),
                 ("counts", check_counts), ("scores", check_scores), ("tally", check_tally),
                 ("explanations", check_explanations),
                 ("turnout-tables", check_turnout_tables)]
CHAIN_CHECKS = [("chain-integrity", check_chain_integrity),
                ("chain-receipts", check_chain_receipts),
                ("chain-ballots", check_chain_ballots),
                ("chain-channels", check_chain_channels)]


def verify_files(files: dict[str, bytes], chain: Iterable[dict] | None = None,
                 receipt_key: str | None = None, parallel: bool = False) -> Report:
    """Verify an in-memory bundle (file name → bytes) and optionally a chain export.

    ``receipt_key`` is the cycle's receipt key ("" for unkeyed receipts): with it the
    receipts are re-derived from the chain, without it only their numbers are compared.
    ``parallel``: a long chain export is checked in worker processes (forked: for the
    command line, not for a process that runs threads of its own)."""
    state = State(files, chain, receipt_key=receipt_key, parallel=parallel)
    report = Report(chain_checked=chain is not None)
    steps = BUNDLE_CHECKS + (CHAIN_CHECKS if chain is not None else [])
    with gc_paused():  # the checks build large acyclic data: nothing for the collector
        state.chain_check = start_chain_check(files, chain, receipt_key, parallel)
        try:
            return run_checks(steps, state, report)
        finally:
            if state.chain_check is not None:  # a bundle check failed before the chain's
                state.chain_check.close()


def run_checks(steps, state, report: Report) -> Report:
    """Run `steps` (name, check) in order on `state` until the first one fails; a failure,
    unreadable input or malformed content in a file whose hash matched is named, never
    raised. Shared by the results bundle and the delivery bundle."""
    for name, step in steps:
        try:
            detail = step(state)
        except ChainExportError:
            raise  # the chain export cannot be read: not a finding, the input is unusable
        except CheckFailed as failure:
            report.checks.append(CheckResult(name, False, failure.detail))
            break
        except BundleError as error:
            report.checks.append(CheckResult(name, False, str(error)))
            break
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError,
                ArithmeticError, IndexError) as error:
            # Malformed content in a file whose hash matched: still a failure, named.
            report.checks.append(CheckResult(
                name, False, f"malformed bundle content ({type(error).__name__}: {error})"))
            break
        report.checks.append(CheckResult(name, True, detail))
    return report


def verify_path(bundle: str | Path, chain: str | Path | None = None,
                receipt_key: str | None = None, parallel: bool = False) -> Report:
    files = read_bundle_files(bundle)
    from pbvote.audit.verify.delivery import is_delivery_bundle, verify_delivery

    if is_delivery_bundle(files):  # a delivery bundle carries its own (delivery) chain
        return verify_delivery(files)
    entries = read_chain_export(chain) if chain is not None else None
    return verify_files(files, entries, receipt_key, parallel)
