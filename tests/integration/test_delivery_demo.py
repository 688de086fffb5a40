"""The demo's earlier cycle "Safer Streets 2026": published, every funded project tracked in
a variety of states, with photos, indicators and survey results; the bundle verifies and a
second `pbvote demo` changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from pbvote.audit.verify.delivery import verify_delivery
from pbvote.infra.extensions import db
from pbvote.models import LogEntry
from pbvote.services.cycles import get_cycle
from pbvote.services.delivery import export, records


def test_the_demo_seeds_a_delivered_cycle_once(app, runner):
    seeded = runner.invoke(args=["demo", "--voters", "12"])
    assert seeded.exit_code == 0, seeded.output
    assert "Safer Streets 2026" in seeded.output
    with app.app_context():
        cycle = get_cycle("safer-streets-2026")
        state = records.require_state(cycle)
        statuses = {p["status"] for p in state["projects"].values()}
        assert {"delivered", "in_progress", "delayed", "cancelled"} <= statuses
        assert any(p["spent"] > p["cost"] and p["overrun_reason"]
                   for p in state["projects"].values())
        assert any(u["photo"] for p in state["projects"].values() for u in p["updates"])
        assert all(i["values"] for i in state["indicators"].values()) and state["indicators"]
        shown = [s for s in state["surveys"].values() if s["answers"] is not None]
        hidden = [s for s in state["surveys"].values() if s["answers"] is None]
        assert shown and hidden  # one round under 10 answers keeps its figures to itself
        days = [data["day"] for _, _, data in records.chain_entries(cycle)]
        assert days == sorted(days)
        report = verify_delivery(export.bundle_files(cycle))
        assert report.ok, report.text()
        entries = db.session.scalar(select(func.count()).select_from(LogEntry))
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "already exists" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LogEntry)) == entries
