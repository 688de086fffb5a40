"""Open data of delivery: delivery.json, delivery.csv and the delivery bundle.

Bundle files (pbvote.audit.verify.delivery checks them):

| file | contents |
|---|---|
| delivery.json | the fold of the delivery chain: every funded project's record, indicators |
|               | and survey figures, each value with the chain position it came from |
| delivery.csv | one row per funded project |
| delivery-chain.jsonl | every entry of the delivery chain, exactly as hashed |
| delivery_head.txt | `<head hash> <number of entries>` of the delivery chain at export |
| results.json | the published results, byte for byte (which projects were funded) |
| survey-responses.csv | the stored answers of each closed survey round, re-counted |
| photos/<name> | every update photo (its SHA-256 is in its chain entry) |
| SHA256SUMS | SHA-256 of every other file |
"""
from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from pbvote.audit import delivery as fold_rules
from pbvote.audit.verify.reading import render_sums
from pbvote.i18n_hook import _
from pbvote.infra.extensions import db
from pbvote.models import LogEntry
from pbvote.services import images
from pbvote.services.delivery import survey
from pbvote.services.delivery.records import current_state, delivery_chain, require_state
from pbvote.services.errors import NotFound
from pbvote.services.publication import published_results

DELIVERY_JSON = "delivery.json"
DELIVERY_CSV = "delivery.csv"
CHAIN_FILE = "delivery-chain.jsonl"
HEAD_FILE = "delivery_head.txt"
SURVEY_FILE = "survey-responses.csv"


def document(cycle) -> dict:
    state = require_state(cycle)
    chain = delivery_chain(cycle)
    return fold_rules.public_document(state, (chain.length, chain.head_hash))


def document_text(cycle) -> str:
    return json.dumps(document(cycle), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def csv_text(cycle) -> str:
    return fold_rules.csv_text(document(cycle))


def chain_lines(cycle) -> str:
    chain = delivery_chain(cycle)
    rows = db.session.execute(select(LogEntry.position, LogEntry.kind, LogEntry.entry_json,
                                     LogEntry.previous_hash, LogEntry.entry_hash)
                              .where(LogEntry.chain_id == chain.id).order_by(LogEntry.position))
    return "".join(json.dumps({"position": p, "kind": k, "entry_json": text,
                               "previous_hash": prev, "entry_hash": digest},
                              ensure_ascii=False, sort_keys=True) + "\n"
                   for p, k, text, prev, digest in rows)


def survey_text(cycle, state: dict) -> str:
    closed = {key: s["district"] for key, s in state["surveys"].items() if not s["open"]}
    counts = fold_rules.survey_counts(survey.stored_rows(cycle))
    return fold_rules.survey_csv_text(counts, closed)


def bundle_files(cycle, checked: bool = True) -> dict[str, bytes]:
    """The delivery bundle. `checked` (the public download): refused with 409 when the stored
    chain does not verify. Unchecked (the auditor's "verify now"): built from the rows as
    they are, so the verifier names the check that fails; a chain that no longer folds then
    gives an empty delivery.json and delivery.csv."""
    state = require_state(cycle) if checked else current_state(cycle, checked=False)
    if state is None:
        raise NotFound(_("Delivery of this cycle's funded projects is not being tracked yet."))
    chain = delivery_chain(cycle)
    doc = fold_rules.public_document(state, (chain.length, chain.head_hash)) if state else {}
    files = {
        DELIVERY_JSON: (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2)
                        + "\n").encode("utf-8"),
        DELIVERY_CSV: (fold_rules.csv_text(doc) if state else "").encode("utf-8"),
        CHAIN_FILE: chain_lines(cycle).encode("utf-8"),
        HEAD_FILE: f"{chain.head_hash} {chain.length}\n".encode("ascii"),
        "results.json": published_results(cycle).results_json.encode("utf-8"),
        SURVEY_FILE: survey_text(cycle, state or {"surveys": {}}).encode("utf-8"),
    }
    folder = images.image_folder()
    for project in state.get("projects", {}).values():
        for update in project["updates"]:
            if update["photo"]:
                path = folder / update["photo"]["name"]
                if path.exists():
                    files[f"photos/{update['photo']['name']}"] = path.read_bytes()
    files["SHA256SUMS"] = render_sums(files).encode("ascii")
    return files


def bundle_zip(cycle) -> bytes:
    return zip_of(cycle, bundle_files(cycle))


def zip_of(cycle, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"{cycle.slug}-delivery/{name}", (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()
