"""The pages of grouped SLOs against the truth of each group (`region_outage`, see
`tests.web.grouped_server`): the SLO page's worst groups in the order and with the figures of
the ledger and of the truth, a group's own page (its budget, burn chart, attribution to the
failure mode that burned it, alerts), the groups counted in "other", and the overview with its
grouped SLOs collapsed or expanded."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.keys import Keys

from app.testbed.series import REGIONS
from app.testbed.window import WindowTruth
from tests.engine.test_accuracy import epoch
from tests.web.browsing import (
    PHONE,
    console_errors,
    control,
    current_search,
    figure_of,
    load,
    plotly_data,
    set_screen,
    slo_rows,
    wait_for_graph,
    wait_for_query,
)
from tests.web.grouped_server import CAPPED, KEY, GroupedLive, group_key, grouped  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

SLO_PATH = f"/slo/{KEY}"


@pytest.fixture(scope="module")
def api(grouped: GroupedLive) -> Any:  # noqa: F811
    with httpx.Client(base_url=grouped.url, timeout=30) as client:
        yield client


def get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    response.raise_for_status()
    return response.json()


def region_window(live: GroupedLive, region: str, report: dict[str, Any]) -> WindowTruth:
    """The truth of one region over the report's period window."""
    start = epoch(report["window"]["start"])
    return live.truth.slo(group_key(region)).window(start, live.end)


def close(shown: float, truth: float | None, rel: float = 0.01) -> bool:
    assert truth is not None
    return abs(shown - truth) <= rel * abs(truth)


GROUP_ROWS_JS = """
return [...document.querySelectorAll(arguments[0] + ' tr.group-row')].map((tr) => ({
    key: tr.dataset.key,
    group: tr.querySelector('a.group-link').dataset.group,
    href: tr.querySelector('a.group-link').getAttribute('href'),
    consumed: Number(tr.querySelector('.group-consumed .num').dataset.value),
    remaining: Number(tr.querySelector('td.remaining .num').dataset.value),
    burn: Object.fromEntries([...tr.querySelectorAll('td.burn')].map(
        (td) => [td.dataset.window, td.querySelector('.num').dataset.value])),
    top: (tr.querySelector('td.top .spender-cell') || {dataset: {}}).dataset.name || null,
    policy: tr.querySelector('td.policy').dataset.value,
    spark: (tr.querySelector('img.spark') || {dataset: {}}).dataset.points || null,
}));
"""


