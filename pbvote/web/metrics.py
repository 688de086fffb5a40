"""GET /metrics for Prometheus, and the request hooks that feed it (pbvote/infra/metrics.py).

Only a configured address (METRICS_ALLOWED_ADDRESSES, by default the loopback) or a request
bearing METRICS_TOKEN (PBVOTE_METRICS_TOKEN; `Authorization: Bearer …`) may read it; anyone
else gets 404, as if there were nothing there. Behind a reverse proxy the address is the
proxy's unless the app trusts it (see the operations guide)."""
from __future__ import annotations

import hmac
import time

from flask import Blueprint, Response, abort, current_app, g, request

from pbvote.infra import metrics
from pbvote.services import jobs
from pbvote.web.guards import set_policy

bp = Blueprint("metrics", __name__)


def _scraper_only() -> None:
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return None
    if request.remote_addr in set(config.get("METRICS_ALLOWED_ADDRESSES") or ()):
        return None
    abort(404)


set_policy(bp.name, _scraper_only)


@bp.get("/metrics")
def scrape():
    body = metrics.exposition(jobs.queue_depth)
    response = Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app) -> None:
    if not app.config.get("METRICS_ENABLED", True):
        return

    @app.before_request
    def _start_clock():
        g.pbvote_request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("pbvote_request_started", None)
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        if endpoint == "static":
            return response
        metrics.REQUESTS.labels(endpoint=endpoint, method=request.method,
                                status=str(response.status_code)).inc()
        if started is not None:
            metrics.LATENCY.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        if response.status_code == 429:
            metrics.RATE_LIMITED.labels(endpoint=endpoint).inc()
        return response
