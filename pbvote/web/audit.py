"""The auditors' workspace (auditor and admin roles, read-only): chain status, the event-log
browser, reconciliation, the tally trace, "verify now" and the full chain export."""
from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from pbvote.infra.db import reads_only, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Chain
from pbvote.services import audit
from pbvote.services.cycles import get_cycle, list_cycles
from pbvote.web.guards import require_roles, set_policy

bp = Blueprint("audit", __name__, url_prefix="/audit")
set_policy(bp.name, require_roles("auditor", "admin"))
# "Verify now" only reads (it exports to a temporary directory): on SQLite it must not hold
# the write lock for the length of an export, or casting would queue behind it.
reads_only("audit.verify_now")

LOG_PAGE_SIZE = 50



@bp.get("/")
def index():
    return render_template("audit/index.html", cycles=list_cycles(include_archived=True),
                           now=utcnow())


@bp.get("/cycles/<slug>")
def cycle(slug: str):
    cycle = get_cycle(slug)
    chain = db.session.get(Chain, cycle.chain_id)
    rows = audit.reconciliation(cycle)
    return render_template(
        "audit/cycle.html", cycle=cycle, chain=chain, status=audit.chain_status(cycle),
        rows=rows, unbalanced=[r for r in rows if not r.balanced],
        published=audit.is_published(cycle), voting_closed=audit.voting_closed(cycle))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@bp.get("/cycles/<slug>/log")
def log(slug: str):
    cycle = get_cycle(slug)
    filters = {"kind": request.args.get("kind", "").strip(), "first": _int_arg("first"),
               "last": _int_arg("last"), "text": request.args.get("q", "").strip()[:200]}
    page = audit.browse_log(cycle, page=_int_arg("page") or 1, per_page=LOG_PAGE_SIZE, **filters)
    query = {k: v for k, v in {"kind": filters["kind"], "first": filters["first"],
                               "last": filters["last"], "q": filters["text"]}.items()
             if v not in (None, "")}
    return render_template("audit/log.html", cycle=cycle, page=page, filters=filters,
                           query=query, voting_closed=audit.voting_closed(cycle),
                           as_json=lambda data: json.dumps(data, indent=1, sort_keys=True,
                                                           ensure_ascii=False))


@bp.get("/cycles/<slug>/chain.jsonl")
def chain_export(slug: str):
    cycle = get_cycle(slug)
    # Built whole, inside this request's transaction (the commit after the view would end a
    # streaming read midway); about 400 bytes per entry.
    text = "".join(audit.chain_export_lines(cycle))
    response = Response(text, mimetype="application/jsonl")
    response.headers["Content-Disposition"] = f'attachment; filename="{cycle.slug}-chain.jsonl"'
    return response


@bp.get("/cycles/<slug>/trace")
def trace(slug: str):
    cycle = get_cycle(slug)
    snapshot = audit.published_snapshot(cycle)
    from pbvote.rules.results_reading import trace_lines  # the results page's rendering of a trace

    results = json.loads(snapshot.results_json)
    districts = [{"entry": d, "lines": trace_lines(d, parameters=True),
                  "trace_json": json.dumps(d["outcome"]["trace"], indent=1, ensure_ascii=False),
                  "ties_json": json.dumps(d["outcome"]["ties"], indent=1, ensure_ascii=False)}
                 for d in results["districts"]]
    return render_template("audit/trace.html", cycle=cycle, snapshot=snapshot, results=results,
                           districts=districts)


@bp.post("/cycles/<slug>/verify")
def verify_now(slug: str):
    cycle = get_cycle(slug)
    report = audit.verify_now(cycle)
    return render_template("audit/verify.html", cycle=cycle, report=report,
                           delivery_report=audit.verify_delivery_now(cycle))
