"""No page, export or API links a receipt to a ballot's content, and none answers a question
about ballot contents while voting is open (issue #21, item 1).

Three approval ballots are cast (AP-A twice, so the per-project numbers differ). Every GET
route an auditor or an administrator can reach is then asked, with the audit log's filters
(`kind=ballot`, `q=<project>`, `first=P&last=P` for each ballot's chain position): the answer
to `q=<project>` must not depend on which project was asked about (otherwise it counts the
ballots that chose it, or tells whether one ballot chose it), and no hash shown anywhere may
derive to a receipt. After voting closes the same holds for the chain export: it carries the
selections, so it must carry no receipt and no hash a receipt derives from without the
server's receipt key.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from pbvote.audit.chain import receipt_from_entry_hash
from pbvote.infra.db import utcnow, write_intent
from pbvote.infra.extensions import db
from pbvote.models import Cycle
from pbvote.services import voting
from tests.factories import make_cycle, project_code
from tests.staff_helpers import login, make_account
from tests.web.test_access import _url

CODES = [project_code("approval", letter) for letter in "ABCD"]
BALLOTS = [(CODES[0], CODES[1]), (CODES[0], CODES[2]), (CODES[3],)]
HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
#: what varies between two identical requests: CSRF tokens, CSP nonces, the clock
VOLATILE = [re.compile(r'[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_.-]{10,}'),
            re.compile(r'nonce="[^"]*"'), re.compile(r"\d\d:\d\d(:\d\d)?"),
            re.compile(r"chart-\d+")]  # each chart's element ids, numbered per process
#: Prometheus counts every request, this walk's too: its figures change with each answer,
#: so only its names and labels are compared (none may depend on a project)
COUNTING_PAGES = {"metrics.scrape"}
NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")


@pytest.fixture
def cast_three(app):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=3)
        cycle = db.session.get(Cycle, made.cycle_id)
        district = cycle.district_by_slug("approval")
        receipts = []
        for code, selections in zip(made.codes["approval"], BALLOTS):
            voter = voting.verify_by_code(cycle, district, code)
            receipts.append(voting.cast_ballot(voter, list(selections)))
        key = getattr(cycle, "receipt_key", None)
        db.session.commit()
    return made, receipts, key


def _client(app, role):
    with app.app_context():
        account = make_account(role)
    client = app.test_client()
    login(client, account[1], account[2], account[3])
    return client


def _normalised(body: str, asked: str, base: str) -> str:
    """The answer without the echo of the question (the search box, the pager's links)."""
    if f'value="{asked}"' not in base:  # a form field of the page's own, not the search box
        body = body.replace(f'value="{asked}"', 'value="@"')
    body = body.replace(f"q={asked}", "q=@")
    for pattern in VOLATILE:
        body = pattern.sub("~", body)
    return body


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            yield rule


def _body(response) -> str:
    if response.mimetype.startswith(("text/", "application/json", "application/jsonl")):
        return response.get_data(as_text=True)
    return ""


def _walk(app, client, receipts, key):
    """(problems, hashes seen) over every reachable GET route and the log filters."""
    problems, seen = [], set()
    positions = [r.chain_position for r in receipts]
    for rule in _get_routes(app):
        url = _url(app, rule)
        base = client.get(url)
        seen.update(HEX64.findall(_body(base)))
        if base.status_code != 200:
            continue
        if key and key in _body(base):
            problems.append(f"{rule.endpoint} shows the receipt key")
        variants = [{"kind": "ballot"}] + [
            {"kind": "ballot", "first": p, "last": p} for p in positions]
        for filters in variants:
            answers = {}
            for code in CODES:
                response = client.get(url, query_string={**filters, "q": code})
                body = _body(response)
                seen.update(HEX64.findall(body))
                answer = _normalised(body, code, _body(base))
                if rule.endpoint in COUNTING_PAGES:
                    answer = NUMBER.sub("N", answer)
                answers[code] = (response.status_code, answer)
            if len(set(answers.values())) > 1:
                problems.append(f"{rule.endpoint} {filters}: the answer to q=<project> "
                                f"depends on the project")
    return problems, seen


def _derivable(seen: set[str], receipts) -> list[str]:
    wanted = {r.receipt for r in receipts}
    return [h for h in seen if receipt_from_entry_hash(h) in wanted]


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_no_route_links_a_receipt_or_counts_during_voting(app, cast_three, role):
    made, receipts, key = cast_three
    client = _client(app, role)
    problems, seen = _walk(app, client, receipts, key)
    assert not problems, f"as {role}:\n" + "\n".join(problems)
    # the log page does show the ballots' entry hashes: none may give a receipt
    assert {r.entry_hash for r in receipts} <= seen
    assert not _derivable(seen, receipts)


def test_after_close_the_chain_export_carries_no_receipt(app, cast_three):
    made, receipts, key = cast_three
    with app.app_context(), write_intent():
        cycle = db.session.get(Cycle, made.cycle_id)
        cycle.phase_window("voting").ends_at = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    client = _client(app, "auditor")
    export = client.get("/audit/cycles/test-cycle/chain.jsonl")
    assert export.status_code == 200
    text = export.get_data(as_text=True)
    assert all(code in text for code in CODES)  # it does carry the selections...
    assert not [r.receipt for r in receipts if r.receipt in text]  # ...but no receipt
    assert not _derivable(set(HEX64.findall(text)), receipts)
    assert key not in text
    problems, seen = _walk(app, client, receipts, key)
    assert not [p for p in problems if "receipt key" in p]
    assert not _derivable(seen, receipts)
    # the server's own check still re-derives every receipt with the key
    for receipt in receipts:
        assert receipt_from_entry_hash(receipt.entry_hash, key) == receipt.receipt
