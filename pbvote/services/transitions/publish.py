"""The bundle a publication would publish, built and run through the standalone verifier."""
from __future__ import annotations

from pbvote.audit import verify
from pbvote.models import Cycle, TallyRun


def first_failure(report: verify.Report) -> str:
    """"" when every check held, else "<check>: <detail>" of the first that failed."""
    failed = next((check for check in report.checks if not check.ok), None)
    return "" if failed is None else f"{failed.name}: {failed.detail}"


def bundle_failure_for_run(cycle: Cycle, run: TallyRun) -> str:
    """Build the bundle from the database as it is, with this run's results document as the
    results, and verify those bytes."""
    from pbvote.services import audit

    files = audit.build_bundle_files(cycle, run.results_json)
    return first_failure(verify.verify_files(files))


def latest_unpublished_run(cycle: Cycle) -> TallyRun | None:
    """The newest run still on its way to publication (a draft or awaiting confirmation):
    the one whose stored verdict the overview shows."""
    from sqlalchemy import select

    from pbvote.infra.extensions import db

    return db.session.scalar(select(TallyRun).where(
        TallyRun.cycle_id == cycle.id, TallyRun.status.in_(("draft", "requested")))
        .order_by(TallyRun.id.desc()).limit(1))
