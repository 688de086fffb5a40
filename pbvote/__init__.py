"""pbvote: participatory budgeting with receipts, a verifiable log and exact tallies.

Flask is imported inside create_app so that `pbvote.tally`, `pbvote.rules.ballots` and the
standalone verifier import without any web dependency installed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"


def create_app(config_name: str | None = None, **overrides: Any):
    """Build the app: config → extensions → blueprints → CLI."""
    from flask import Flask

    app = Flask(
        __name__,
        instance_path=os.environ.get("PBVOTE_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _load_config(app, config_name or os.environ.get("PBVOTE_CONFIG", "default"), overrides)

    from pbvote.infra import extensions, logs

    logs.configure(app.config)
    extensions.init_app(app)

    from pbvote.web import register_blueprints

    register_blueprints(app)
    extensions.limit_only_decorated_views(app)

    from pbvote.services.jobs.runner import init_app as init_jobs

    init_jobs(app)

    _trust_proxies(app)

    from pbvote.cli import register_commands

    register_commands(app)
    return app


def _trust_proxies(app) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (PBVOTE_TRUSTED_PROXIES; nginx in production),
    take the client's address and scheme from the headers the nearest proxy set: the last
    X-Forwarded-For value, which the proxy appended itself, so an address a client writes
    into its own X-Forwarded-For is not believed. 0 (the default) trusts no header."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _load_config(app, config_name: str, overrides: dict[str, Any]) -> None:
    from pbvote.infra.settings import apply_environment, ensure_secret

    app.config.from_pyfile(str(CONFIG_DIR / "default.py"))
    if config_name != "default":
        candidate = Path(config_name)
        path = candidate if candidate.suffix == ".py" else CONFIG_DIR / f"{config_name}.py"
        app.config.from_pyfile(str(path))
    apply_environment(app.config)
    app.config.update(overrides)
    ensure_secret(app)
