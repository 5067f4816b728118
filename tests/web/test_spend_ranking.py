"""Unattributed spend is first-class wherever spend is ranked: the failure-modes chart and table,
the overview's top-spender column; and incompatible units (bad requests, bad minutes) are never
added together. Each figure is checked against the API's answer for the same range."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from selenium import webdriver
from typer.testing import CliRunner

from app.cli import cli
from tests.web.browsing import load, set_screen, wait_for_graph
from tests.web.conftest import Live
from tests.web.expect import range_params
from tests.web.harness import REPO

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

FIGURE_JS = """
const plot = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');
return {
    data: plot.data.map((t) => ({name: t.name, x: t.x, y: t.y, text: t.text})),
    layout: {
        xaxis: {type: plot._fullLayout.xaxis.type, range: plot._fullLayout.xaxis.range},
        categories: plot._fullLayout.yaxis._categories,
        uniformtext: plot._fullLayout.uniformtext,
    },
};
"""
TABLE_JS = """
return [...document.querySelectorAll('#ranking-table tbody tr')].map((tr) => {
    const consumed = tr.querySelector('td.consumed .num');
    const events = tr.querySelector('td.bad [data-events]');
    const seconds = tr.querySelector('td.bad [data-seconds]');
    return {
        group: tr.dataset.group,
        unattributed: tr.classList.contains('unattributed-row'),
        consumed: Number(consumed.dataset.value),
        events: events ? Number(events.dataset.events) : 0,
        seconds: seconds ? Number(seconds.dataset.seconds) : 0,
    };
});
"""


def figure(browser: webdriver.Chrome, graph_id: str) -> dict[str, Any]:
    wait_for_graph(browser, graph_id)
    found: dict[str, Any] = browser.execute_script(FIGURE_JS, graph_id)
    return found


def attribution(api: httpx.Client, **params: str) -> dict[str, Any]:
    response = api.get("/api/v1/attribution", params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def timeslice_units(api: httpx.Client) -> dict[str, int]:
    items = api.get("/api/v1/slos", params={"limit": 1000}).json()["items"]
    definitions = {item["key"]: item for item in items}
    return {
        key: item["sampling"]["slice_seconds"] if item.get("sampling") else 60
        for key, item in definitions.items()
        if item["budgeting"] == "timeslices"
    }


@pytest.mark.parametrize("query", ["", "?range=6h"])
def test_the_ranking_chart_and_table_rank_unattributed_with_the_named_modes(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, query: str
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/failure-modes{query}")
    body = attribution(api, **range_params(query, period="30d"))
    unnamed = math.fsum(share["consumed"] for share in body["unattributed"])
    assert unnamed > 0, "the scenario has errors no failure mode names"
    totals = {g["group"]: g["consumed"] for g in body["groups"] if g["consumed"] > 0}
    totals["unattributed"] = unnamed
    ranked = sorted(totals, key=lambda name: -totals[name])

    drawn = figure(browser, "chart-ranking")
    bars: dict[str, float] = {}
    for trace in drawn["data"]:
        for x, y in zip(trace["x"], trace["y"], strict=True):
            bars[y] = bars.get(y, 0.0) + x
    assert bars == pytest.approx(totals)
    # Categories are listed bottom-up: the biggest spender is drawn at the top.
    assert list(reversed(drawn["layout"]["categories"])) == ranked
    assert drawn["layout"]["xaxis"]["type"] == "linear"
    assert drawn["layout"]["xaxis"]["range"][0] == 0

    rows = browser.execute_script(TABLE_JS)
    assert [row["group"] for row in rows] == sorted(
        [g["group"] for g in body["groups"]] + ["unattributed"],
        key=lambda name: -totals.get(name, 0.0),
    )
    shown = next(row for row in rows if row["unattributed"])
    assert shown["consumed"] == pytest.approx(unnamed)


def test_the_bad_column_never_adds_bad_minutes_to_bad_requests(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/failure-modes?group_by=design_choice")
    body = attribution(api, start="now-30d", group_by="design_choice")
    units = timeslice_units(api)
    assert units, "the shipped SLOs include timeslice SLOs"
    rows = {row["group"]: row for row in browser.execute_script(TABLE_JS)}
    mixed = 0
    shares = [(group["group"], group["slos"]) for group in body["groups"]]
    shares.append(("unattributed", body["unattributed"]))
    for name, slo_shares in shares:
        events = math.fsum(s["bad"] for s in slo_shares if s["slo"] not in units)
        seconds = math.fsum(s["bad"] * units[s["slo"]] for s in slo_shares if s["slo"] in units)
        row = rows[name]
        assert row["events"] == pytest.approx(events), name
        assert row["seconds"] == pytest.approx(seconds), name
        mixed += bool(events and seconds)
    # Unattributed spend hits events SLOs and timeslice SLOs (replica-lag) alike.
    assert mixed, "some row has both bad events and bad time, shown apart"


def test_the_overview_names_each_slos_top_spender_unattributed_included(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    load(browser, live.url + "/")
    shown = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#overview-table tr.slo-row')]"
        ".map((tr) => { const s = tr.querySelector('td.top [data-name]');"
        " return [tr.dataset.key, s ? s.dataset.name : null]; }))"
    )
    items = api.get("/api/v1/slos", params={"limit": 1000}).json()["items"]
    unattributed_tops = 0
    for item in items:
        candidates = [(row["bad"], row["failure_mode"]) for row in item["attribution"]]
        candidates.append((item["unattributed"]["bad"], "unattributed"))
        spent = [c for c in candidates if c[0] > 0]
        expected = max(spent, key=lambda c: (c[0], c[1] != "unattributed"))[1] if spent else None
        assert shown[item["key"]] == expected, item["key"]
        unattributed_tops += expected == "unattributed"
    assert unattributed_tops, "some SLO's budget was spent mostly by unnamed causes"


def test_faultline_report_calls_unattributed_the_top_spender_when_it_spent_most(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's table over the same ledger: never a small named mode ahead of unexplained spend."""
    monkeypatch.setenv("COLUMNS", "220")  # rich fits the table to the terminal
    base = [
        "report",
        "--at",
        str(live.end),
        "--database-url",
        live.engine.store.url,
        "--definitions",
        str(REPO / "slo_definitions"),
    ]
    reports = json.loads(CliRunner().invoke(cli, [*base, "--json"]).stdout)["slos"]
    table = CliRunner().invoke(cli, base).stdout
    lines = {line.split("│")[1].strip(): line for line in table.splitlines() if "│" in line}
    unexplained = 0
    for item in reports:
        spent = [
            (row["bad"], f"{row['failure_mode']} ({row['design_choice']}) {row['share']:.1%}")
            for row in item["attribution"]
            if row["bad"] > 0
        ]
        rest = item["unattributed"]
        if rest["bad"] > 0:
            spent.append((rest["bad"], f"unattributed {rest['share']:.1%}"))
        expected = max(spent, key=lambda pair: pair[0])[1] if spent else "–"
        assert expected in lines[item["key"]], (item["key"], expected)
        unexplained += expected.startswith("unattributed")
    assert unexplained, "some SLO spent mostly on causes nobody named"
