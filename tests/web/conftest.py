"""Fixtures shared by the web tests."""
from __future__ import annotations

import pytest

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.factories import make_cycle


@pytest.fixture
def made(app):
    """The factories' small cycle, committed (a test file may define its own)."""
    with app.app_context(), write_intent():
        result = make_cycle()
        db.session.commit()
    return result
