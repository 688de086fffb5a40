"""Checks of the GOV.UK-style error summary: one box at the top that takes focus, and a link
from each field error to a control that says it is invalid and names its error message.

    checked = assert_linked_summary(response, ["email", "password"])
    checked.by_id["email"]["value"]  # what was typed is shown back
"""
from __future__ import annotations

from html.parser import HTMLParser


class SummaryPage(HTMLParser):
    """The attributes of every element with an id, and the links inside the error summary."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.summary_links: list[str] = []
        self.summary_text = ""
        self._open_in_summary = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
        if attributes.get("id") == "error-summary":
            self._open_in_summary = 1
        elif self._open_in_summary and tag not in ("br", "img", "input"):
            self._open_in_summary += 1
        if self._open_in_summary and tag == "a":
            self.summary_links.append(attributes.get("href") or "")

    def handle_endtag(self, tag):
        if self._open_in_summary:
            self._open_in_summary -= 1

    def handle_data(self, data):
        if self._open_in_summary:
            self.summary_text += data


def assert_linked_summary(response, field_ids: list[str], status: int = 422) -> SummaryPage:
    """The summary is there, takes focus, and links each of field_ids to a control marked
    invalid whose aria-describedby names elements on the page."""
    assert response.status_code == status, response.text[:2000]
    page = SummaryPage(response.text)
    summary = page.by_id.get("error-summary")
    assert summary is not None, "no error summary"
    assert summary.get("role") == "alert" and summary.get("tabindex") == "-1"
    assert "autofocus" in summary
    # a field with two errors has two links to it
    assert set(page.summary_links) == {f"#{field_id}" for field_id in field_ids}, \
        (page.summary_links, page.summary_text)
    for field_id in field_ids:
        control = page.by_id.get(field_id)
        assert control is not None, f"the link #{field_id} leads nowhere"
        assert control.get("aria-invalid") == "true", field_id
        described_by = (control.get("aria-describedby") or "").split()
        for described in described_by:
            assert described in page.by_id, f"{field_id} names a missing {described}"
        # its own error message (a group of boxes shares one)
        assert any("error-message" in (page.by_id[described].get("class") or "").split()
                   for described in described_by), field_id
    return page