def group_rows(browser: webdriver.Chrome, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = browser.execute_script(GROUP_ROWS_JS, table)
    return rows


def test_worst_groups_are_the_ledgers_in_order_and_match_each_regions_truth(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, grouped.url + SLO_PATH)
    rows = group_rows(browser, "#group-table")
    listed = get(api, f"/api/v1/slos/{SLO_PATH[5:]}/groups")
    # Worst budget first, as the API sorts them in the database: the burning region on top.
    assert [row["key"] for row in rows] == [item["key"] for item in listed["items"]]
    assert [row["group"] for row in rows] == ["region=us-east", "region=eu-west"]
    section = browser.find_element("id", "worst-groups")
    assert section.get_attribute("data-total") == str(listed["total"]) == "2"
    problems = []
    for row, item in zip(rows, listed["items"], strict=True):
        region = item["labels"]["region"]
        truth = region_window(grouped, region, item)
        if not close(row["consumed"], truth.consumed):
            problems.append(f"{region}: consumed {row['consumed']} vs truth {truth.consumed}")
        if row["consumed"] != item["budget"]["consumed"]:
            problems.append(f"{region}: consumed {row['consumed']} is not the ledger's")
        if row["remaining"] != item["budget"]["remaining"]:
            problems.append(f"{region}: remaining {row['remaining']} is not the ledger's")
        for window, value in row["burn"].items():
            expected = item["burn_rates"][window]
            if value != fmt_raw(expected):
                problems.append(f"{region}: burn {window} {value} != {expected}")
        for window, seconds in (("1h", 3600), ("6h", 6 * 3600), ("1d", 86400)):
            burn = grouped.truth.slo(group_key(region)).window(grouped.end - seconds, grouped.end)
            if not close(float(row["burn"][window]), burn.burn_rate, 0.02):
                problems.append(f"{region}: burn {window} {row['burn'][window]} vs truth")
        # The trend line burns down to what the period spent: its last point is 1 - consumed.
        last = float(str(row["spark"]).split()[-1]) if row["spark"] else None
        if last is None or not close(1.0 - last, truth.consumed):
            problems.append(f"{region}: trend ends at {last}, truth consumed {truth.consumed}")
        if row["policy"] != item["policy"]:
            problems.append(f"{region}: policy {row['policy']} != {item['policy']}")
        assert row["href"] == f"{SLO_PATH}?group={quote(f'region:{region}', safe='')}"
    assert not problems, "\n".join(problems)
    # The top spender: us-east's own outage, eu-west's the backlog it shares with us-east.
    assert rows[0]["top"] == "region-outage"
    assert rows[0]["consumed"] > 10 * rows[1]["consumed"]
    assert browser.find_elements("id", "groups-overflow") == []  # no group beyond the cap


def fmt_raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


ATTRIBUTION_JS = """
const out = {};
for (const tr of document.querySelectorAll('#attribution-table tbody tr')) {
    const cell = (name) => Number(tr.querySelector('td.' + name + ' .num').dataset.value);
    out[tr.dataset.mode || tr.id] = {consumed: cell('consumed'), share: cell('share')};
}
return out;
"""


@pytest.mark.parametrize("region", REGIONS)
def test_a_groups_page_shows_its_budget_burn_attribution_and_alerts(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
    region: str,
) -> None:
    set_screen(browser)
    load(browser, grouped.url + SLO_PATH)
    link = browser.find_element("css selector", f'a.group-link[data-group="region={region}"]')
    link.click()  # in-app navigation to the group's URL
    wait_for_query(browser, f"?group={quote(f'region:{region}', safe='')}")
    crumb = browser.find_element("id", "group-crumb")
    assert crumb.get_attribute("data-group") == f"region={region}"
    parent = browser.find_element("id", "group-parent").get_attribute("href")
    assert parent == grouped.url + SLO_PATH
    # Replay is per SLO: the group's page points to its SLO's panel instead of offering one.
    assert browser.find_elements("id", "replay-controls") == []
    assert "replay on the SLO's page" in browser.find_element("id", "replay-group").text
    assert (
        browser.find_element("id", "page-title").text
        == f"storefront / availability-by-region · region={region}"
    )
    report = get(api, f"/api/v1/slos/{KEY}/groups/report", group=f"region:{region}")
    truth = region_window(grouped, region, report)
    consumed = float(figure_of(browser, "detail-consumed")[0])
    assert consumed == report["budget"]["consumed"]
    assert close(consumed, truth.consumed)
    for window in ("1h", "6h", "1d"):
        assert figure_of(browser, f"detail-burn-{window}")[0] == fmt_raw(
            report["burn_rates"][window]
        )
    # Attribution over the period: each mode's budget and share of bad events, as the truth's.
    shown = browser.execute_script(ATTRIBUTION_JS)
    for mode in ("region-outage", "orders-backlog"):
        share = truth.share(mode) or 0.0
        assert shown[mode]["share"] == pytest.approx(share, abs=0.01), mode
        assert shown[mode]["consumed"] == pytest.approx(
            share * (truth.consumed or 0.0), rel=0.01, abs=1e-9
        ), mode
    if region == "us-east":
        assert shown["region-outage"]["share"] > 0.9  # the burning group: its own outage
    else:
        assert shown["region-outage"]["consumed"] == 0.0  # the healthy one: none of it
        assert shown["orders-backlog"]["consumed"] > 0  # the global mode spends every group
    # The charts are the group's: each burn line ends at the group's trailing-window rate (and
    # the truth's), the stacked consumption adds up to each mode's budget share.
    wait_for_graph(browser, "chart-burn")
    lines = {trace["name"]: trace["y"] for trace in plotly_data(browser, "chart-burn")}
    assert {"6h", "1d"} <= set(lines)
    for window, seconds in (("6h", 6 * 3600), ("1d", 86400)):
        assert lines[window][-1] == pytest.approx(report["burn_rates"][window], rel=1e-9)
        slo_truth = grouped.truth.slo(group_key(region))
        assert close(
            lines[window][-1], slo_truth.window(grouped.end - seconds, grouped.end).burn_rate, 0.02
        )
    wait_for_graph(browser, "chart-consumed")
    stacked = {trace["name"]: trace["y"] for trace in plotly_data(browser, "chart-consumed")}
    for mode in ("region-outage", "orders-backlog"):
        spent = (truth.share(mode) or 0.0) * (truth.consumed or 0.0)
        assert sum(stacked[mode]) == pytest.approx(spent, rel=0.01, abs=1e-9), mode
    # Alert state: the group's own alerts, as the API lists them.
    firing = sorted(a["tier"] for a in get(api, "/api/v1/alerts") if a["key"] == report["key"])
    tiers = sorted(
        e.get_attribute("data-tier")
        for e in browser.find_elements("css selector", "#detail-alerts .firing")
    )
    assert tiers == firing


def test_the_burning_group_alerts_and_the_healthy_one_does_not(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
) -> None:
    """The worst groups' alert cells and each group page's timeline are the group's own."""
    set_screen(browser)
    load(browser, grouped.url + SLO_PATH)
    firing = get(api, "/api/v1/alerts")
    counts = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#group-table tr.group-row')]"
        ".map((tr) => { const b = tr.querySelector('td.alerts .badges');"
        " return [tr.dataset.key, b ? Number(b.dataset.count) : 0]; }))"
    )
    for region in REGIONS:
        key = group_key(region)
        assert counts[key] == sum(1 for alert in firing if alert["key"] == key), region
    assert counts[group_key("us-east")] > 0 and counts[group_key("eu-west")] == 0
    load(browser, f"{grouped.url}{SLO_PATH}?group=region:us-east")
    rows = browser.find_elements("css selector", "#alert-timeline tbody tr")
    summaries = [row.text for row in rows]
    assert summaries and all('region="us-east"' in text for text in summaries)


