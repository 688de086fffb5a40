"""The printable report as PDF (WeasyPrint): it opens, holds the cycle's title and its
fingerprints in each language, and fetches nothing but this site's static files."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.web.test_results_page import published  # noqa: F401  (the fixture)

HEADINGS = {"en": "Results report", "es": "Informe de resultados", "zh": "结果报告"}


def _pdf_text(data: bytes) -> tuple[str, set[str]]:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    return "\n".join(page.extract_text() for page in reader.pages), fonts


def test_report_pdf_opens_with_title_and_fingerprints(client, published):  # noqa: F811
    from pbvote.web import results as results_view

    results_view._PDF_CACHE.clear()
    drawn = {}
    for language in ("en", "es", "zh"):
        response = client.get(f"/cycles/{published['slug']}/results/report.pdf",
                              headers={"Accept-Language": language})
        assert response.status_code == 200, response.text[:500]
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert f"-{language}.pdf" in response.headers["Content-Disposition"]
        text, fonts = _pdf_text(response.data)
        flat = re.sub(r"\s+", "", text)  # a title or a hash may break across lines
        assert f"Cycle{published['slug']}" in flat, (language, text[:300])
        assert HEADINGS[language] in text, (language, text[:300])
        assert published["hash"] in flat  # the fingerprint
        if language == "zh":  # drawn with a font that has Chinese glyphs, not boxes
            assert any("WenQuanYi" in f or "CJK" in f for f in fonts), fonts
        drawn[language] = response.data
    assert len(set(drawn.values())) == 3
    # a second reader of a language gets the same PDF, without drawing it again
    assert client.get(f"/cycles/{published['slug']}/results/report.pdf",
                      headers={"Accept-Language": "es"}).data == drawn["es"]
    assert len(results_view._PDF_CACHE) == 3


def test_report_pdf_is_linked_from_the_results_and_the_report(client, published):  # noqa: F811
    pdf_link = f'href="/cycles/{published["slug"]}/results/report.pdf"'
    assert pdf_link in client.get(f"/cycles/{published['slug']}/results").text
    assert pdf_link in client.get(f"/cycles/{published['slug']}/results/report").text


def test_report_pdf_waits_for_publication(app, client):
    from pbvote.infra.db import write_intent
    from pbvote.infra.extensions import db
    from tests.results_helpers import cycle_with_ballots

    with app.app_context(), write_intent():
        made = cycle_with_ballots("closed")
        db.session.commit()
    assert client.get(f"/cycles/{made.slug}/results/report.pdf").status_code == 404


def test_the_pdf_fetches_only_static_files(app, tmp_path):
    """No address outside the static folder is fetched: not the network, not a local file
    named directly, not a path climbing out of the folder."""
    from pbvote.web.report_pdf import html_to_pdf

    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = (
        '<html><head><link rel="stylesheet" href="/static/css/pbvote.css">'
        '<link rel="stylesheet" href="http://127.0.0.1:9/remote.css">'
        f'<link rel="stylesheet" href="file://{secret}">'
        '<link rel="stylesheet" href="/static/../pbvote/__init__.py"></head>'
        '<body><p>hello</p><img src="https://example.org/tracker.png" alt="x"></body></html>')
    data, refused = html_to_pdf(html, "http://pbvote.test/", "/static", app.static_folder)
    assert data.startswith(b"%PDF-")
    assert "http://127.0.0.1:9/remote.css" in refused
    assert "https://example.org/tracker.png" in refused
    assert f"file://{secret}" in refused
    assert any(url.endswith("__init__.py") for url in refused)
    assert not any(url.endswith("pbvote.css") for url in refused)
