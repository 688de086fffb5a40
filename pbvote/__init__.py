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

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # the address of the resident, not of the proxy: rate limits are per address. Only the
        # value the nearest proxy appended is believed, never one a client wrote itself.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    from pbvote.web.converters import DatabaseIdConverter

    # before any blueprint adds a rule: every <int:…> in a URL is a database id
    app.url_map.converters["int"] = DatabaseIdConverter

    from pbvote.infra import extensions, logs

    logs.configure(app.config)
    extensions.init_app(app)

    from pbvote.web import register_blueprints

    register_blueprints(app)
    extensions.limit_only_decorated_views(app)

    from pbvote.services.jobs.runner import init_app as init_jobs

    init_jobs(app)

    from pbvote.cli import register_commands

    register_commands(app)
    return app


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