def test_the_groups_beyond_max_groups_are_counted_in_other_and_shown(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, f"{grouped.url}/slo/{CAPPED}")
    listed = get(api, f"/api/v1/slos/{CAPPED}/groups")
    note = browser.find_element("id", "groups-overflow")
    overflow = listed["overflow"]
    assert note.get_attribute("data-count") == str(overflow["count"]) == "1"
    named = [f"region={labels['region']}" for labels in overflow["groups"]]
    assert "1 group counted in other (beyond max_groups: 1)" in note.text
    assert all(name in note.text for name in named)
    rows = group_rows(browser, "#group-table")
    assert [row["key"] for row in rows] == [item["key"] for item in listed["items"]]
    other = next(row for row in rows if row["group"] == "other")
    # "other" holds the region beyond the cap: its figures are that region's truth.
    (region,) = (labels["region"] for labels in overflow["groups"])
    item = next(i for i in listed["items"] if i["key"] == other["key"])
    assert other["consumed"] == item["budget"]["consumed"]
    assert close(other["consumed"], region_window(grouped, region, item).consumed)
    load(browser, grouped.url + other["href"])
    crumb = browser.find_element("id", "group-crumb")
    assert crumb.get_attribute("data-group") == "other"
    assert "beyond max_groups" in crumb.text
    assert float(figure_of(browser, "detail-consumed")[0]) == item["budget"]["consumed"]


HINTS_JS = """
return Object.fromEntries([...document.querySelectorAll('#overview-table tr.grouped-slo')]
    .map((tr) => { const h = tr.querySelector('.group-hint');
        return [tr.dataset.key, [h.dataset.total, h.dataset.worst, h.dataset.overflow]]; }));
"""
ORDER_JS = """
return [...document.querySelectorAll('#overview-table tbody tr')].map((tr) =>
    (tr.classList.contains('group-row') ? '  ' : '') + tr.dataset.key);
"""


def test_the_overview_collapses_grouped_slos_by_default_and_expands_them(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, grouped.url + "/")
    slos = [row["key"] for row in slo_rows(browser)]
    assert slos == [item["key"] for item in get(api, "/api/v1/slos")["items"]]
    assert browser.find_elements("css selector", "#overview-table tr.group-row") == []
    hints = browser.execute_script(HINTS_JS)
    for key in (KEY, CAPPED):
        listed = get(api, f"/api/v1/slos/{key}/groups")
        worst = listed["items"][0]["labels"]["region"]
        name = "other" if worst == "__other__" else f"region={worst}"
        assert hints[key] == [str(listed["total"]), name, str(listed["overflow"]["count"])]
    assert hints[KEY] == ["2", "region=us-east", "0"]  # the truth: us-east burnt, eu-west did not
    # Expanded: each grouped SLO's worst groups, indented beneath it, worst first.
    control(browser, "groups").find_element("css selector", "input[value='expanded']").click()
    wait_for_query(browser, "?groups=expanded")
    expected = []
    for key in slos:
        expected.append(key)
        listed = get(api, f"/api/v1/slos/{key}/groups", limit=5)
        expected += [f"  {item['key']}" for item in listed["items"]]
    assert browser.execute_script(ORDER_JS) == expected
    figures = {row["key"]: row for row in group_rows(browser, "#overview-table")}
    for region in REGIONS:
        item = get(api, f"/api/v1/slos/{KEY}/groups/report", group=f"region:{region}")
        assert figures[group_key(region)]["consumed"] == item["budget"]["consumed"]
        assert figures[group_key(region)]["spark"], region  # the group's own trend line
    # The state is the URL's: a reload keeps it, collapsing takes the groups away again.
    load(browser, f"{grouped.url}/?groups=expanded")
    assert len(group_rows(browser, "#overview-table")) == 4
    control(browser, "groups").find_element("css selector", "input[value='collapsed']").click()
    wait_for_query(browser, "")
    assert current_search(browser) == ""
    assert browser.find_elements("css selector", "#overview-table tr.group-row") == []


