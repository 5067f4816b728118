"""Driving the dashboards in Chromium: open a page the way a person would (theme, screen
width), wait for Dash to finish, and read the figures the page shows with their exact values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.harness import page_ready

PHONE = 390
DESKTOP = 1280


def set_screen(driver: webdriver.Chrome, *, width: int = DESKTOP, dark: bool = False) -> None:
    """Emulate a screen width (phones as mobile devices) and the system colour scheme."""
    scheme = "dark" if dark else "light"
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def load(driver: webdriver.Chrome, url: str, timeout: float = 60) -> None:
    driver.get(url)
    wait(driver, timeout)


def wait(driver: webdriver.Chrome, timeout: float = 60) -> None:
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(page_ready)


def console_errors(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """Console entries at error level since the last call (reading the log empties it)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver: webdriver.Chrome, path: Path, *, width: int) -> None:
    """The whole page, not only the first screen."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": width,
            "height": min(height, 8000),
            "deviceScaleFactor": 1,
            "mobile": width < 600,
        },
    )
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )


ROWS_JS = """
const figure = (element) => element ? [element.dataset.value, element.textContent] : null;
return [...document.querySelectorAll(arguments[0] + ' tr.slo-row')].map((tr) => {
    const spark = tr.querySelector('img.spark');
    return {
        key: tr.dataset.key,
        status: tr.querySelector('td.status').dataset.value,
        policy: tr.querySelector('td.policy').dataset.value,
        remaining: figure(tr.querySelector('td.remaining .num')),
        burn: Object.fromEntries([...tr.querySelectorAll('td.burn')].map(
            (td) => [td.dataset.window, figure(td.querySelector('.num'))])),
        spark: spark ? {points: spark.dataset.points, resolution: spark.dataset.resolution} : null,
        alerts: tr.querySelector('td.alerts').textContent,
    };
});
"""


def slo_rows(driver: webdriver.Chrome, table: str = "#overview-table") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = driver.execute_script(ROWS_JS, table)
    return rows


def figure_of(driver: webdriver.Chrome, element_id: str) -> tuple[str, str]:
    """(data-value, text) of the number with this id."""
    found: list[str] = driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "const n = e.matches('.num') ? e : e.querySelector('.num');"
        "return [n.dataset.value, n.textContent];",
        element_id,
    )
    return found[0], found[1]


def plotly_data(driver: webdriver.Chrome, graph_id: str) -> list[dict[str, Any]]:
    """The traces Plotly drew in the graph with this id (name, x, y)."""
    traces: list[dict[str, Any]] = driver.execute_script(
        "const plot = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return plot.data.map((t) => ({name: t.name, x: t.x, y: t.y, type: t.type,"
        " ids: t.ids, values: t.values, labels: t.labels}));",
        graph_id,
    )
    return traces


def plotly_layout_shapes(driver: webdriver.Chrome, graph_id: str) -> list[dict[str, Any]]:
    shapes: list[dict[str, Any]] = driver.execute_script(
        "const plot = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');"
        "return (plot.layout.shapes || []).map((s) => ({y0: s.y0, y1: s.y1}));",
        graph_id,
    )
    return shapes


def current_search(driver: webdriver.Chrome) -> str:
    search: str = driver.execute_script("return window.location.search")
    return search


def wait_for_graph(driver: webdriver.Chrome, graph_id: str, timeout: float = 60) -> None:
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: d.execute_script(
            "const e = document.getElementById(arguments[0]);"
            "const p = e && e.querySelector('.js-plotly-plot');"
            "return Boolean(p && p.data && p._fullLayout);",
            graph_id,
        )
    )


def wait_for_query(driver: webdriver.Chrome, query: str, timeout: float = 60) -> None:
    """Until the page drawn is the one for `query` (the URL's search, with its `?`)."""
    WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: (
            d.execute_script(
                "const page = document.querySelector('#page > .page');"
                "return page !== null && page.dataset.query === arguments[0];",
                query,
            )
            and page_ready(d)
        )
    )


def control(driver: webdriver.Chrome, name: str) -> Any:
    """The element of the page control `name` (Dash renders dict ids as JSON)."""
    return driver.execute_script(
        "return document.getElementById(arguments[0])", '{"control":"' + name + '"}'
    )
