"""/healthz (the process answers) and /readyz (it can serve: database, migrations at head,
Redis where configured) for load balancers and systemd. Plain JSON, open to anyone, no
session (no cookie is read or set) and nothing personal."""
from __future__ import annotations

from flask import Blueprint, jsonify

from pbvote.services import health
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("health", __name__)
set_policy(bp.name, allow_anyone)


def _plain(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _plain(jsonify(status="ok"), 200)


@bp.get("/readyz")
def readyz():
    checks = health.readiness()
    ready = all(check.ok for check in checks)
    body = {"status": "ready" if ready else "not ready",
            "checks": {check.name: ("ok" if check.ok else check.detail) for check in checks}}
    return _plain(jsonify(body), 200 if ready else 503)
