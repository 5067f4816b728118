"""With reads protected, the dashboards need the token too: pages, layout and callbacks.

A second server over the `live` fixture's ledger requires the token for reads. Without it, Dash's
callback that draws an SLO page (its report and attribution) is refused; with the token, as a
header or as the cookie that opening a page with `?token=` sets, the page draws, in a real browser
too. Dash's static scripts stay open, as does everything when reads are open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from selenium import webdriver

from app.web.access import READ_COOKIE
from tests.web.browsing import load
from tests.web.conftest import Live
from tests.web.harness import LiveServer, settings_for, start_faultline

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

TOKEN = "read-token-8d2e"
SLO_PAGE = "/slo/checkout/checkout-success"


@pytest.fixture(scope="module")
def guarded(live: Live) -> Iterator[LiveServer]:
    settings = settings_for(
        str(live.engine.store.url),
        live.engine.source.config.url,
        require_token_for_reads=True,
        api_token=SecretStr(TOKEN),
    )
    server = start_faultline(settings, lambda _settings, _metrics: live.engine)
    try:
        yield server
    finally:
        server.stop()


def render_request(pathname: str) -> dict[str, Any]:
    """The body Dash's browser code posts to draw the page at `pathname`."""
    outputs = [
        {"id": "page", "property": "children"},
        {"id": "page-title", "property": "children"},
        {"id": "nav", "property": "children"},
        {"id": "cluster-footer", "property": "children"},
    ]
    return {
        "output": "..page.children...page-title.children...nav.children...cluster-footer.children..",
        "outputs": outputs,
        "inputs": [
            {"id": "url", "property": "pathname", "value": pathname},
            {"id": "url", "property": "search", "value": ""},
            {"id": "refresh-timer", "property": "n_intervals", "value": None},
            {"id": "theme", "property": "data", "value": "light"},
        ],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }


def draw(client: httpx.Client, pathname: str = SLO_PAGE) -> httpx.Response:
    return client.post("/_dash-update-component", json=render_request(pathname))


def test_the_dash_callbacks_need_the_read_token(guarded: LiveServer, live: Live) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60) as anonymous:
        refused = draw(anonymous)
        assert refused.status_code == 401
        assert refused.json()["error"]["status"] == 401
        assert "checkout" not in refused.text
        for path in ("/_dash-layout", "/_dash-dependencies", SLO_PAGE, "/"):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.get(f"{SLO_PAGE}?token=wrong").status_code == 401
        anonymous.cookies.set(READ_COOKIE, "wrong")
        assert draw(anonymous).status_code == 401
        assert anonymous.get("/api/v1/slos").status_code == 401  # the API's rule, unchanged
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=guarded.url, headers=headers, timeout=60) as reader:
        drawn = draw(reader)
        assert drawn.status_code == 200, drawn.text[:500]
        title = drawn.json()["response"]["page-title"]["children"]
        assert title == "checkout / checkout-success"
    with httpx.Client(base_url=live.url, timeout=60) as open_reads:
        assert draw(open_reads).status_code == 200  # reads open: the dashboards are too


def test_a_page_opened_with_the_token_keeps_it_in_a_cookie(guarded: LiveServer) -> None:
    with httpx.Client(base_url=guarded.url, timeout=60) as browser_like:
        opened = browser_like.get(f"{SLO_PAGE}?range=6h&token={TOKEN}")
        assert opened.status_code == 303
        assert opened.headers["location"] == f"{SLO_PAGE}?range=6h"  # the token leaves the URL
        cookie = opened.headers["set-cookie"]
        assert f"{READ_COOKIE}={TOKEN}" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert browser_like.get(f"{SLO_PAGE}?range=6h").status_code == 200
        assert draw(browser_like).status_code == 200
        # The cookie is for the dashboards' reads only; writes need the header.
        assert browser_like.post("/api/v1/definitions/reload").status_code == 401


@pytest.mark.browser
def test_the_slo_page_draws_in_a_browser_that_has_the_token(
    guarded: LiveServer, browser: webdriver.Chrome
) -> None:
    browser.delete_all_cookies()
    browser.get(f"{guarded.url}{SLO_PAGE}")
    assert "requires a token for reads" in browser.find_element("tag name", "body").text
    load(browser, f"{guarded.url}{SLO_PAGE}?token={TOKEN}")
    assert browser.current_url == f"{guarded.url}{SLO_PAGE}"
    assert browser.find_elements("css selector", ".page[data-path]"), browser.page_source[:500]
    assert not browser.find_elements("id", "store-error")
    # The title is drawn by the callback that needs the token.
    assert browser.find_element("id", "page-title").text == "checkout / checkout-success"
