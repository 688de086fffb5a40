"""The printable results report as PDF, drawn by WeasyPrint from the report's HTML.

WeasyPrint fetches what the HTML names (the stylesheet). Its fetcher here reads the app's
own static files from disk and refuses every other address, so drawing a PDF never opens a
network connection, whatever a project title or a translation contains. WeasyPrint needs
Debian's Pango (./run installs it); without it the route answers 503 and names the HTML
report, which prints to PDF from any browser.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


def _static_fetcher(url_root: str, static_url_path: str, static_folder: str):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    prefix = url_root.rstrip("/") + static_url_path.rstrip("/") + "/"
    folder = Path(static_folder).resolve()

    class StaticFilesOnly(URLFetcher):
        """Serves `prefix…` from the static folder; refuses everything else (no network)."""

        refused: list[str]

        def __init__(self):
            super().__init__(allowed_protocols=())
            self.refused = []

        def fetch(self, url, headers=None):
            path = url.split("?", 1)[0].split("#", 1)[0]
            target = (folder / path[len(prefix):]).resolve() if path.startswith(prefix) else None
            if target is None or not target.is_relative_to(folder) or not target.is_file():
                self.refused.append(url)
                raise ValueError(f"the PDF report fetches only this site's static files: {url}")
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": kind})

    return StaticFilesOnly()


def html_to_pdf(html: str, url_root: str, static_url_path: str,
                static_folder: str) -> tuple[bytes, list[str]]:
    """(the PDF, the addresses it refused to fetch) for the report page `html`, whose
    relative links resolve against `url_root` (so the PDF's links lead to the site); the
    title and language come from the page's <title> and <html lang>."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango is not installed
        raise PdfUnavailable(str(error)) from error
    fetcher = _static_fetcher(url_root, static_url_path, static_folder)
    document = weasyprint.HTML(string=html, base_url=url_root, url_fetcher=fetcher,
                               media_type="print")
    return document.write_pdf(), fetcher.refused
