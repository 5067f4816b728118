"""Small things that made charts hard to read: sparklines that used 12 of their 28 px and had no
tooltip, trend cells out of line with their row, a toolbar over the legend, columns of different
widths on one board, "1 days"."""

from __future__ import annotations

import math
import re
from urllib.parse import unquote

import pytest
from selenium import webdriver

from app.slo.windows import align_up
from app.testbed.scenarios import demo_history
from app.web import format as fmt
from app.web.components import SPARK_HEIGHT, sparkline_src, sparkline_title
from app.web.theme import UNATTRIBUTED, mode_colours
from tests.conftest import TEST_START
from tests.web.browsing import load, set_screen, wait_for_graph
from tests.web.conftest import Live


def _line_ys(src: str) -> tuple[float, list[float]]:
    svg = unquote(src.removeprefix("data:image/svg+xml,"))
    zero = float(re.search(r"<line[^>]* y1='([0-9.]+)'", svg).group(1))  # type: ignore[union-attr]
    points = re.search(r"points='([^']+)'", svg).group(1)  # type: ignore[union-attr]
    return zero, [float(pair.split(",")[1]) for pair in points.split()]


def test_sparklines_give_most_of_their_height_to_0_to_100_percent() -> None:
    zero, (full, *_rest, empty) = _line_ys(sparkline_src([1.0, 0.5, 0.0]))
    assert empty == zero
    assert zero - full >= 0.7 * SPARK_HEIGHT  # 20 of 28 px; it was 12
    _, overspent = _line_ys(sparkline_src([1.0, -3.0]))
    assert overspent[-1] <= SPARK_HEIGHT  # overspending sits on the floor, inside the image


def test_sparklines_say_what_they_show() -> None:
    assert sparkline_title([1.0, 0.4, 0.43]) == (
        "budget left over the range: 100.0% → 43.0% (lowest 40.0%)"
    )


def test_one_day_is_not_1_days_and_the_demo_lists_its_injected_failures() -> None:
    story = demo_history(TEST_START, 1440).story
    assert story.startswith("1 day from ") and "with these injected failures:" in story
    listed = [line for line in story.splitlines() if line.startswith("- ")]
    assert len(listed) == len(demo_history(TEST_START, 1440).scenario.injections) == 17
    # Read as a person reads them: kind, length and strength, no epoch seconds.
    for line in listed:
        assert re.fullmatch(r"- \d{4}-\d\d-\d\d \d\d:\d\d UTC: [A-Za-z]+ for \d+ min \(.+\)", line)
        assert "start=" not in line and str(TEST_START)[:6] not in line, line
    assert fmt.factor(0.9333333) == "0.93" and fmt.factor(14.4) == "14.4" and fmt.factor(6) == "6"
    rates = [0.0, 0.704, 9.994, 9.996, 15.04, 99.94, 99.96, 214.54, 1234.5]
    assert [fmt.rate(r) for r in rates] == [
        "0.00", "0.70", "9.99", "10.0", "15.0", "99.9", "100", "215", "1234"
    ]  # fmt: skip
    assert (fmt.counted(1, "SLO"), fmt.counted(2, "alert")) == ("1 SLO", "2 alerts")


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB hex colour."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_a_dozen_slos_get_colours_no_two_alike() -> None:
    """The failure modes page colours each SLO: the demo's eleven were drawn in ten colours,
    two of them near-twins (orange and amber)."""
    colours = list(mode_colours([f"service/slo-{i}" for i in range(12)]).values())
    labs = [_lab(colour) for colour in [*colours, UNATTRIBUTED]]
    closest = min(math.dist(labs[i], labs[j]) for i in range(len(labs)) for j in range(i) if j < 12)
    assert closest >= 25, closest


ROW_JS = """
return [...document.querySelectorAll(arguments[0] + ' tr.slo-row')].map((tr) => {
    const cells = [...tr.children].map((td) => td.getBoundingClientRect());
    return [Math.min(...cells.map((c) => c.bottom)), Math.max(...cells.map((c) => c.bottom))];
});
"""
WIDTHS_JS = """
return [...document.querySelectorAll('.board-group table')].map((table) =>
    [...table.querySelectorAll('thead th')].map((th) => Math.round(th.getBoundingClientRect().width)));
"""


