"""The SLO page shows the API's report, history and attribution for the chosen range, and the
burn-rate chart agrees with the ledger's own window sums and the alert policy's factors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium import webdriver

from app.engine.corrections import create_correction, delete_correction
from app.engine.view_models import History
from app.engine.views import burndown
from app.slo.burn_alerts import burn_rate_factor
from app.slo.correction_spec import CorrectionSpec
from app.slo.corrections import Correction
from app.web import format as fmt
from tests.web.browsing import (
    figure_of,
    load,
    plotly_data,
    set_screen,
    wait_for_graph,
)
from tests.web.conftest import Live
from tests.web.expect import mismatches, range_params

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

HEADLINE_WINDOWS = ("5m", "1h", "6h", "1d", "3d")
CASES = [
    ("checkout/checkout-success", ""),  # three modes, unattributed 500s, a budget incident
    ("checkout/checkout-success", "?range=6h"),
    ("checkout/checkout-success", "?range=custom&start=now-40m&end=now-15m"),
    ("orders/order-status-reads", "?range=1d"),  # 28-day period: other alert factors
    ("orders/queue-freshness", ""),  # timeslices, no failure mode of its own spending
]


def get(api: httpx.Client, path: str, **params: str) -> Any:
    response = api.get(path, params=params)
    response.raise_for_status()
    return response.json()


def attribution_rows(browser: webdriver.Chrome) -> dict[str, dict[str, list[str]]]:
    rows: dict[str, dict[str, list[str]]] = browser.execute_script(
        "const out = {};"
        "for (const tr of document.querySelectorAll('#attribution-table tbody tr')) {"
        "  const cell = (name) => { const n = tr.querySelector('td.' + name + ' .num');"
        "    return n ? [n.dataset.value, n.textContent] : null; };"
        "  out[tr.id] = {consumed: cell('consumed'), share: cell('share'), bad: cell('bad')};"
        "}"
        "return out;"
    )
    return rows


@pytest.mark.parametrize(("key", "query"), CASES)
def test_figures_and_charts_are_the_apis(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, key: str, query: str
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/slo/{key}{query}")
    params = range_params(query)
    at = {"at": params["end"]} if "end" in params else {}
    report = get(api, f"/api/v1/slos/{key}", **at)
    history = History.model_validate(get(api, f"/api/v1/slos/{key}/history", **params))
    attribution = get(api, f"/api/v1/slos/{key}/attribution", **params)

    # Headline: the report at the range's end.
    budget = report["budget"]
    pairs = [
        (
            "remaining",
            figure_of(browser, "detail-remaining"),
            budget["remaining"],
            fmt.percent(budget["remaining"]),
        ),
        (
            "consumed",
            figure_of(browser, "detail-consumed"),
            budget["consumed"],
            fmt.percent(budget["consumed"]),
        ),
        ("sli", figure_of(browser, "detail-sli"), report["sli"], fmt.ratio(report["sli"])),
    ]
    pairs += [
        (
            f"burn {w}",
            figure_of(browser, f"detail-burn-{w}"),
            report["burn_rates"][w],
            fmt.rate(report["burn_rates"][w]),
        )
        for w in HEADLINE_WINDOWS
    ]
    # Attribution over the range: every group, and the unattributed rest.
    rows = attribution_rows(browser)
    for group in attribution["groups"]:
        share = next(s["share"] for s in group["slos"] if s["slo"] == key)
        row = rows[f"mode-{group['group']}"]
        pairs += [
            (
                f"{group['group']} consumed",
                row["consumed"],
                group["consumed"],
                fmt.percent(group["consumed"], 2),
            ),
            (f"{group['group']} share", row["share"], share, fmt.percent(share)),
        ]
    rest = next(
        (s for s in attribution["unattributed"] if s["slo"] == key), {"consumed": 0.0, "share": 0.0}
    )
    row = rows["mode-unattributed"]
    pairs += [
        (
            "unattributed consumed",
            row["consumed"],
            rest["consumed"],
            fmt.percent(rest["consumed"], 2),
        ),
        ("unattributed share", row["share"], rest["share"], fmt.percent(rest["share"])),
    ]
    problems = mismatches(pairs)
    assert not problems, "\n".join(problems)
    assert len(rows) == len(attribution["groups"]) + 1

    # The range resolves as the API's does.
    span = browser.find_element("id", "range-text")
    assert int(span.get_attribute("data-start")) == fmt.epoch(history.start)
    assert int(span.get_attribute("data-end")) == fmt.epoch(history.end)
    assert int(span.get_attribute("data-step")) == history.resolution_seconds

    # Charts draw the API's history points.
    for graph in ("chart-burndown", "chart-sli", "chart-consumed", "chart-burn"):
        wait_for_graph(browser, graph)
    if history.points:
        traces = {trace["name"]: trace for trace in plotly_data(browser, "chart-burndown")}
        assert traces["remaining"]["y"] == [1.0, *burndown(history)]
        sli = {trace["name"]: trace for trace in plotly_data(browser, "chart-sli")}["SLI"]
        assert sli["y"] == [point.sli for point in history.points]
    stacked = {trace["name"]: trace["y"] for trace in plotly_data(browser, "chart-consumed")}
    for mode in history.points[0].consumed if history.points else {}:
        assert stacked[mode] == [point.consumed[mode] for point in history.points]
    assert stacked["unattributed"] == [point.unattributed for point in history.points]


BURN_JS = """
const plot = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');
const full = plot._fullLayout;
return {
    traces: plot.data.map((t) => ({name: t.name, y: t.y, yaxis: t.yaxis || 'y',
        colour: t.line.color, legend: t.showlegend !== false})),
    ranges: Object.fromEntries(Object.keys(full).filter((k) => /^yaxis[0-9]*$/.test(k))
        .map((k) => ['y' + k.slice(5), full[k].range])),
    shapes: (full.shapes || []).map((s) => ({y: s.y0, yref: s.yref})),
    notes: (full.annotations || []).map((a) => ({text: a.text, yref: a.yref})),
};
"""
TIERS = (  # the default policy: (tier, long window, short window, budget fraction, long seconds)
    ("page-fast", "1h", "5m", 0.02, 3600),
    ("page-slow", "6h", "30m", 0.05, 6 * 3600),
    ("ticket-fast", "1d", "2h", 0.10, 86400),
    ("ticket-slow", "3d", "6h", 0.10, 3 * 86400),
)


def test_burn_chart_draws_each_tier_against_its_own_windows_on_a_scale_of_the_data(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    set_screen(browser)
    off_scale = 0
    for key, query, period_days in (
        ("checkout/checkout-success", "?range=6h", 30),
        ("orders/order-status-reads", "?range=1d", 28),
    ):
        load(browser, f"{live.url}/slo/{key}{query}")
        wait_for_graph(browser, "chart-burn")
        report = get(api, f"/api/v1/slos/{key}")
        drawn = browser.execute_script(BURN_JS, "chart-burn")
        panels = sorted({trace["yaxis"] for trace in drawn["traces"]}, key=lambda y: y[1:] or "0")
        assert len(panels) == len(TIERS)
        for panel, (tier, long, short, fraction, seconds) in zip(panels, TIERS, strict=True):
            lines = {t["name"]: t for t in drawn["traces"] if t["yaxis"] == panel}
            assert set(lines) <= {long, short} and long in lines, (tier, set(lines))
            for window, line in lines.items():
                # The last point is the trailing window ending now: the report's rate.
                assert line["y"][-1] == pytest.approx(report["burn_rates"][window], rel=1e-9)
            peak = max(v for line in lines.values() for v in line["y"] if v is not None)
            bottom, top = drawn["ranges"][panel]
            assert bottom == 0 and peak <= top <= max(1.0, peak * 1.2) + 1e-9, (tier, top, peak)
            factor = burn_rate_factor(fraction, period_days * 86400, seconds)
            label = fmt.factor(factor)
            if factor <= top:
                assert [s["y"] for s in drawn["shapes"] if s["yref"] == panel] == pytest.approx(
                    [factor]
                )
            else:  # off the scale: a labelled marker at the panel's top, no line
                assert not [s for s in drawn["shapes"] if s["yref"] == panel]
                notes = [n["text"] for n in drawn["notes"] if n["yref"] == f"{panel} domain"]
                assert notes == [f"▲ fires above {label} (off scale)"], (tier, notes)
                off_scale += 1
        # A legend of window colours: each window once, always in its own colour.
        legend = [t["name"] for t in drawn["traces"] if t["legend"]]
        assert len(legend) == len(set(legend))
        colours = {(t["name"], t["colour"]) for t in drawn["traces"]}
        assert len(colours) == len({t["name"] for t in drawn["traces"]})
    assert off_scale, "a 14.4 threshold over slow burns is drawn off the scale"
    note = browser.find_element("css selector", "#chart-burn").find_element("xpath", "..").text
    assert "fires when its long window (solid) and short window (dotted)" in note


def test_over_a_long_range_no_burn_panel_is_left_empty(
    live: Live, browser: webdriver.Chrome
) -> None:
    """30 days in 2h steps cannot draw 5m or 1h: page-fast gets no empty panel, the note says."""
    set_screen(browser)
    load(browser, f"{live.url}/slo/checkout/checkout-success?range=custom&start=now-30d")
    wait_for_graph(browser, "chart-burn")
    drawn = browser.execute_script(BURN_JS, "chart-burn")
    assert set(drawn["ranges"]) == {trace["yaxis"] for trace in drawn["traces"]}
    assert "page-fast" not in " ".join(note["text"] for note in drawn["notes"])
    note = browser.find_element("css selector", "#chart-burn").find_element("xpath", "..").text
    assert "Not drawn at this range: 5m" in note


def test_the_timeslice_thresholds_read_as_rounded_factors(
    live: Live, browser: webdriver.Chrome
) -> None:
    """queue-freshness (28 days): ticket-slow's factor 0.1 × 28 / 3 reads 0.93, not 0.933333."""
    set_screen(browser)
    load(browser, f"{live.url}/slo/orders/queue-freshness?range=1d")
    wait_for_graph(browser, "chart-burn")
    drawn = browser.execute_script(BURN_JS, "chart-burn")
    texts = " ".join(note["text"] for note in drawn["notes"])
    assert "ticket-slow (ticket): 3d and 6h above 0.93" in texts
    assert "0.933333" not in browser.find_element("id", "chart-burn").get_attribute("innerHTML")


