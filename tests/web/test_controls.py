"""Controls write their state into the URL, the URL alone draws the page, and a shared link
brings the same view back."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app.web.urlstate import parse
from tests.web.browsing import control, current_search, load, set_screen, slo_rows, wait_for_query
from tests.web.conftest import Live
from tests.web.expect import keys

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]


def api_keys(api: httpx.Client, **params: str) -> list[str]:
    response = api.get("/api/v1/slos", params={**params, "limit": "1000"})
    response.raise_for_status()
    return keys(response.json()["items"])


def choose(browser: webdriver.Chrome, name: str, value: str) -> None:
    control(browser, name).find_element("css selector", f"input[value='{value}']").click()


def test_overview_controls_change_the_rows_and_the_url(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, live.url + "/")
    assert [row["key"] for row in slo_rows(browser)] == api_keys(api)

    choose(browser, "sort", "name")
    wait_for_query(browser, "?sort=name")
    assert [row["key"] for row in slo_rows(browser)] == api_keys(api, sort="name")

    search = control(browser, "search")
    search.send_keys("check" + Keys.ENTER)
    wait_for_query(browser, "?sort=name&search=check")
    assert [row["key"] for row in slo_rows(browser)] == api_keys(api, sort="name", search="check")

    picker = control(browser, "policy").find_element("xpath", "ancestor::details")
    picker.find_element("tag name", "summary").click()
    choose(browser, "policy", "exhausted")
    wait_for_query(browser, "?sort=name&search=check&policy=exhausted")
    shown = [row["key"] for row in slo_rows(browser)]
    assert shown == api_keys(api, sort="name", search="check", policy="exhausted")
    assert "checkout/checkout-success" in shown


def test_slo_page_range_picker_changes_what_is_shown(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    key = "checkout/checkout-success"
    set_screen(browser)
    load(browser, f"{live.url}/slo/{key}")

    def shown() -> tuple[int, int, str]:
        span = browser.find_element("id", "range-text")
        share = browser.find_element("css selector", "#mode-payment-timeout td.share .num")
        return (
            int(span.get_attribute("data-start")),
            int(span.get_attribute("data-step")),
            share.get_attribute("data-value"),
        )

    period = shown()
    choose(browser, "range", "6h")
    wait_for_query(browser, "?range=6h")
    six_hours = shown()
    assert six_hours[:2] != period[:2]  # another window, finer buckets

    choose(browser, "range", "custom")
    wait_for_query(browser, "?range=custom")
    control(browser, "start").send_keys("now-40m" + Keys.ENTER)
    wait_for_query(browser, "?range=custom&start=now-40m")
    control(browser, "end").send_keys("now-15m" + Keys.ENTER)
    wait_for_query(browser, "?range=custom&start=now-40m&end=now-15m")
    custom = shown()
    expected = api.get(
        f"/api/v1/slos/{key}/attribution", params={"start": "now-40m", "end": "now-15m"}
    ).json()
    share = next(
        s["share"]
        for g in expected["groups"]
        if g["group"] == "payment-timeout"
        for s in g["slos"]
        if s["slo"] == key
    )
    assert float(custom[2]) == share
    assert custom[2] != period[2]  # the early part of the incident has another mix


def test_failure_modes_grouping_control(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, live.url + "/failure-modes")
    choose(browser, "group_by", "design_choice")
    wait_for_query(browser, "?group_by=design_choice")
    groups = [
        row.get_attribute("data-group")
        for row in browser.find_elements("css selector", "#ranking-table tr.group-row")
    ]
    body = api.get(
        "/api/v1/attribution", params={"start": "now-30d", "group_by": "design_choice"}
    ).json()
    assert groups == [group["group"] for group in body["groups"]]
    assert groups[0] == "synchronous-call"


def test_a_shared_link_brings_the_view_back(live: Live, browser: webdriver.Chrome) -> None:
    query = "?range=7d&refresh=off&sort=burn_rate&policy=exhausted&policy=at-risk"
    set_screen(browser)
    load(browser, live.url + "/" + query)
    checked = browser.execute_script(
        "return [...document.querySelectorAll('#page input:checked')].map((i) => i.value)"
    )
    assert {"7d", "burn_rate", "exhausted", "at-risk"} <= set(checked)
    refresh = control(browser, "refresh").text
    assert "off" in refresh
    # Moving to another page keeps the range and the refresh, and nothing else.
    nav = browser.find_element("id", "nav-failure-modes").get_attribute("href")
    assert dict(parse_qsl(nav.split("?", 1)[1])) == {"range": "7d", "refresh": "off"}
    state = parse(current_search(browser))
    assert (state.sort, state.policy, state.refresh) == (
        "burn_rate",
        ("exhausted", "at-risk"),
        "off",
    )


def test_row_links_open_the_slo_page_without_reloading(
    live: Live, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, live.url + "/?range=6h")
    browser.execute_script("window.__same_document = true")
    link = browser.find_element("css selector", "tr[data-key='orders/replica-lag'] a.slo-link")
    link.click()
    wait_for_query(browser, "?range=6h")
    assert browser.execute_script("return window.location.pathname") == "/slo/orders/replica-lag"
    assert browser.execute_script("return window.__same_document === true")
    assert browser.find_element("id", "page-title").text == "orders / replica-lag"


def test_the_theme_follows_the_system_and_the_toggle_remembers(
    live: Live, browser: webdriver.Chrome
) -> None:
    set_screen(browser, dark=True)
    load(browser, live.url + "/boards")
    browser.execute_script("window.localStorage.clear()")
    load(browser, live.url + "/boards")

    def theme() -> tuple[str, str]:
        toggle = browser.find_element("id", "theme-toggle").text
        return toggle, browser.execute_script("return document.documentElement.dataset.theme")

    assert theme() == ("Theme: auto", "dark")  # the system's choice
    toggle = browser.find_element("id", "theme-toggle")
    seen = []
    for _ in range(3):
        before = theme()
        toggle.click()
        WebDriverWait(browser, 10).until(lambda _, before=before: theme() != before)
        seen.append(theme())
    assert seen == [("Theme: dark", "dark"), ("Theme: light", "light"), ("Theme: auto", "dark")]
    toggle.click()  # dark again, and kept across visits
    WebDriverWait(browser, 10).until(lambda _: theme() == ("Theme: dark", "dark"))
    load(browser, live.url + "/boards")
    assert theme() == ("Theme: dark", "dark")
    browser.execute_script("window.localStorage.clear()")
