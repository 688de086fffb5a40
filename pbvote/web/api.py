"""Open data, read-only JSON at stable addresses under /api/v1/ (GET only, anyone).

Results appear only once published (404 before); the board lists receipts only.
"""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from pbvote.audit.chain import normalise_receipt
from pbvote.infra.db import utcnow
from pbvote.services import audit
from pbvote.services.cycles import get_cycle, list_cycles
from pbvote.services.errors import DomainError
from pbvote.services.publication import published_results, voting_state
from pbvote.web import results as results_page
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("api", __name__, url_prefix="/api/v1")
set_policy(bp.name, allow_anyone)


@bp.after_request
def _open_data_headers(response):
    # Public, credential-free data: any site or script may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    return jsonify({"error": error.message, "status": error.status}), error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return jsonify({"error": error.description, "status": error.code}), error.code


def _cycle_summary(cycle) -> dict:
    return {
        "slug": cycle.slug, "name": cycle.name, "city": cycle.city_name,
        "currency": cycle.currency, "total_budget": cycle.total_budget,
        "voting": voting_state(cycle),
        "published": published_results(cycle) is not None,
        "links": {"self": url_for("api.cycle", slug=cycle.slug, _external=True)},
    }


@bp.get("/cycles")
def cycles():
    return jsonify({"cycles": [_cycle_summary(c) for c in list_cycles()]})


@bp.get("/cycles/<slug>")
def cycle(slug: str):
    cycle = get_cycle(slug)
    snapshot = published_results(cycle)
    body = _cycle_summary(cycle)
    body.update({
        "description": cycle.description, "timezone": cycle.timezone,
        "tie_break_seed": cycle.tie_break_seed,
        "phases": [{"kind": p.kind, "starts_at": p.starts_at.isoformat(),
                    "ends_at": p.ends_at.isoformat()} for p in cycle.phases],
        "districts": [{"slug": d.slug, "name": d.name, "budget": d.budget,
                       "ballot_kind": d.ballot_kind, "tally_rule": d.tally_rule,
                       "tally_params": d.tally_parameters} for d in cycle.districts],
        # The manifest is the frozen record of the rules once voting has opened.
        "manifest": json.loads(cycle.manifest_json) if cycle.manifest_json else None,
        "manifest_hash": cycle.manifest_hash,
        "results_hash": snapshot.results_hash if snapshot else None,
        "as_of": utcnow().isoformat(timespec="seconds"),
    })
    body["links"].update({
        "projects": url_for("api.projects", slug=slug, _external=True),
        "board": url_for("api.board", slug=slug, _external=True),
        "results": url_for("api.results", slug=slug, _external=True) if snapshot else None,
        "bundle": url_for("board.bundle", slug=slug, _external=True) if snapshot else None,
    })
    return jsonify(body)


@bp.get("/cycles/<slug>/projects")
def projects(slug: str):
    cycle = get_cycle(slug)
    return jsonify({"cycle": cycle.slug, "currency": cycle.currency, "districts": [
        {"slug": d.slug, "name": d.name, "budget": d.budget, "projects": [
            {"id": p.code, "title": p.title, "summary": p.summary, "description": p.description,
             "category": p.category, "location": p.location, "cost": p.cost}
            for p in d.projects]}
        for d in cycle.districts]})


@bp.get("/cycles/<slug>/board")
def board(slug: str):
    cycle = get_cycle(slug)
    board = audit.bulletin_board(cycle)
    return jsonify({
        "cycle": cycle.slug,
        "chain": {"length": board.chain_length, "head": board.chain_head},
        "total": board.total,
        "districts": [{"slug": d.slug, "name": d.name, "count": d.count, "receipts": d.receipts}
                      for d in board.districts],
    })


@bp.get("/cycles/<slug>/board/<receipt>")
def receipt(slug: str, receipt: str):
    cycle = get_cycle(slug)
    if not normalise_receipt(receipt):
        raise DomainError(gettext("That is not a receipt code (ten letters and digits, like "
                                  "7K3MQ-9XD2H)."), 422)
    found = audit.check_receipt(cycle, receipt)
    return jsonify({"cycle": cycle.slug, "receipt": found.receipt, "on_board": found.found,
                    "district": found.district.slug if found.found else None})


@bp.get("/cycles/<slug>/results")
def results(slug: str):
    """The published results document, as the results page's results.json serves it."""
    cycle = get_cycle(slug)
    snapshot = published_results(cycle)
    if snapshot is None:
        raise DomainError(gettext("The results of this cycle have not been published yet."), 404)
    return results_page.document_response(snapshot)