SPEND_BARS_JS = """
const plot = document.getElementById('chart-spend').querySelector('.js-plotly-plot');
const boxes = [...plot.querySelectorAll('g.trace.bars')].map((g) =>
    [...g.querySelectorAll('g.point path')].map((p) => {
        const b = p.getBBox(); return [b.width, b.height]; }));
return {
    traces: plot.data.map((t) => ({name: t.name, x: t.x, y: t.y})),
    boxes: boxes,
    xaxis: [plot._fullLayout.xaxis.type, plot._fullLayout.xaxis.range],
    minsize: plot._fullLayout.uniformtext.minsize,
    pies: plot.querySelectorAll('.sunburstlayer path, .pielayer path').length,
};
"""


@pytest.mark.parametrize(("key", "query"), CASES[:2])
def test_the_spend_chart_is_proportional_and_readable(
    live: Live, api: httpx.Client, browser: webdriver.Chrome, key: str, query: str
) -> None:
    set_screen(browser)
    load(browser, f"{live.url}/slo/{key}{query}")
    wait_for_graph(browser, "chart-spend")
    body = get(api, f"/api/v1/slos/{key}/attribution", **range_params(query))
    drawn = browser.execute_script(SPEND_BARS_JS)
    assert drawn["pies"] == 0
    assert drawn["xaxis"][0] == "linear" and drawn["xaxis"][1][0] == 0
    assert drawn["minsize"] >= 11  # labels below 11 px are hidden, never drawn tiny
    by_bar: dict[str, float] = {}
    for trace in drawn["traces"]:
        by_bar[trace["y"][0]] = by_bar.get(trace["y"][0], 0.0) + trace["x"][0]
    expected: dict[str, float] = {}
    for group in body["groups"]:
        if group["consumed"] > 0:
            choice = group["design_choice"]
            expected[choice] = expected.get(choice, 0.0) + group["consumed"]
    rest = sum(s["consumed"] for s in body["unattributed"] if s["slo"] == key)
    if rest > 0:
        expected["unattributed"] = rest
    assert by_bar == pytest.approx(expected)
    # Drawn areas are proportional to the budget: one bar thickness, width ∝ value.
    sizes = [
        (trace["x"][0], box)
        for trace, boxes in zip(drawn["traces"], drawn["boxes"], strict=True)
        for box in boxes
    ]
    heights = {round(height) for _, (_, height) in sizes}
    assert len(heights) == 1, heights
    per_unit = [width / value for value, (width, _) in sizes if width > 3]
    assert per_unit and max(per_unit) - min(per_unit) <= 0.02 * max(per_unit) + 1


