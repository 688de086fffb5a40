"""The public bulletin board, the receipt check, the bundle download and the open-data API."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from pbvote.audit import verify
from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from pbvote.models import Account, Ballot, Chain, Cycle
from pbvote.services import publication
from tests.conftest import csrf_token
from tests.results_helpers import cycle_with_ballots
from tests.staff_helpers import make_account


@pytest.fixture
def voting_open(app):
    with app.app_context(), write_intent():
        made = cycle_with_ballots("open")
        db.session.commit()
        receipts = {}
        for ballot in db.session.scalars(select(Ballot)):
            receipts.setdefault(ballot.district_id, []).append(ballot.receipt)
        cycle = db.session.get(Cycle, made.cycle_id)
        by_slug = {d.slug: sorted(receipts.get(d.id, [])) for d in cycle.districts}
        chain = db.session.get(Chain, cycle.chain_id)
        return {"slug": made.slug, "receipts": by_slug, "head": chain.head_hash,
                "length": chain.length}


@pytest.fixture
def published(app):
    with app.app_context():
        staff, admin, admin2 = (make_account(role)[0] for role in ("staff", "admin", "admin"))
        with write_intent():
            made = cycle_with_ballots("closed")
            cycle = db.session.get(Cycle, made.cycle_id)
            run = publication.run_tally(cycle, db.session.get(Account, staff))
            publication.request_publication(cycle, run, db.session.get(Account, admin))
            snapshot = publication.confirm_publication(cycle, run, db.session.get(Account, admin2))
            facts = {"slug": made.slug, "hash": snapshot.results_hash,
                     "json": snapshot.results_json}
            db.session.commit()
    return facts


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_board_lists_receipts_counts_and_head_but_no_ballot_contents(client, voting_open):
    page = client.get(f"/cycles/{voting_open['slug']}/board")
    assert page.status_code == 200
    text = _text(page.text)
    assert voting_open["head"] in page.text
    assert "Approval 6" in text and "Ranked 5" in text and "All districts 19" in text
    district = client.get(f"/cycles/{voting_open['slug']}/board/districts/approval")
    assert district.status_code == 200
    shown = re.findall(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", district.text)
    assert shown == voting_open["receipts"]["approval"]  # every receipt, sorted
    for body in (page.text, district.text):
        assert "AP-A" not in body and "Project A" not in body  # nothing about any ballot
    assert client.get(f"/cycles/{voting_open['slug']}/board/districts/nowhere").status_code == 404
    listing = client.get(f"/cycles/{voting_open['slug']}/board/receipts.txt")
    lines = [line for line in listing.text.splitlines() if not line.startswith("#")]
    assert len(lines) == 19
    assert [line.split()[1] for line in lines if line.startswith("approval ")] == \
        voting_open["receipts"]["approval"]


def test_receipt_check_answers_yes_no_and_malformed(client, voting_open):
    path = f"/cycles/{voting_open['slug']}/board/check"
    empty = client.get(path)
    assert empty.status_code == 200 and "Is my ballot on the board?" in empty.text
    assert 'method="post"' in empty.text

    def check(typed: str):
        return client.post(path, data={"receipt": typed, "csrf_token": csrf_token(empty.text)})

    receipt = voting_open["receipts"]["ranked"][0]
    typed = receipt.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    found = check(typed)
    assert found.status_code == 200
    assert f"Yes: receipt {receipt} is on the board, in Ranked." in _text(found.text)
    missing = next(code for code in ("00000-00000", "00000-00001")
                   if code not in sum(voting_open["receipts"].values(), []))
    absent = check(missing)
    assert absent.status_code == 200
    assert f"Receipt {missing} is not on the board." in _text(absent.text)
    for bad in ("hello", ""):
        refused = check(bad)
        assert refused.status_code == 422 and "That is not a receipt code." in refused.text
    assert client.post(path, data={"receipt": receipt}).status_code == 400  # no CSRF token


def test_the_receipt_never_travels_in_an_address(client, voting_open):
    """Query strings end up in access logs, browser history and Referer headers."""
    receipt = voting_open["receipts"]["ranked"][0]
    board = client.get(f"/cycles/{voting_open['slug']}/board")
    form = re.search(r'<form class="receipt-check" method="(\w+)"', board.text)
    assert form and form.group(1) == "post"
    old_link = client.get(f"/cycles/{voting_open['slug']}/board/check",
                          query_string={"receipt": receipt})
    assert old_link.status_code == 303
    assert old_link.headers["Location"] == f"/cycles/{voting_open['slug']}/board/check"
    assert receipt not in old_link.text


def test_bundle_only_after_publication(client, voting_open):
    response = client.get(f"/cycles/{voting_open['slug']}/results/bundle.zip")
    assert response.status_code == 404


def test_bundle_download_verifies(client, published):
    response = client.get(f"/cycles/{published['slug']}/results/bundle.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = {name.split("/", 1)[1] for name in archive.namelist()}
    assert {"manifest.json", "ballots.json", "ballots.csv", "receipts.txt", "results.json",
            "participation.json", "chain_head.txt", "SHA256SUMS", "ballots-approval.pb",
            "ballots-knapsack.pb", "ballots-ranked.pb", "ballots-cumulative.pb"} == names
    files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    assert files["results.json"].decode() == published["json"]
    report = verify.verify_files(files)
    assert report.ok, report.text()
    board = client.get(f"/cycles/{published['slug']}/board")
    assert f"/cycles/{published['slug']}/results/bundle.zip" in board.text


def test_api_cycles_cycle_and_projects(client, voting_open):
    listing = client.get("/api/v1/cycles")
    assert listing.status_code == 200
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    [summary] = listing.json["cycles"]
    assert summary["slug"] == voting_open["slug"]
    assert summary["voting"] == "open" and summary["published"] is False
    cycle = client.get(f"/api/v1/cycles/{voting_open['slug']}").json
    assert [d["slug"] for d in cycle["districts"]] == ["approval", "knapsack", "ranked",
                                                       "cumulative"]
    assert cycle["links"]["results"] is None and cycle["links"]["bundle"] is None
    assert cycle["tie_break_seed"] == "seed"
    projects = client.get(f"/api/v1/cycles/{voting_open['slug']}/projects").json
    approval = projects["districts"][0]
    assert [(p["id"], p["cost"]) for p in approval["projects"]] == [
        ("AP-A", 60), ("AP-B", 40), ("AP-C", 30), ("AP-D", 20)]
    assert "votes" not in json.dumps(projects) and "supporters" not in json.dumps(projects)
    missing = client.get("/api/v1/cycles/nowhere")
    assert missing.status_code == 404 and missing.is_json and "error" in missing.json


def test_api_board_and_receipt(client, voting_open):
    board = client.get(f"/api/v1/cycles/{voting_open['slug']}/board").json
    assert board["chain"] == {"length": voting_open["length"], "head": voting_open["head"]}
    assert board["total"] == 19
    approval = next(d for d in board["districts"] if d["slug"] == "approval")
    assert approval["receipts"] == voting_open["receipts"]["approval"]
    assert approval["count"] == 6
    assert set(approval) == {"slug", "name", "count", "receipts"}
    receipt = voting_open["receipts"]["knapsack"][0]
    answer = client.get(f"/api/v1/cycles/{voting_open['slug']}/board/{receipt.lower()}").json
    assert answer == {"cycle": voting_open["slug"], "receipt": receipt, "on_board": True,
                      "district": "knapsack"}
    bad = client.get(f"/api/v1/cycles/{voting_open['slug']}/board/nonsense")
    assert bad.status_code == 422 and bad.is_json


def test_api_results_only_after_publication(client, voting_open):
    response = client.get(f"/api/v1/cycles/{voting_open['slug']}/results")
    assert response.status_code == 404 and response.is_json
    assert "AP-A" not in response.text


def test_api_results_serves_the_snapshot(client, published):
    response = client.get(f"/api/v1/cycles/{published['slug']}/results")
    assert response.status_code == 200
    assert response.text == published["json"]
    assert response.headers["X-Results-SHA256"] == published["hash"]
    # the results page's document is the same bytes and hash
    page_document = client.get(f"/cycles/{published['slug']}/results.json")
    assert page_document.data == response.data
    assert page_document.headers["X-Results-SHA256"] == published["hash"]
    cycle = client.get(f"/api/v1/cycles/{published['slug']}").json
    assert cycle["results_hash"] == published["hash"]
    assert cycle["links"]["bundle"].endswith(f"/cycles/{published['slug']}/results/bundle.zip")


def test_api_is_read_only(client, voting_open):
    for path in ("/api/v1/cycles", f"/api/v1/cycles/{voting_open['slug']}/board"):
        assert client.post(path).status_code in (400, 405)
        assert client.delete(path).status_code == 405


def test_api_cycle_carries_the_frozen_manifest(app, client, voting_open):
    # Defect 6: while ballots are cast the manifest is there, with no staff visit needed.
    assert client.get(f"/cycles/{voting_open['slug']}/manifest.json").status_code == 200
    cycle = client.get(f"/api/v1/cycles/{voting_open['slug']}").json
    assert cycle["manifest"] is not None
    assert cycle["manifest_hash"] == verify.manifest_digest(cycle["manifest"])
    assert cycle["manifest"]["cycle"]["tie_break_seed"] == "seed"
