"""One gunicorn server (2 workers) and one headless Chromium per browser-test module.

Chromium is Debian's /usr/bin/chromium driven by Playwright (never ``playwright install``). Without it the tests
skip outside CI and fail with ``CI=true``.
"""

from __future__ import annotations

import os

import pytest

from benchmarks._server import running_server
from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
WEBHOOK_SECRET = "browser-test-secret"
SERVER_ENV = {
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    # exchange=binance points at a closed port: the page must show the 503, not a blank chart
    "BINANCE_BASE_URL": "http://127.0.0.1:9",
    "HTTP_RETRIES": "0",
    "HTTP_CONNECT_TIMEOUT": "1",
}


def require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing; CI must run the browser tests (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium); browser tests need it")


@pytest.fixture(scope="module")
def server():
    require_chromium()
    with running_server(workers=2, env=SERVER_ENV) as (base, _proc):
        yield base


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class PageLog:
    """Console errors, uncaught exceptions and HTTP statuses seen by one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.responses: list[tuple[int, str]] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: self.responses.append((r.status, r.url)))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.log = PageLog(page)
    yield page
    context.close()