@pytest.mark.browser
@pytest.mark.prometheus
@pytest.mark.slow
def test_tables_line_up_and_no_toolbar_covers_a_legend(
    live: Live, browser: webdriver.Chrome
) -> None:
    set_screen(browser, width=1440)
    load(browser, live.url + "/")
    for low, high in browser.execute_script(ROW_JS, "#overview-table"):
        assert high - low <= 1, "every cell of a row ends on the row's border"
    # A fast burn (the incident's 5m) reads as one number, never split over two lines.
    lines = browser.execute_script(
        "return [...document.querySelectorAll('#overview-table td.burn .num')]"
        ".map((n) => [n.textContent, n.getClientRects().length])"
    )
    assert lines and all(count == 1 for _, count in lines), lines
    assert any(float(text) >= 10 for text, _ in lines if text != fmt.MISSING), lines
    titles = browser.execute_script(
        "return [...document.querySelectorAll('img.spark')].map((i) => i.title)"
    )
    assert titles and all(t.startswith("budget left over the range: ") for t in titles)

    load(browser, live.url + "/boards/payments")
    widths = browser.execute_script(WIDTHS_JS)
    assert len(widths) > 1, "the payments board has a group per service"
    assert all(row == widths[0] for row in widths), widths

    load(browser, live.url + "/slo/checkout/checkout-success")
    wait_for_graph(browser, "chart-burn")
    assert browser.execute_script("return document.querySelectorAll('.modebar').length") == 0


@pytest.mark.browser
@pytest.mark.prometheus
@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "scope"), [("?range=6h", "the last 6h's budget"), ("", "the period's budget")]
)
def test_every_figure_says_what_it_is_a_share_of(
    live: Live, browser: webdriver.Chrome, query: str, scope: str
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/slo/checkout/checkout-success{query}")
    text = browser.find_element("id", "page").text
    for phrase in (
        "BUDGET LEFT (PERIOD)",
        "CONSUMED (PERIOD)",
        f"Share of {scope} left",
        f"as a share of {scope}; grey is unattributed",
        f"Over the selected range, as shares of {scope}.",
        f"Bar length: share of {scope}",
    ):
        assert phrase in text, phrase


@pytest.mark.browser
@pytest.mark.prometheus
@pytest.mark.slow
@pytest.mark.parametrize("width", [1440, 390])
def test_the_slo_lists_and_the_ranking_say_what_their_figures_are_shares_of(
    live: Live, browser: webdriver.Chrome, width: int
) -> None:
    """The SLOs page's budget and top spender are the period's, its trend the range's (on a
    phone each cell says so); the failure modes page says what a summed row means."""
    set_screen(browser, width=width)
    load(browser, live.url + "/?range=6h")
    labels = browser.execute_script(
        "const row = document.querySelector('#overview-table tr.slo-row');"
        "return [...row.querySelectorAll('td.remaining, td.top, td.spark')].map((td) =>"
        " [getComputedStyle(td, '::before').content, td.closest('table')"
        ".querySelectorAll('thead th')[td.cellIndex].textContent]);"
    )
    expected = ["Budget left (period)", "Top spender (period)", "Trend (range)"]
    assert [header for _, header in labels] == expected
    if width < 600:  # the cards' labels, drawn by the stylesheet
        assert [content.strip('"') for content, _ in labels] == expected
    load(browser, live.url + "/failure-modes?range=6h")
    text = browser.find_element("id", "page").text
    assert "shares of each SLO's budget for this range" in text
    assert "so 100% is one SLO's whole budget" in text
    # 30 days in 3-hour buckets: the range ends with the current hour, not hours in the future
    # (the buckets', or a custom end's: neither holds data yet).
    for query in ("", f"?range=custom&start=now-30d&end={live.end + 7200}"):
        load(browser, live.url + "/failure-modes" + query)
        shown = browser.find_element("id", "range-text").text
        assert f" → {fmt.moment(align_up(live.end, 3600))} (whole hours)" in shown, shown