PHONE_PAGES = [
    "/?groups=expanded",
    SLO_PATH,
    f"{SLO_PATH}?group=region:us-east",
    f"/slo/{CAPPED}",
    f"/slo/{CAPPED}?group=__other__",
]
FITS_JS = """
const width = document.documentElement.clientWidth;
const parts = [...document.querySelectorAll(
    '#worst-groups, #group-crumb, #groups-overflow, tr.group-row, tr.grouped-slo, .group-hint')];
return {
    overflow: document.documentElement.scrollWidth - width,
    parts: parts.length,
    outside: parts.filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .map((e) => e.id || e.className),
};
"""


def test_the_grouped_parts_fit_a_phone(
    grouped: GroupedLive,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser, width=PHONE)
    problems = []
    console_errors(browser)  # start from an empty log
    try:
        for path in PHONE_PAGES:
            load(browser, grouped.url + path)
            found = browser.execute_script(FITS_JS)
            if found["overflow"] > 0 or found["outside"] or not found["parts"]:
                problems.append(f"{path}: {found}")
            errors = console_errors(browser)
            if errors:
                problems.append(f"{path}: console errors {errors}")
    finally:
        set_screen(browser)
    assert not problems, "\n".join(problems)


def test_a_group_the_page_cannot_find_says_so(
    grouped: GroupedLive,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    for query, message in (
        ("?group=region:mars", "has no group region=mars"),
        ("?group=zone:a", "name the group by all of its labels: region"),
        ("?group=nonsense", "group:"),
    ):
        load(browser, f"{grouped.url}{SLO_PATH}{query}")
        assert message in browser.find_element("id", "not-found").text, query


def test_a_groups_page_keeps_the_group_when_the_range_changes(
    grouped: GroupedLive,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, f"{grouped.url}{SLO_PATH}?group=region:us-east")
    control(browser, "range").find_element("css selector", "input[value='6h']").click()
    wait_for_query(browser, f"?range=6h&group={quote('region:us-east', safe='')}")
    assert browser.find_element("id", "group-crumb").get_attribute("data-group") == (
        "region=us-east"
    )
    # The attribution now covers the last 6 hours: the truth of us-east over that window.
    window = grouped.truth.slo(group_key("us-east")).window(grouped.end - 6 * 3600, grouped.end)
    shown = browser.execute_script(ATTRIBUTION_JS)
    assert window.consumed is not None
    spent = (window.share("region-outage") or 0.0) * window.consumed
    assert shown["region-outage"]["consumed"] == pytest.approx(spent, rel=0.01)


def test_an_alert_of_a_group_links_to_the_groups_page(
    grouped: GroupedLive,  # noqa: F811
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, grouped.url + "/alerts")
    key = group_key("us-east")
    links = browser.execute_script(
        "return [...document.querySelectorAll('tr.alert-row')]"
        ".filter((tr) => tr.dataset.key === arguments[0])"
        ".map((tr) => tr.querySelector('a').getAttribute('href'));",
        key,
    )
    assert links, "us-east's alerts are listed"
    assert {link.split("?")[0] for link in links} == {SLO_PATH}
    assert all(f"group={quote('region:us-east', safe='')}" in link for link in links)
    browser.find_element("css selector", f"tr.alert-row[data-key='{key}'] a").click()
    wait_for_graph(browser, "chart-burn")
    crumb = browser.find_element("id", "group-crumb")
    assert crumb.get_attribute("data-group") == "region=us-east"


def test_the_groups_can_be_searched_and_paged(
    grouped: GroupedLive,  # noqa: F811
    api: httpx.Client,
    browser: webdriver.Chrome,
) -> None:
    set_screen(browser)
    load(browser, grouped.url + SLO_PATH)
    control(browser, "group_search").send_keys("west" + Keys.ENTER)
    wait_for_query(browser, "?group_search=west")
    listed = get(api, f"/api/v1/slos/{KEY}/groups", search="west")
    rows = group_rows(browser, "#group-table")
    assert [row["key"] for row in rows] == [item["key"] for item in listed["items"]]
    assert [row["group"] for row in rows] == ["region=eu-west"]
    assert browser.find_element("id", "groups-span").text == "Groups 1–1 of 1"
    # A page further on: the API's page at that offset, with a link back.
    load(browser, f"{grouped.url}{SLO_PATH}?group_offset=1")
    page = get(api, f"/api/v1/slos/{KEY}/groups", offset=1, limit=10)
    assert [row["key"] for row in group_rows(browser, "#group-table")] == [
        item["key"] for item in page["items"]
    ]
    assert browser.find_element("id", "groups-span").text == "Groups 2–2 of 2"
    assert browser.find_elements("id", "groups-next") == []
    browser.find_element("id", "groups-previous").click()
    wait_for_query(browser, "")
    assert [row["group"] for row in group_rows(browser, "#group-table")] == [
        "region=us-east",
        "region=eu-west",
    ]
