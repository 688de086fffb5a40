"""Browser journeys: a live pbvote server on 127.0.0.1 (one per test, on each engine) driven by
headless Debian Chromium through Playwright's sync API, with axe-core scans.

Artifacts go to test-artifacts/: screenshots of key pages at 1280 and 375 px under
screenshots/, and for a failing test a screenshot and a Playwright trace under failures/
(open a trace with `playwright show-trace FILE.zip`).
"""
from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = os.environ.get("PBVOTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO_ROOT / "test-artifacts"
AXE_SOURCE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
WIDTHS = {"desktop": 1280, "phone": 375}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (./run test installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing browser is a broken install, not a skip
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The test's app served by werkzeug in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        #: axe scans and screenshots run on SQLite only: the pages are the same HTML on both
        #: engines, and scanning once keeps the browser tests to a few minutes in CI
        self.scans_pages = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """`app` is parametrized over the engines, so each journey runs on SQLite and PostgreSQL."""
    server = LiveServer(app)
    yield server
    server.stop()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:150]


class Session:
    """One browser context (a person) with its page, screenshots and axe scans."""

    def __init__(self, browser, server: LiveServer, test_name: str, **context_options):
        self.browser = browser
        self.javascript = context_options.get("java_script_enabled", True)
        self.server = server
        self.test_name = _safe(test_name)
        self.context = browser.new_context(base_url=server.url,
                                           viewport={"width": WIDTHS["desktop"], "height": 900},
                                           **context_options)
        self.context.set_default_timeout(15000)
        self.context.tracing.start(screenshots=True, snapshots=True)
        self.page = self.context.new_page()
        #: (page name, language, width) of every axe scan that passed
        self.scanned: list[tuple[str, str, int]] = []
        self._document_request = None  # the request that loaded the page's current document
        self._pending_request = None
        self._scanner = None  # a page in a separate context, for serving HTML copies to axe
        self._copy = ("", "")  # (address, HTML) the scanner serves
        self.page.on("request", self._note_request)
        self.page.on("framenavigated", self._note_navigation)

    def _note_request(self, request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._pending_request = request

    def _note_navigation(self, frame) -> None:
        # Downloads and in-page anchors load no new document: keep the last one.
        if frame == self.page.main_frame and self._pending_request is not None:
            self._document_request, self._pending_request = self._pending_request, None

    # --- screenshots -------------------------------------------------------------------
    def screenshots(self, name: str) -> None:
        """Full-page screenshots of the current page at 1280 and 375 px wide."""
        if not self.server.scans_pages:
            return
        folder = ARTIFACTS / "screenshots" / self.test_name
        folder.mkdir(parents=True, exist_ok=True)
        page = self.page
        for width in WIDTHS.values():
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"{_safe(name)}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})

    # --- accessibility -----------------------------------------------------------------
    def axe(self, name: str, repeatable: bool = True) -> None:
        """axe-core on the current page, in every language the app offers, at 1280 and
        375 px: no serious or critical violation, and nothing scrolls sideways on a phone.

        The page as the journey left it (with what its scripts did) is scanned in its own
        language; for each other language the same request is sent again (a GET, or the POST
        that rendered the page, with the same cookies) asking for that language, and the HTML
        served back is scanned. A page rendered by a POST that must not be sent twice is
        `repeatable=False`: scanned as it is, the journey then shows it in the other
        languages itself."""
        if not self.server.scans_pages:
            return
        request = self._document_request
        assert request is not None, f"{name}: no page loaded"
        response = request.response()
        assert response is not None, f"{name}: {request.url} has no response"
        language = self.page.evaluate("document.documentElement.lang")
        if self.javascript:
            self._scan_both_widths(self.page, name, language)
        else:
            self._scan_copy(name, language, request.url, self.page.content())
        if not repeatable:
            return
        assert language == "en", f"{name}: the journey is in English, this page in {language}"
        for language in other_languages():
            html = self._fetch_again(request, response.status, language, name)
            self._scan_copy(name, language, request.url, html)

    def _fetch_again(self, request, status: int, language: str, name: str) -> str:
        headers = {"Accept-Language": language}
        if request.method == "POST":
            body = request.post_data_buffer
            assert body is not None, f"{name}: the POST to {request.url} cannot be sent again"
            headers["Content-Type"] = request.headers["content-type"]
            again = self.context.request.fetch(request.url, method="POST", headers=headers,
                                               data=body, max_redirects=0)
        else:
            assert request.method == "GET", (name, request.method)
            again = self.context.request.get(request.url, headers=headers, max_redirects=0)
        assert again.status == status, (
            f"{name} [{language}]: {request.method} {request.url} answered {again.status},"
            f" not {status} as in the journey")
        html = again.text()
        assert f'<html lang="{language}"' in html, f"{name}: not served in {language}"
        return html

    def _scan_copy(self, name: str, language: str, url: str, html: str) -> None:
        """Serve `html` at `url` in a page of a separate context and scan it there; the
        page's scripts run only if this session has JavaScript."""
        if self._scanner is None:
            context = self.browser.new_context(base_url=self.server.url,
                                               viewport={"width": WIDTHS["desktop"],
                                                         "height": 900})
            self._scanner = context.new_page()
            self._scanner.route("**/*", self._serve_copy)
        self._scanner.context.clear_cookies()
        self._scanner.context.add_cookies(self.context.cookies())  # photos behind sign-in
        self._copy = (url, html)
        self._scanner.goto(url)
        self._scan_both_widths(self._scanner, name, language)

    def _serve_copy(self, route) -> None:
        request = route.request
        url, html = self._copy
        if request.is_navigation_request() and request.url == url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request.resource_type == "script" and not self.javascript:
            route.abort()
        else:
            route.continue_()

    def _scan_both_widths(self, page, name: str, language: str) -> None:
        for width in WIDTHS.values():
            page.set_viewport_size({"width": width, "height": 900})
            problems = run_axe(page)
            where = f"{name} [{language}, {width} px] ({page.url})"
            assert not problems, f"axe on {where}:\n" + "\n".join(problems)
            if width == WIDTHS["phone"]:
                wide = page.evaluate(WIDER_THAN_THE_SCREEN)
                assert not wide, f"{where}: the page scrolls sideways: {wide}"
            self.scanned.append((name, language, width))
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})

    def check(self, name: str, screenshots: bool = False) -> None:
        self.axe(name)
        if screenshots:
            self.screenshots(name)

    def close(self, failed: bool) -> None:
        if self._scanner is not None:
            self._scanner.context.close()
        if failed:
            folder = ARTIFACTS / "failures"
            folder.mkdir(parents=True, exist_ok=True)
            try:
                for number, page in enumerate(self.context.pages):
                    page.screenshot(path=str(folder / f"{self.test_name}-{number}.png"),
                                    full_page=True)
            finally:
                self.context.tracing.stop(path=str(folder / f"{self.test_name}-trace.zip"))
        else:
            self.context.tracing.stop()
        self.context.close()


