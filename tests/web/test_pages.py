"""Every page in a real browser, light and dark, desktop and phone: no console errors, no
sideways scrolling on a phone, and a screenshot of each kept under test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver

from tests.web.browsing import DESKTOP, PHONE, console_errors, load, screenshot, set_screen
from tests.web.conftest import Live

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

PAGES = {
    "overview": "/",
    "slo-checkout-success": "/slo/checkout/checkout-success",
    "slo-order-status-reads-6h": "/slo/orders/order-status-reads?range=6h",
    "failure-modes": "/failure-modes",
    "alerts": "/alerts",
    "boards": "/boards",
    "board-payments": "/boards/payments",
    "board-tier-1": "/boards/tier-1",
    "operations": "/operations",
}
SCREENS = [
    pytest.param(DESKTOP, False, id="light-1280"),
    pytest.param(DESKTOP, True, id="dark-1280"),
    pytest.param(PHONE, False, id="light-390"),
    pytest.param(PHONE, True, id="dark-390"),
]

BACKGROUND_JS = "return getComputedStyle(document.body).backgroundColor"


def luminance(css_rgb: str) -> float:
    red, green, blue = (int(part) for part in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize(("width", "dark"), SCREENS)
def test_every_page_loads_cleanly_and_reads_well(
    live: Live, browser: webdriver.Chrome, screenshots: Path, width: int, dark: bool
) -> None:
    set_screen(browser, width=width, dark=dark)
    console_errors(browser)  # start from an empty log
    problems = []
    for name, path in PAGES.items():
        load(browser, live.url + path)
        errors = console_errors(browser)
        if errors:
            problems.append(f"{path}: console errors {errors}")
        theme = browser.execute_script("return document.documentElement.dataset.theme")
        background = luminance(browser.execute_script(BACKGROUND_JS))
        if theme != ("dark" if dark else "light") or (background < 0.5) != dark:
            problems.append(f"{path}: theme {theme!r}, background luminance {background:.2f}")
        if browser.find_elements("id", "not-found"):
            problems.append(f"{path}: page says not found")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{path}: {overflow}px wider than a {width}px screen")
        scheme = "dark" if dark else "light"
        screenshot(browser, screenshots / f"{name}-{scheme}-{width}.png", width=width)
    assert not problems, "\n".join(problems)
