"""The standalone verifier on a delivery bundle: a clean export passes, and altering,
inserting or deleting any delivery, indicator or survey row (or a file of the bundle) is
caught, each by the check named here."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from PIL import Image
from sqlalchemy import delete, select, update

from pbvote.audit.chain import canonical_json, entry_hash
from pbvote.audit.verify.delivery import verify_delivery
from pbvote.audit.verify.reading import render_sums
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, LogEntry, SurveyResponse
from pbvote.services.delivery import export, outcomes, records, survey
from tests.delivery_helpers import funded_codes, tracked_cycle
from tests.staff_helpers import make_account


def _jpeg(colour) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "JPEG")
    out.seek(0)
    return out


@pytest.fixture
def tracked(app_context):
    with write_intent():
        cycle, accounts = tracked_cycle()
        editor = accounts["editor"]
        first, second = funded_codes(cycle)[:2]
        cost = records.require_state(cycle)["projects"][first]["cost"]
        records.set_status(cycle, editor, first, "in_progress")
        records.set_money(cycle, editor, first, str(cost), str(cost + 5), "Extra drainage")
        records.set_milestone(cycle, editor, first, None, "Design", "2027-01-10", "2027-01-12")
        records.post_update(cycle, editor, first, "Crews on site", photo=_jpeg((10, 90, 200)))
        records.set_status(cycle, editor, second, "cancelled", "Paid for by the state")
        entry = outcomes.define_indicator(cycle, editor, first, {
            "name": "Incidents", "unit": "per quarter", "area": "Main St", "source": "police",
            "baseline_period": "2026-Q1", "baseline_value": "20", "followup_periods": "2026-Q4"})
        key = json.loads(entry.entry_json)["data"]["indicator"]
        outcomes.add_value(cycle, editor, key, "2026-Q4", "14", "police")
        round_ = survey.open_round(cycle, editor, cycle.districts[0].slug, "Baseline")
        for number in range(11):
            resident = db.session.get(Account, make_account("resident")[0])
            survey.answer(cycle, round_.id, resident, str(number % 5 + 1))
        survey.close_round(cycle, editor, round_.id)
        db.session.commit()
    return cycle


def _failed(files) -> str | None:
    report = verify_delivery(files)
    failure = report.first_failure
    return None if failure is None else failure.name


def _resummed(files: dict[str, bytes]) -> dict[str, bytes]:
    files = {k: v for k, v in files.items() if k != "SHA256SUMS"}
    files["SHA256SUMS"] = render_sums(files).encode("ascii")
    return files


def _delivery_entries(cycle):
    chain = records.delivery_chain(cycle)
    return list(db.session.scalars(select(LogEntry).where(LogEntry.chain_id == chain.id)
                                   .order_by(LogEntry.position)))


def test_a_clean_bundle_passes_every_check(tracked):
    report = verify_delivery(export.bundle_files(tracked))
    assert report.ok, report.text()
    assert [c.name for c in report.checks] == [
        "delivery-files", "delivery-chain", "delivery-records", "delivery-overrun",
        "delivery-values", "delivery-photos", "survey-counts"]


def test_the_command_line_verifier_reads_the_zip(tracked, tmp_path):
    path = tmp_path / "delivery.zip"
    path.write_bytes(export.bundle_zip(tracked))
    done = subprocess.run([sys.executable, "-m", "pbvote.audit.verify", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert "survey-counts" in done.stdout


def _alter_entry(cycle, kind: str, change) -> None:
    row = next(e for e in _delivery_entries(cycle) if e.kind == kind)
    entry = json.loads(row.entry_json)
    change(entry["data"])
    db.session.execute(update(LogEntry).where(LogEntry.id == row.id).values(
        entry_json=canonical_json(entry)))


@pytest.mark.parametrize("kind,change", [
    ("delivery.money", lambda d: d.update(spent=1)),
    ("delivery.status", lambda d: d.update(status="cancelled", reason="No money left")),
    ("delivery.update", lambda d: d.update(text="All done")),
    ("indicator.value", lambda d: d.update(value="2")),
    ("indicator.defined", lambda d: d["baseline"].update(value="99")),
    ("survey.closed", lambda d: d.update(answers=list(reversed(d["answers"])))),
])
def test_altering_a_delivery_indicator_or_survey_entry_is_caught_by_delivery_chain(
        tracked, kind, change):
    _alter_entry(tracked, kind, change)
    assert _failed(export.bundle_files(tracked, checked=False)) == "delivery-chain"


def test_deleting_an_entry_is_caught_by_delivery_chain(tracked):
    middle = _delivery_entries(tracked)[3]
    db.session.execute(delete(LogEntry).where(LogEntry.id == middle.id))
    assert _failed(export.bundle_files(tracked, checked=False)) == "delivery-chain"


def test_inserting_an_entry_inside_the_chain_is_caught_by_delivery_chain(tracked):
    entries = _delivery_entries(tracked)
    code = funded_codes(tracked)[0]
    db.session.execute(update(LogEntry).where(LogEntry.id == entries[-1].id).values(
        position=len(entries) + 1))
    fake = {"position": len(entries), "kind": "delivery.progress",
            "data": {"project": code, "percent": 90, "day": "2027-01-01",
                     "role": "administrator"}}
    text_ = canonical_json(fake)
    db.session.add(LogEntry(chain_id=entries[0].chain_id, position=len(entries),
                            kind="delivery.progress", entry_json=text_,
                            previous_hash=entries[-2].entry_hash,
                            entry_hash=entry_hash(entries[-2].entry_hash, text_)))
    assert _failed(export.bundle_files(tracked, checked=False)) == "delivery-chain"


def test_a_bundle_whose_chain_spends_over_cost_without_reason_fails_delivery_overrun(tracked):
    """A forged bundle: a well-hashed chain whose extra entry spends over the cost with no
    reason (pbvote itself refuses to append it), its head and checksums made to match."""
    files = export.bundle_files(tracked)
    lines = files["delivery-chain.jsonl"].decode().splitlines()
    last = json.loads(lines[-1])
    entry = {"position": last["position"] + 1, "kind": "delivery.money",
             "data": {"project": funded_codes(tracked)[0], "committed": 10**7, "spent": 10**7,
                      "reason": "", "day": "2027-02-01", "role": "administrator"}}
    text_ = canonical_json(entry)
    digest = entry_hash(last["entry_hash"], text_)
    lines.append(json.dumps({"position": entry["position"], "kind": entry["kind"],
                             "entry_json": text_, "previous_hash": last["entry_hash"],
                             "entry_hash": digest}))
    files["delivery-chain.jsonl"] = ("\n".join(lines) + "\n").encode()
    files["delivery_head.txt"] = f"{digest} {entry['position']}\n".encode()
    assert _failed(_resummed(files)) == "delivery-overrun"


@pytest.mark.parametrize("change", ["delete", "alter", "insert"])
def test_survey_rows_changed_after_closing_are_caught_by_survey_counts(tracked, change):
    row = db.session.scalars(select(SurveyResponse)).first()
    if change == "delete":
        db.session.execute(delete(SurveyResponse).where(SurveyResponse.id == row.id))
    elif change == "alter":
        db.session.execute(update(SurveyResponse).where(SurveyResponse.id == row.id).values(
            answer=row.answer % 5 + 1))
    else:
        db.session.add(SurveyResponse(id="f" * 32, round_id=row.round_id, answer=5,
                                      comment="", comment_status="none",
                                      answered_on=row.answered_on))
    db.session.flush()
    assert _failed(export.bundle_files(tracked)) == "survey-counts"


def _edit_json(files, change):
    doc = json.loads(files["delivery.json"])
    change(doc)
    files["delivery.json"] = json.dumps(doc).encode()
    return _resummed(files)


def test_a_file_changed_without_its_checksum_is_caught_by_delivery_files(tracked):
    files = export.bundle_files(tracked)
    files["delivery.csv"] += b"x\n"
    assert _failed(files) == "delivery-files"


def test_a_value_shown_without_its_entry_is_caught_by_delivery_values(tracked):
    files = export.bundle_files(tracked)
    assert _failed(_edit_json(dict(files), lambda d: d["projects"][0].update(progress=99))) \
        == "delivery-values"
    assert _failed(_edit_json(dict(files), lambda d: d["indicators"][0]["values"]["2026-Q4"]
                              .update(value="1"))) == "delivery-values"
    assert _failed(_edit_json(dict(files), lambda d: d["surveys"][0].update(responses=99))) \
        == "delivery-values"


def test_a_funded_project_without_a_record_is_caught_by_delivery_records(tracked):
    files = export.bundle_files(tracked)
    assert _failed(_edit_json(files, lambda d: d["projects"].pop())) == "delivery-records"


def test_a_swapped_photo_is_caught_by_delivery_photos(tracked):
    files = export.bundle_files(tracked)
    name = next(n for n in files if n.startswith("photos/"))
    files[name] = _jpeg((250, 0, 0)).getvalue()
    assert _failed(_resummed(files)) == "delivery-photos"


def test_the_verifier_needs_nothing_but_the_standard_library():
    code = ("import sys; import pbvote.audit.verify.delivery; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'werkzeug', 'jinja2')]; print(bad); sys.exit(bool(bad))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0




# ----- a record altered in the database: the app refuses to show it, "verify now" names it ------
def _rehash_from(cycle, position: int) -> None:
    """Re-hash every entry from `position` on and move the chain's head, as someone with
    database access who knows the chain format would: the links and hashes hold again."""
    from pbvote.models import Chain

    entries = _delivery_entries(cycle)
    previous = entries[position - 2].entry_hash if position > 1 else None
    for row in entries[position - 1:]:
        digest = entry_hash(previous, row.entry_json)
        db.session.execute(update(LogEntry).where(LogEntry.id == row.id).values(
            previous_hash=previous, entry_hash=digest))
        previous = digest
    chain = records.delivery_chain(cycle)
    db.session.execute(update(Chain).where(Chain.id == chain.id).values(head_hash=previous))
    db.session.expire_all()


def _break_rules_and_rehash(cycle) -> None:
    """A status no project may have, written into its entry, then the chain re-hashed."""
    row = next(e for e in _delivery_entries(cycle) if e.kind == "delivery.status")
    entry = json.loads(row.entry_json)
    entry["data"]["status"] = "finished"
    db.session.execute(update(LogEntry).where(LogEntry.id == row.id).values(
        entry_json=canonical_json(entry)))
    _rehash_from(cycle, row.position)


@pytest.mark.parametrize("tamper,check", [
    (lambda c: _alter_entry(c, "delivery.money", lambda d: d.update(spent=1)), "delivery-chain"),
    (lambda c: db.session.execute(delete(LogEntry).where(
        LogEntry.id == _delivery_entries(c)[3].id)), "delivery-chain"),
    (lambda c: db.session.execute(update(LogEntry).where(
        LogEntry.id == _delivery_entries(c)[2].id).values(kind="delivery.update")),
     "delivery-chain"),
    (_break_rules_and_rehash, "delivery-values"),
])
def test_a_record_altered_in_the_database_is_refused_with_409_and_verify_names_the_check(
        tracked, tamper, check):
    from pbvote.services import audit

    assert records.chain_problem(tracked) is None
    assert audit.verify_delivery_now(tracked).ok
    tamper(tracked)
    db.session.flush()
    db.session.expire_all()
    with pytest.raises(records.DeliveryTampered) as refused:
        records.current_state(tracked)
    assert refused.value.status == 409
    assert f"({check}: " in refused.value.message
    with pytest.raises(records.DeliveryTampered):
        export.bundle_files(tracked)  # the public download refuses too
    with pytest.raises(records.DeliveryTampered):  # nothing is appended to a broken chain
        records.set_progress(tracked, db.session.get(Account, make_account("admin")[0]),
                             funded_codes_unchecked(tracked)[0], "50")
    report = audit.verify_delivery_now(tracked)
    assert not report.ok and report.first_failure.name == check, report.text()


def funded_codes_unchecked(cycle) -> list[str]:
    return sorted(records.current_state(cycle, checked=False)["projects"])
