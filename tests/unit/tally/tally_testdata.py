"""Shared helpers for the tally tests. (A plain module, not conftest.py, and unique file names:
the tests folders have no __init__.py, so basenames must not clash with other teams' tests.)"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def pabulib_dir() -> Path:
    """<repo>/../shared/pabulib, or $PBVOTE_PABULIB_DIR. Missing data is a failure, not a skip:
    CI always has it, and silently skipping would hide that official outcomes went unchecked."""
    env = os.environ.get("PBVOTE_PABULIB_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "pabulib"
    if not path.is_dir() or not list(path.glob("*.pb")):
        pytest.fail(f"Pabulib elections not found at {path} (set PBVOTE_PABULIB_DIR)", pytrace=False)
    return path