def test_a_calendar_months_even_burn_reaches_zero_when_the_month_ends(
    live: Live, browser: webdriver.Chrome
) -> None:
    """storefront/availability follows the calendar month in Europe/Berlin."""
    set_screen(browser)
    load(browser, f"{live.url}/slo/storefront/availability")
    wait_for_graph(browser, "chart-burndown")
    ideal = next(
        t for t in plotly_data(browser, "chart-burndown") if t["name"] == "ideal (even burn)"
    )
    now = datetime.fromtimestamp(live.end, ZoneInfo("Europe/Berlin"))
    month_end = (now.replace(day=28) + timedelta(days=4)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    assert ideal["y"] == [1.0, 0.0]
    drawn_end = datetime.fromisoformat(ideal["x"][-1]).replace(tzinfo=UTC)
    assert drawn_end == month_end.astimezone(UTC)


def test_top_spenders_quote_the_catalog_and_the_budget_they_would_free(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    key = "checkout/checkout-success"
    set_screen(browser)
    load(browser, f"{live.url}/slo/{key}")
    attribution = get(api, f"/api/v1/slos/{key}/attribution")
    report = get(api, f"/api/v1/slos/{key}")
    catalog = {entry["name"]: entry for entry in get(api, "/api/v1/catalog")}
    spenders = [group for group in attribution["groups"] if group["consumed"] > 0][:3]
    assert [g["group"] for g in spenders] == ["payment-timeout", "orders-backlog"]
    for group in spenders:
        card = browser.find_element("id", f"spender-{group['group']}")
        freed = card.find_element("css selector", ".freed")
        assert float(freed.get_attribute("data-value")) == group["consumed"]
        entry = catalog[group["design_choice"]]
        assert entry["introduces"] in card.text and entry["verification"] in card.text
        period = next(r for r in report["attribution"] if r["failure_mode"] == group["group"])
        would_be = report["budget"]["remaining"] + period["consumed"]
        assert fmt.percent(would_be) in card.text


def test_incidents_alerts_and_definition(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    key = "checkout/checkout-success"
    set_screen(browser)
    load(browser, f"{live.url}/slo/{key}")
    report = get(api, f"/api/v1/slos/{key}")
    incidents = browser.find_elements("css selector", "details.incident")
    assert len(incidents) == len(report["incidents"]) >= 1
    for element, incident in zip(incidents, report["incidents"], strict=True):
        consumed = element.find_element("css selector", "summary .num")
        assert float(consumed.get_attribute("data-value")) == incident["consumed"]
        assert incident["top_failure_mode"] in element.text
    # What fires now, and what changed state in the range: the API's alerts.
    firing = sorted(a["tier"] for a in get(api, "/api/v1/alerts") if a["key"] == key)
    shown = sorted(
        e.get_attribute("data-tier")
        for e in browser.find_elements("css selector", "#detail-alerts .firing")
    )
    assert shown == firing and "page-fast" in firing
    events = get(api, f"/api/v1/slos/{key}/alerts")
    rows = browser.find_elements("css selector", "#alert-timeline tbody tr")
    assert [(r.get_attribute("data-tier"), r.get_attribute("data-state")) for r in rows] == [
        (e["tier"], e["state"]) for e in events
    ]
    assert [r.get_attribute("data-t") for r in rows] == [fmt.moment(e["t"]) for e in events]
    definition = get(api, f"/api/v1/slos/{key}/definition")
    shown_yaml = browser.find_element("css selector", "#definition-yaml pre")
    assert shown_yaml.get_attribute("textContent") == definition["yaml"]


def test_corrections_are_shown_as_the_api_lists_them(
    live: Live, api: httpx.Client, browser: webdriver.Chrome
) -> None:
    """A correction (here a maintenance window before the scenario, so no figure moves for the
    other tests) appears on the SLO page with the API's count of excluded slices."""
    key = "orders/replica-lag"
    spec = CorrectionSpec.model_validate(
        {
            "name": "db-maintenance",
            "category": "maintenance",
            "note": "planned failover drill",
            "start": live.end - 86400 * 5,
            "end": live.end - 86400 * 5 + 3600,
        }
    )
    created = create_correction(live.engine, Correction(spec, "orders", "replica-lag"), "api:test")
    try:
        set_screen(browser)
        load(browser, f"{live.url}/slo/{key}")
        listed = get(api, f"/api/v1/slos/{key}/corrections")["corrections"]
        rows = browser.find_elements("css selector", "#corrections tbody tr")
        assert [r.get_attribute("data-correction") for r in rows] == [c["name"] for c in listed]
        shown = {r.get_attribute("data-correction"): r for r in rows}["db-maintenance"]
        expected = next(c for c in listed if c["name"] == "db-maintenance")
        assert int(shown.get_attribute("data-excluded-slices")) == expected["excluded_slices"] == 60
        assert "planned failover drill" in shown.text and "api:test" in shown.text
    finally:
        for stored in created.corrections:
            if stored is not None and stored.id is not None:
                delete_correction(live.engine, stored.id, "api:test")
