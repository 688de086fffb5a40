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
        self.scanned: list[str] = []

    # --- screenshots -------------------------------------------------------------------
    def screenshots(self, name: str) -> None:
        """Full-page screenshots of the current page at 1280 and 375 px wide."""
        if not self.server.scans_pages:
            return
        folder = ARTIFACTS / "screenshots" / self.test_name
        folder.mkdir(parents=True, exist_ok=True)
        page = self.page
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"{_safe(name)}-{width}.png"), full_page=True)
            if label == "phone":
                wide = page.evaluate(WIDER_THAN_THE_SCREEN)
                assert not wide, f"{name}: the page scrolls sideways at 375 px: {wide}"
        page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})

    # --- accessibility -----------------------------------------------------------------
    def axe(self, name: str, again_in_other_languages: bool = True) -> None:
        """axe-core on the current page: no serious or critical violation. A page reached by
        GET is loaded again in every other language the app offers (same cookies)."""
        if not self.server.scans_pages:
            return
        problems = run_axe(self.page) if self.javascript else self._axe_on_copy()
        self.scanned.append(name)
        assert not problems, f"axe on {name} ({self.page.url}):\n" + "\n".join(problems)
        if not again_in_other_languages:
            return
        url = self.page.url
        for language in other_languages(self.server.app):
            if not self.javascript:
                break  # the copy trick needs the page's own HTML; the JS journeys cover these
            page = self.context.new_page()
            page.set_extra_http_headers({"Accept-Language": language})
            response = page.goto(url)
            assert response is not None and response.status < 400, (url, language)
            problems = run_axe(page)
            page.close()
            assert not problems, f"axe on {name} [{language}] ({url}):\n" + "\n".join(problems)

    def _axe_on_copy(self) -> list[str]:
        """axe needs JavaScript: scan the no-JS page's HTML, as served, in a JS-enabled page
        at the same address with the app's own scripts blocked."""
        html, url = self.page.content(), self.page.url
        context = self.browser.new_context(base_url=self.server.url)
        try:
            page = context.new_page()

            def serve(route):
                if route.request.url == url:
                    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
                elif route.request.resource_type == "script":
                    route.abort()
                else:
                    route.continue_()

            page.route("**/*", serve)
            page.goto(url)
            return run_axe(page)
        finally:
            context.close()

    def check(self, name: str, screenshots: bool = False) -> None:
        self.axe(name)
        if screenshots:
            self.screenshots(name)

    def close(self, failed: bool) -> None:
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


def other_languages(app) -> list[str]:
    """Languages the app has translations for, besides English, as Accept-Language values."""
    try:
        from flask_babel import get_babel

        with app.app_context():
            locales = get_babel(app).instance.list_translations()
    except Exception:  # pragma: no cover - older Flask-Babel
        return []
    names = sorted({str(locale).replace("_", "-") for locale in locales})
    return [name for name in names if not name.lower().startswith("en")]


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
