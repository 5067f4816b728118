"""The overview and the boards show the API's figures, in the API's order, for any filter."""

from __future__ import annotations

import httpx
import pytest
from selenium import webdriver

from app.engine.view_models import History
from app.engine.views import burndown
from app.web import format as fmt
from app.web.slo_table import BURN_WINDOWS
from tests.web.browsing import load, set_screen, slo_rows
from tests.web.conftest import Live
from tests.web.expect import keys, mismatches, params_of, range_params

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

# Page queries use the API's own parameter names, so each can be sent to the API unchanged.
FILTERS = [
    "",
    "?sort=name",
    "?sort=burn_rate",
    "?policy=exhausted",
    "?policy=healthy&policy=watch",
    "?service=checkout&service=orders",
    "?label=team:payments",
    "?label=tier:1&sort=burn_rate",
    "?status=ok",
    "?search=read",
    "?search=nothing-matches-this",
]


def api_list(api: httpx.Client, query: str) -> list[dict[str, object]]:
    params = [(k, v) for k, v in params_of(query) if k not in {"range", "refresh"}]
    response = api.get("/api/v1/slos", params=[*params, ("limit", "1000")])
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["items"]
    return items


def row_mismatches(row: dict[str, object], item: dict[str, object]) -> list[str]:
    budget = item["budget"]
    burn = item["burn_rates"]
    assert isinstance(budget, dict) and isinstance(burn, dict)
    pairs = [("remaining", row["remaining"], budget["remaining"], fmt.percent(budget["remaining"]))]
    shown_burn = row["burn"]
    assert isinstance(shown_burn, dict)
    pairs += [
        (f"burn {window}", shown_burn[window], burn[window], fmt.rate(burn[window]))
        for window in BURN_WINDOWS
    ]
    found = [f"{item['key']} {problem}" for problem in mismatches(pairs)]  # type: ignore[arg-type]
    if (row["status"], row["policy"]) != (item["status"], item["policy"]):
        found.append(f"{item['key']}: {row['status']}/{row['policy']} != API")
    return found


def test_every_row_shows_the_apis_figures(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, live.url + "/")
    rows = slo_rows(browser)
    items = api_list(api, "")
    assert len(items) == 11
    assert [row["key"] for row in rows] == keys(items)  # worst budget first, as the API sorts
    problems = [p for row, item in zip(rows, items, strict=True) for p in row_mismatches(row, item)]
    assert not problems, "\n".join(problems)
    hot = [row for row in rows if row["policy"] == "exhausted"]
    assert hot, "the overlapping scenario exhausts some budgets"


@pytest.mark.parametrize("query", FILTERS)
def test_filters_and_sorting_keep_the_apis_rows(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, query: str
) -> None:
    set_screen(browser)
    load(browser, live.url + "/" + query)
    shown = [row["key"] for row in slo_rows(browser)]
    expected = keys(api_list(api, query))
    assert shown == expected
    if not expected:
        assert browser.find_element("id", "overview-empty").is_displayed()


@pytest.mark.parametrize("query", ["", "?range=6h", "?range=custom&start=now-5h&end=now-1h"])
def test_trend_lines_are_the_api_history_burned_down(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, query: str
) -> None:
    set_screen(browser)
    load(browser, live.url + "/" + query)
    checked = 0
    for row in slo_rows(browser):
        spark = row["spark"]
        assert isinstance(spark, dict), f"{row['key']} has no trend line"
        response = api.get(
            f"/api/v1/slos/{row['key']}/history",
            params={"resolution": spark["resolution"], **range_params(query)},
        )
        response.raise_for_status()
        expected = burndown(History.model_validate(response.json()))
        shown = [float(value) for value in str(spark["points"]).split()]
        # SQL sums the hourly rollups in its own order: equal to the API's to rounding.
        assert shown == pytest.approx(expected, rel=1e-12, abs=1e-12), row["key"]
        checked += 1
    assert checked == 11


BOARDS = {
    "payments": ("label=team:payments", "service"),
    "fulfilment": ("label=team:fulfilment", "service"),
    "tier-1": ("label=tier:1", "policy"),
}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_boards_group_the_slos_their_selectors_choose(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, board: str
) -> None:
    selector, group_by = BOARDS[board]
    set_screen(browser)
    load(browser, f"{live.url}/boards/{board}")
    items = api_list(api, "?" + selector)
    assert items, f"board {board} selects nothing"
    groups = browser.execute_script(
        "return [...document.querySelectorAll('.board-group')].map((section) => "
        "[section.dataset.group, [...section.querySelectorAll('tr.slo-row')]"
        ".map((tr) => tr.dataset.key)])"
    )
    expected: dict[str, list[str]] = {}
    for item in items:  # the API's order (worst budget first) within each group
        group = item["service"] if group_by == "service" else item["policy"]
        expected.setdefault(str(group), []).append(str(item["key"]))
    assert dict(groups) == expected
    if group_by == "policy":
        order = ["exhausted", "at-risk", "watch", "healthy"]
        assert [name for name, _ in groups] == [name for name in order if name in expected]
    else:
        assert [name for name, _ in groups] == sorted(expected)
    by_key = {item["key"]: item for item in items}
    rows = [
        row
        for table in browser.find_elements("css selector", ".board-group table")
        for row in slo_rows(browser, f"#{table.get_attribute('id')}")
    ]
    problems = [p for row in rows for p in row_mismatches(row, by_key[row["key"]])]
    assert not problems, "\n".join(problems)


def test_alerts_column_shows_what_the_api_says_fires(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    firing = api.get("/api/v1/alerts").json()
    assert firing, "the server stops mid-incident: some alerts fire"
    set_screen(browser)
    load(browser, live.url + "/")
    cells = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#overview-table tr.slo-row')]"
        ".map((tr) => { const b = tr.querySelector('td.alerts .badges');"
        " return [tr.dataset.key, b ? b.dataset.tiers : '']; }))"
    )
    expected: dict[str, list[str]] = {}
    for alert in firing:
        expected.setdefault(alert["key"], []).append(alert["tier"])
    assert {key: tiers for key, tiers in cells.items() if tiers} == {
        key: " ".join(sorted(tiers)) for key, tiers in expected.items()
    }
    paging = len({alert["key"] for alert in firing if alert["severity"] == "page"})
    summary = browser.find_element("css selector", ".summary").text
    alerts_word = "alert" if len(firing) == 1 else "alerts"
    slos_word = "SLO" if paging == 1 else "SLOs"
    assert f"{len(firing)} {alerts_word} firing ({paging} {slos_word} paging)" in summary
