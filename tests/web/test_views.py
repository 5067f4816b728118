"""The read models the API and the dashboards share: the API answers with exactly what they
compute, the charts' derived series agree with the ledger's own sums, and the figures the pages
show agree with the testbed's ground truth."""

from __future__ import annotations

import httpx
import pytest

from app.engine import spend, views
from app.engine.ranges import resolve_range
from app.slo.definitions import SLODefinition
from app.slo.report import rfc3339
from app.slo.windows import STANDARD_WINDOWS, Window
from app.store.registry import StoredSLO
from tests.conftest import TestbedCache
from tests.web.conftest import SCENARIO, Live

pytestmark = pytest.mark.prometheus

KEY = "checkout/checkout-success"
MODES = ("payment-timeout", "orders-backlog", "us-east-failover")


def found(live: Live, key: str = KEY) -> tuple[SLODefinition, StoredSLO]:
    pair = views.lookup(live.engine, key)
    assert pair is not None
    return pair


@pytest.mark.parametrize(
    "params", [{}, {"start": "now-6h", "resolution": "5m"}, {"start": "now-1d"}]
)
def test_api_history_is_the_shared_read_model(
    live: Live, api: httpx.Client, params: dict[str, str]
) -> None:
    definition, stored = found(live)
    window, step = resolve_range(
        params.get("start"),
        None,
        live.end,
        definition=definition,
        resolution=params.get("resolution"),
    )
    expected = views.history_of(live.engine, definition, stored, window, step)
    assert api.get(f"/api/v1/slos/{KEY}/history", params=params).json() == expected.model_dump(
        mode="json"
    )


def test_api_attribution_and_listing_are_the_shared_read_models(
    live: Live, api: httpx.Client
) -> None:
    engine = live.engine
    definition, stored = found(live)
    window, _ = resolve_range(None, None, live.end, definition=definition)
    mine = spend.slo_attribution(engine, KEY, stored, window, "design_choice")
    answer = api.get(f"/api/v1/slos/{KEY}/attribution", params={"group_by": "design_choice"})
    assert answer.json() == mine.model_dump(mode="json")
    org_window, _ = resolve_range("now-7d", None, live.end)
    org = spend.org_attribution(engine, org_window, "failure_mode")
    assert api.get("/api/v1/attribution").json() == org.model_dump(mode="json")
    listing = views.list_slos(engine, views.SLOFilter(labels=[("team", "payments")]), "burn_rate")
    body = api.get("/api/v1/slos", params={"label": "team:payments", "sort": "burn_rate"}).json()
    assert body["items"] == [report.model_dump(mode="json") for report in listing.reports]
    assert body["total"] == listing.total


def test_one_slo_is_reported_now(live: Live, api: httpx.Client) -> None:
    """The report of one SLO ends at the engine's now, like its status snapshot in the list."""
    report = api.get(f"/api/v1/slos/{KEY}").json()
    assert report["window"]["end"] == rfc3339(live.end)
    listed = next(i for i in api.get("/api/v1/slos").json()["items"] if i["key"] == KEY)
    assert report["budget"] == listed["budget"]
    assert report["burn_rates"] == listed["burn_rates"]


def test_burn_series_are_the_ledgers_trailing_windows_at_every_point(live: Live) -> None:
    definition, stored = found(live)
    end = live.end
    window = Window(end - 6 * 3600, end)
    series = views.burn_rate_series(
        live.engine, definition, stored, window, 300, [("5m", 300), ("1h", 3600), ("1d", 86400)]
    )
    assert [line.label for line in series] == ["5m", "1h", "1d"]
    checked = 0
    for line in series:
        for t, rate in list(zip(line.times, line.rates, strict=True))[::5]:
            expected = live.engine.report(KEY, t, incidents=False).burn_rates[line.label]
            if expected is None:  # before the scenario: no data, which is not a rate of 0
                assert rate is None, (line.label, t)
            else:
                assert rate == pytest.approx(expected, rel=1e-9, abs=1e-12), (line.label, t)
            checked += expected is not None
    assert checked >= 15
    # A window that is not a whole number of buckets cannot be summed from them.
    assert (
        views.burn_rate_series(live.engine, definition, stored, window, 3600, [("5m", 300)]) == []
    )


def test_the_burndown_ends_at_what_the_period_consumed(live: Live) -> None:
    definition, stored = found(live)
    window, step = resolve_range(None, None, live.end, definition=definition)
    history = views.history_of(live.engine, definition, stored, window, step)
    remaining = views.burndown(history)
    report = live.engine.report(KEY, live.end)
    assert remaining[-1] == pytest.approx(report.budget.remaining, rel=1e-12)
    assert remaining == sorted(remaining, reverse=True)  # spending only ever lowers it


def test_hourly_trends_agree_with_the_full_history(live: Live) -> None:
    definition, stored = found(live)
    window, step = resolve_range("now-1d", None, live.end, definition=definition, resolution="1h")
    history = views.history_of(live.engine, definition, stored, window, step)
    trends = views.hourly_trends(live.engine, {KEY: views.TrendRequest(stored, window, step)})
    totals, bads = trends[KEY]
    assert totals == pytest.approx([p.total for p in history.points], rel=1e-12)
    assert bads == pytest.approx([p.bad for p in history.points], rel=1e-12)


def test_what_the_pages_show_agrees_with_the_ground_truth(
    live: Live, testbed: TestbedCache
) -> None:
    """The pages show the API's figures (the browser tests); these are the testbed's truth."""
    truth = testbed.get(SCENARIO).truth.slo(KEY)
    report = live.engine.report(KEY, live.end)
    whole = truth.window(live.end - 30 * 86400, live.end)
    assert report.budget.consumed == pytest.approx(whole.consumed, rel=0.01)
    for row in report.attribution:
        assert row.share == pytest.approx(whole.share(row.failure_mode) or 0.0, abs=0.01)
    assert report.unattributed.share == pytest.approx(whole.unattributed_share or 0.0, abs=0.01)
    for label, seconds in STANDARD_WINDOWS:
        expected = truth.window(live.end - seconds, live.end).burn_rate
        if expected is not None:
            assert report.burn_rates[label] == pytest.approx(expected, rel=0.02), label
    assert {row.failure_mode for row in report.attribution} == set(MODES)
