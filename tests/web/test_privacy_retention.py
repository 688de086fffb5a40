"""Issue #17: the privacy notice states the retention that `pbvote enforce-retention`
applies, from the same setting, in every language; it no longer says the site does not do it."""
from __future__ import annotations

import html

import pytest


@pytest.mark.parametrize("locale, words", [
    ("en", ["30 days after a cycle's results are published", "access codes",
            "within an hour after it expired"]),
    ("es", ["30 días", "códigos de acceso"]),
    ("zh_Hans", ["30 天", "访问码"]),
])
def test_the_privacy_page_states_the_period_the_command_applies(app, client, locale, words):
    from pbvote.services.retention import retention_days

    app.config["PB_OFFICE"] = {**app.config["PB_OFFICE"], "retention_days": 30}
    assert retention_days(app.config) == 30
    client.set_cookie("pbvote_lang", locale)
    page = html.unescape(client.get("/privacy").text)
    for word in words:
        assert word in page, (locale, word)
    assert "does not yet do it automatically" not in page


def test_one_day_is_singular(app, client):
    app.config["PB_OFFICE"] = {**app.config["PB_OFFICE"], "retention_days": 1}
    assert "1 day after a cycle's results" in html.unescape(client.get("/privacy").text)
