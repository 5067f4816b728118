"""The demo's live feed, at the demo's own scrape interval: traffic, a flare-up, a page.

The flare-up is the demo's own first one (a payment provider outage that should page within
minutes), moved from three minutes after the history to right after it; everything else is the
demo's wiring: the history TSDB, the live exporter continuing the same model, and Prometheus
scraping it every 15 s.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from rich.console import Console

from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.views import FiringAlert, firing_alerts
from app.demo import SCRAPE_INTERVAL, first_flareup, launch_world
from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load_definitions
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.retry import RetryPolicy
from app.store.store import Store
from app.testbed.alertmanager import find_alertmanager
from app.testbed.dataset import generate
from app.testbed.exporter import MetricsExporter
from app.testbed.scenario import PaymentTimeouts
from app.testbed.scenarios import steady
from app.testbed.series import Catalog
from tests.conftest import require_prometheus
from tests.engine.conftest import REPO

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

KEY = "checkout/checkout-success"
HISTORY_MINUTES = 120


def checkout_series(catalog: Catalog) -> list[int]:
    return [
        i
        for i, series in enumerate(catalog.series)
        if series.name == "http_requests_total" and series.label("service") == "checkout"
    ]


def stored_requests(prometheus_url: str, at: int) -> float:
    """Checkout's requests as Prometheus stored them at its last scrape at or before `at`."""
    query = 'sum(last_over_time(http_requests_total{service="checkout"}[5m]))'
    answer = requests.get(
        f"{prometheus_url}/api/v1/query", params={"query": query, "time": at}, timeout=10
    ).json()
    return float(answer["data"]["result"][0]["value"][1])


def served_requests(exporter: MetricsExporter) -> set[float]:
    """The exporter's own counts of checkout requests, one per answer it gave a scrape."""
    positions = checkout_series(exporter.simulation.catalog)
    return {sum(values[i] for i in positions) for _, values in exporter.served}


def live_slices(engine: Engine, end: int) -> int:
    checkpoint = engine.stored_slos()[KEY].checkpoint
    return 0 if checkpoint is None else (checkpoint - end) // 60


def test_live_minutes_carry_traffic_and_a_flare_up_burns_and_alerts(tmp_path: Path) -> None:
    require_prometheus()
    if find_alertmanager() is None:
        pytest.skip("prometheus-alertmanager is not installed: the demo's pages go to it")
    assert SCRAPE_INTERVAL == "15s"
    now = time.time()
    end = int(now) - int(now) % 60
    history = steady(end - HISTORY_MINUTES * 60, HISTORY_MINUTES)
    flare = replace(first_flareup(end), start=end)
    assert isinstance(flare, PaymentTimeouts)
    scenario = replace(history.scenario, injections=(flare,))
    last = generate(scenario)  # the same model: its requests at the history's last sample
    at_history_end = sum(last.values[i][-1] for i in checkout_series(last.catalog))
    with launch_world(Console(quiet=True), scenario, history.story) as world:
        source = PrometheusSource(
            SourceConfig(
                url=world.prometheus.url,
                timeout=10,
                retry=RetryPolicy(attempts=2, base=0.05, cap=0.1),
            )
        )
        config = EngineConfig(evaluation_delay=20, initial_backfill=HISTORY_MINUTES * 60)
        # The demo's wiring: the shipped definitions, its alerts routed to its own Alertmanager.
        loaded = load_definitions(
            REPO / "slo_definitions", alerts=world.alerts_for(REPO / "alerts")
        )
        assert loaded.ok, loaded.problems
        definitions = loaded.definitions
        engine = Engine(Store(f"sqlite:///{tmp_path}/live.db").open(), source, definitions, config)
        engine.sync()
        alerts = AlertEvaluator(engine.store, lambda: engine.definitions, base_url="http://x")
        engine.tick()  # the history, up to `end` once the clock is 20 s past it
        paged: list[FiringAlert] = []
        deadline = time.monotonic() + 330
        while time.monotonic() < deadline and not (paged and live_slices(engine, end) >= 2):
            time.sleep(5)
            result = engine.tick()
            assert not result.errors and result.unavailable is None, result
            alerts.evaluate()
            with engine.store.read() as connection:
                paged = [a for a in firing_alerts(connection) if a.slo_key == KEY]
        assert paged, world.prometheus.log_tail()
        assert paged[0].severity in ("page", "ticket")
        assert live_slices(engine, end) >= 2
        through = engine.stored_slos()[KEY].checkpoint
        assert through is not None
        report = engine.report(KEY, through)
        # Read once the ledger holds every slice up to `end`: read right after the first tick,
        # a world that started within 20 s of `end` left the history's last minute to the live
        # loop (the evaluation delay), and that minute was counted as live.
        ledger_at_history_end = engine.report(KEY, end).events.total
        # Live minutes carry the traffic the exporter itself served, request for request.
        live = report.events.total - ledger_at_history_end
        stored = stored_requests(world.prometheus.url, through)
        minutes = (through - end) // 60
        assert live > 2 * 60 * minutes  # checkout serves several requests a second, even at night
        # Request for request: what the ledger counted is what the exporter said it served,
        # at the scrape that ends the last live slice (a scrape the exporter answered too late
        # for Prometheus is not in either).
        assert live == stored - at_history_end
        assert stored in served_requests(world.exporter)
        # The flare-up spent budget on the named failure mode, and the 5m burn rose.
        top = report.attribution[0]
        assert top.failure_mode == "payment-timeout" and top.bad > 0
        assert (report.burn_rates["5m"] or 0) > 100
        # The page reaches the demo's own Alertmanager (and nothing tries the shipped :9093 one).
        assert list(engine.definitions.alerts.receivers) == ["alertmanager"]
        dispatcher = Dispatcher(engine.store, lambda: engine.definitions.alerts)
        delivered = dispatcher.run_once()
        dispatcher.close()
        assert delivered.delivered and not delivered.failed and not delivered.retried, delivered
        assert world.alertmanager is not None
        held = [a["labels"] for a in world.alertmanager.alerts()]
        assert any(
            labels["service"] == "checkout" and labels["severity"] == paged[0].severity
            for labels in held
        ), held
        engine.store.close()
