"""/docs (Swagger UI) and /redoc render their operations with the network cut off.

Chromium runs with every name but loopback unresolvable and every non-loopback connection sent
to a dead proxy, so a page that needs a CDN stays blank; a control page that loads Swagger UI
from the CDN (FastAPI's default) proves the cut is real. Every request the pages make is logged
and must be to the server itself.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from app.runtime.factory import create_app
from tests.web.conftest import require_chromium
from tests.web.harness import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, REPO, LiveServer

pytestmark = [pytest.mark.browser]

DEAD_PROXY = "127.0.0.1:9"  # the discard port: nothing listens there
# Name resolution fails for everything but loopback, and whatever still gets an address goes to
# a proxy that is not there: only loopback (which Chromium never proxies) can answer.
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    f"--proxy-server=http://{DEAD_PROXY}",
)
# Operations of the API that must appear on both pages.
EXPECTED_PATHS = ("/api/v1/slos", "/api/v1/alerts", "/api/v1/slos/{service}/{slo}/attribution")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("docs")
    from app.runtime.settings import Settings  # noqa: PLC0415

    settings = Settings(
        database_url=f"sqlite:///{root}/ledger.db",
        prometheus_url="http://127.0.0.1:9",  # never asked: the scheduler is off
        definitions=REPO / "slo_definitions",
        alerts=REPO / "alerts",
        dashboards=REPO / "dashboards",
        scheduler_enabled=False,
    )
    app = create_app(settings)

    @app.get("/cdn-docs", include_in_schema=False)
    def cdn_docs() -> HTMLResponse:  # FastAPI's default page: scripts from a CDN
        return get_swagger_ui_html(openapi_url="/openapi.json", title="control")

    app.router.routes.insert(0, app.router.routes.pop())  # before the dashboards' catch-all

    live = LiveServer(app)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[webdriver.Chrome]:
    require_chromium()
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, *OFFLINE_FLAGS):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='faultline-chromium-')}")
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def requested_hosts(driver: webdriver.Chrome) -> set[str]:
    """Hosts of every request the pages sent since the last call (Chromium's network log).

    A request the page's Content-Security-Policy blocked never leaves the browser: not counted.
    """
    hosts: dict[str, str] = {}
    blocked: set[str] = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url.startswith(("http:", "https:")):
                hosts[params["requestId"]] = urlsplit(url).hostname or ""
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked.add(params["requestId"])
    return {host for request, host in hosts.items() if request not in blocked}


def wait_for(driver: webdriver.Chrome, script: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


SWAGGER_PATHS = """
return [...document.querySelectorAll('.opblock .opblock-summary-path')]
    .map((element) => element.getAttribute('data-path') || element.textContent.trim());
"""
REDOC_PATHS = """
return [...document.querySelectorAll('[data-section-id^="operation/"]')]
    .map((element) => element.textContent);
"""


def test_swagger_ui_lists_the_operations_offline(
    server: LiveServer, offline_browser: webdriver.Chrome
) -> None:
    requested_hosts(offline_browser)  # start the log afresh
    offline_browser.get(f"{server.url}/docs")
    paths = wait_for(offline_browser, SWAGGER_PATHS)
    assert isinstance(paths, list)
    for path in EXPECTED_PATHS:
        assert path in paths, paths
    assert len(paths) >= 20, paths  # every operation, not a fragment
    assert requested_hosts(offline_browser) == {"127.0.0.1"}


def test_redoc_lists_the_operations_offline(
    server: LiveServer, offline_browser: webdriver.Chrome
) -> None:
    requested_hosts(offline_browser)
    offline_browser.get(f"{server.url}/redoc")
    sections = wait_for(offline_browser, REDOC_PATHS)
    assert isinstance(sections, list) and len(sections) >= 20, sections
    text = offline_browser.find_element("tag name", "body").text
    for path in EXPECTED_PATHS:
        assert path in text
    assert requested_hosts(offline_browser) == {"127.0.0.1"}


def test_the_network_is_really_cut(server: LiveServer, offline_browser: webdriver.Chrome) -> None:
    """FastAPI's default page, whose scripts come from a CDN, stays blank in this browser."""
    requested_hosts(offline_browser)
    offline_browser.get(f"{server.url}/cdn-docs")
    time.sleep(3)  # ample time for a script that could load to draw something
    assert offline_browser.execute_script(SWAGGER_PATHS) == []
    assert requested_hosts(offline_browser) - {"127.0.0.1"}, "the page should have tried a CDN"


def test_the_assets_come_from_the_installed_package() -> None:
    from app.api.docs import ASSETS  # noqa: PLC0415

    names = {path.name for path in Path(ASSETS).iterdir()}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= names
