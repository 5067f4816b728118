"""The SLO page in headless Chromium: the alert timeline shows replayed history before the
process started and live transitions after, and the Replay panel shows what
`POST /api/v1/replay` answers for the same range and change; the failure-modes page links each
mode to its what-if.

The server here started late: its first tick backfilled the `overlapping` scenario's first
150 minutes (the incident begins at 120), then it judged alerts live every 10 minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from app.testbed.prometheus import PrometheusServer
from app.testbed.tsdb import link_tsdb
from app.web import format as fmt
from tests.conftest import TestbedCache, require_prometheus
from tests.web.browsing import (
    control,
    current_search,
    load,
    screenshot,
    set_screen,
    wait_for_query,
)
from tests.web.harness import (
    StoppedClock,
    engine_factory,
    run_until,
    settings_for,
    start_faultline,
)

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

CHECKOUT = "checkout/checkout-success"
STARTED = 150 * 60  # the process starts 150 minutes into the scenario
STOP = 200 * 60


@pytest.fixture(scope="module")
def late(testbed: TestbedCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_prometheus()
    built = testbed.get("overlapping")
    root = tmp_path_factory.mktemp("late")
    prometheus = PrometheusServer(
        link_tsdb(testbed.tsdb("overlapping"), root / "data"), work_dir=root / "prometheus"
    )
    prometheus.start()
    start = built.scenario.start
    try:
        settings = settings_for(f"sqlite:///{root}/ledger.db", prometheus.url)
        clock = StoppedClock(start + STARTED)
        server = start_faultline(settings, engine_factory(prometheus.url, clock, STARTED))
        try:
            run_until(server.app.state.faultline.engine, clock, start + STOP, 600)
            yield server.url
        finally:
            server.stop()
    finally:
        prometheus.close()


def built_start(url: str) -> int:
    """The scenario's start, from the ledger: the first slice end is one minute after it."""
    history = httpx.get(f"{url}/api/v1/slos/{CHECKOUT}", timeout=30).json()
    return int(fmt.epoch(history["window"]["end"])) - STOP


def _range(browser: webdriver.Chrome) -> tuple[int, int]:
    element = browser.find_element(By.ID, "range-text")
    return int(element.get_attribute("data-start")), int(element.get_attribute("data-end"))


def _replay(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/v1/replay", json=body, timeout=60)
    response.raise_for_status()
    slo: dict[str, Any] = response.json()["slos"][0]
    return slo


def _rows(browser: webdriver.Chrome, selector: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(tr => ({...tr.dataset}));",
        selector,
    )
    return rows


def test_the_timeline_shows_replayed_history_then_live(
    late: str, browser: webdriver.Chrome, screenshots: Path
) -> None:
    set_screen(browser)
    load(browser, f"{late}/slo/{CHECKOUT}")
    start, end = _range(browser)
    rows = _rows(browser, "#alert-timeline tbody tr")
    replayed = [row for row in rows if row["source"] == "replayed"]
    live = [row for row in rows if row["source"] == "live"]
    assert replayed and live, rows
    # Replayed rows are the API's replay of the same range before the process started.
    answer = _replay(late, {"slos": [CHECKOUT], "start": str(start - 3 * 86400), "end": str(end)})
    live_since = int(browser.find_element(By.ID, "alert-timeline").get_attribute("data-live-since"))
    assert live_since == built_start(late) + STARTED  # when the process started
    assert all(int(row["epoch"]) >= live_since for row in live)
    expected = [
        (a["t"], a["tier"], a["state"])
        for a in answer["actual"]["alerts"]
        if start < a["t"] < live_since
    ]
    assert [(int(r["epoch"]), r["tier"], r["state"]) for r in replayed] == expected
    badges = browser.execute_script(
        "return [...document.querySelectorAll('#alert-timeline tr.replayed .badge')]"
        ".map(b => b.textContent);"
    )
    assert "replayed" in badges
    screenshot(browser, screenshots / "slo-timeline-replayed.png", width=1280)
    timeline = browser.find_element(By.ID, "alert-timeline")
    timeline.screenshot(str(screenshots / "slo-timeline-section.png"))


def test_the_replay_panel_shows_the_apis_answer(
    late: str, browser: webdriver.Chrome, screenshots: Path
) -> None:
    set_screen(browser)
    load(browser, f"{late}/failure-modes")
    links = browser.execute_script(
        "return [...document.querySelectorAll('a.whatif-link')].map(a => a.getAttribute('href'));"
    )
    # Every failure mode's row links each SLO it spent budget of to that mode's what-if there
    # (a mode that spent nothing in the range lists no SLO, so it has nothing to remove).
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#ranking-table tr.group-row')].map(tr => ({"
        "group: tr.dataset.group, consumed: Number(tr.querySelector('td.consumed .num')"
        ".dataset.value), items: [...tr.querySelectorAll('li[data-slo]')].map(li => {"
        "const a = li.querySelector('a.whatif-link');"
        "return [li.dataset.slo, a && a.dataset.whatif, a && a.getAttribute('href')];})}));"
    )
    assert len(rows) > 1 and all(bool(row["items"]) == (row["consumed"] > 0) for row in rows)
    for row in rows:
        for slo, mode, href in row["items"]:
            assert mode == row["group"], (row["group"], slo, mode)
            assert href.startswith(f"/slo/{slo}?") and f"wi_mode={mode}" in href, href
    mine = [href for href in links if href.startswith(f"/slo/{CHECKOUT}?")]
    assert any("wi_mode=payment-timeout" in href for href in mine), links
    load(browser, late + next(h for h in mine if "wi_mode=payment-timeout" in h))
    start, end = _range(browser)
    change = {"modes": [{"mode": "payment-timeout", "kind": "remove"}]}
    answer = _replay(
        late, {"slos": [CHECKOUT], "start": str(start), "end": str(end), "change": change}
    )
    figures = {row["figure"]: row for row in _rows(browser, "#replay-comparison tbody tr")}
    consumed = figures["budget consumed"]
    assert consumed["actual"] == fmt.percent(answer["actual"]["budget"]["consumed"])
    assert consumed["changed"] == fmt.percent(answer["changed"]["budget"]["consumed"])
    assert figures["budget incidents"]["changed"] == str(len(answer["changed"]["incidents"]))
    for side in ("actual", "changed"):
        shown = [
            (int(r["t"]), r["tier"], r["state"]) for r in _rows(browser, f"#replay-{side} tbody tr")
        ]
        assert shown == [(a["t"], a["tier"], a["state"]) for a in answer[side]["alerts"]]
    assert answer["actual"]["alerts"], "the payment timeouts fired alerts"
    screenshot(browser, screenshots / "slo-replay-panel.png", width=1280)
    browser.find_element(By.ID, "replay").screenshot(str(screenshots / "slo-replay-section.png"))

    # Picking "scale by" 0 in the panel is removing: the same answer.
    scale = browser.find_element(By.CSS_SELECTOR, "#replay-controls input[value='scale']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", scale)
    scale.click()
    value = control(browser, "wi_value")
    value.send_keys("0", Keys.ENTER)
    WebDriverWait(browser, 60, poll_frequency=0.05).until(
        lambda d: "wi_value=0" in current_search(d) and "wi_edit=scale" in current_search(d)
    )
    wait_for_query(browser, current_search(browser))
    scaled = {row["figure"]: row for row in _rows(browser, "#replay-comparison tbody tr")}
    assert scaled["budget consumed"] == consumed