#: the innermost elements that stick out past the right edge of the viewport
WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth - width <= 1) return out;
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const sticksOut = e => e.getBoundingClientRect().right > width + 1;
    if (sticksOut(el) && ![...el.children].some(sticksOut))
      out.push(`${el.tagName.toLowerCase()}.${el.className} (right edge ${Math.round(box.right)})`);
  }
  return out.slice(0, 8);
}"""

_AXE_SOURCE: dict[str, str] = {}


def run_axe(page) -> list[str]:
    """Serious and critical axe violations on `page`, one readable line per element.

    page.evaluate runs through the DevTools protocol, which the app's CSP does not restrict,
    so the strict `script-src 'self'` stays on for the journey."""
    if "source" not in _AXE_SOURCE:
        _AXE_SOURCE["source"] = AXE_SOURCE_PATH.read_text(encoding="utf-8")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE_SOURCE["source"] + "\n;0")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => JSON.stringify(r.violations))", AXE_TAGS)
    problems = []
    for violation in json.loads(result):
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        for node in violation["nodes"]:
            problems.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}"
                            f" — {', '.join(map(str, node['target']))}"
                            f" — {node.get('failureSummary', '').splitlines()[-1:]}")
    return problems


def other_languages() -> list[str]:
    """The languages the switcher offers besides English, as <html lang> tags."""
    from pbvote.web.i18n import LANGUAGES, html_lang

    return [html_lang(code) for code in LANGUAGES if code != "en"]


@pytest.fixture
def people(browser, live_server, request):
    """people(**context_options) → a new Session; all closed (with failure artifacts) after."""
    sessions: list[Session] = []

    def open_session(**options) -> Session:
        session = Session(browser, live_server, f"{request.node.name}-{len(sessions)}",
                          **options)
        sessions.append(session)
        return session

    yield open_session
    failed = bool(getattr(request.node, "rep_call", None) and request.node.rep_call.failed)
    for session in sessions:
        session.close(failed)
    if not failed and live_server.scans_pages:
        _check_and_list_scans(request.node.name, [scan for s in sessions for scan in s.scanned])


def _check_and_list_scans(test_name: str, scans: list[tuple[str, str, int]]) -> None:
    """Every page scanned was scanned in every language at every width (a page scanned
    with repeatable=False must be shown again in the other languages by the journey);
    the list goes to test-artifacts/axe-scans/ for the record."""
    from pbvote.web.i18n import LANGUAGES, html_lang

    wanted = {(html_lang(code), width) for code in LANGUAGES for width in WIDTHS.values()}
    pages: dict[str, set] = {}
    for name, language, width in scans:
        pages.setdefault(name, set()).add((language, width))
    folder = ARTIFACTS / "axe-scans"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{_safe(test_name)}.txt").write_text("".join(
        f"{name}: {', '.join(f'{lang}@{width}' for lang, width in sorted(done))}\n"
        for name, done in pages.items()), encoding="utf-8")
    missing = {name: sorted(wanted - done) for name, done in pages.items() if wanted - done}
    assert not missing, f"pages not scanned in every language and width: {missing}"
