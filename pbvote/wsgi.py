"""WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py pbvote.wsgi:app`.

Configuration comes from the environment (PBVOTE_CONFIG, PBVOTE_DATABASE_URL, secrets…),
so every worker of every server instance builds the same app.
"""
from __future__ import annotations

import os

from pbvote import create_app

app = create_app(os.environ.get("PBVOTE_CONFIG", "default"))
