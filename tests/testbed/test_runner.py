"""The TSDB builder, the Prometheus runner and the live exporter."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pytest
import requests

from app.testbed import tsdb
from app.testbed.dataset import generate
from app.testbed.exporter import MetricsExporter
from app.testbed.prometheus import (
    PrometheusNotInstalledError,
    PrometheusServer,
    find_binary,
    require_loopback,
)
from app.testbed.scenario import Scenario
from app.testbed.scenarios import queue_age, start_ending_before
from app.testbed.simulation import Simulation
from app.testbed.tsdb import BLOCK_SECONDS, build_tsdb
from tests.conftest import TEST_START, require_prometheus


def test_a_missing_binary_names_the_debian_package() -> None:
    with pytest.raises(PrometheusNotInstalledError, match="apt-get install prometheus"):
        find_binary("prometheus-that-is-not-there")


def test_only_loopback_targets_are_scraped() -> None:
    for target in ("127.0.0.1:9100", "localhost:8000", "[::1]:9100"):
        assert require_loopback(target) == target
    for target in ("10.0.0.1:9100", "example.com:80"):
        with pytest.raises(ValueError, match="loopback"):
            require_loopback(target)


def test_chunks_follow_promtool_block_windows() -> None:
    start = (TEST_START // BLOCK_SECONDS) * BLOCK_SECONDS + 3600
    end = start + 2 * BLOCK_SECONDS
    chunks = tsdb._chunks(start, end)
    assert chunks[0][0] == start and chunks[-1][1] is None
    assert all(upper is None or upper % BLOCK_SECONDS == 0 for _, upper in chunks)
    assert [lower for lower, _ in chunks[1:]] == [upper for _, upper in chunks[:-1]]
    assert tsdb._chunks(TEST_START, TEST_START + 3600) == [(TEST_START, None)]


def test_the_exporter_serves_the_model_advanced_to_the_clock() -> None:
    scenario = Scenario("live", TEST_START, 5, interval=15)
    simulation = Simulation(scenario)
    generate(scenario, simulation)
    now = [float(scenario.end + 44)]
    with MetricsExporter(simulation, clock=lambda: now[0], timestamps=True) as exporter:
        body = requests.get(exporter.url, timeout=5)
        assert body.status_code == 200
        assert body.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert simulation.time == scenario.end + 45  # one step ahead of the clock
        assert f" {(scenario.end + 44) * 1000}\n" in body.text
        now[0] += 15
        requests.get(exporter.url, timeout=5)
        assert simulation.time == scenario.end + 60
        assert requests.get(exporter.url.replace("/metrics", "/"), timeout=5).status_code == 404
    with pytest.raises(requests.ConnectionError):
        requests.get(exporter.url, timeout=2)


def test_the_exporters_counters_move_at_every_scrape_in_proportion_to_time() -> None:
    scenario = Scenario("live", TEST_START, 5)  # one-minute steps, as the demo's model
    simulation = Simulation(scenario)
    generate(scenario, simulation)
    exporter = MetricsExporter(simulation)
    checkout = simulation.catalog.at("checkout.code.200")
    shown = [exporter.values_at(scenario.end + s)[checkout] for s in range(15, 181, 15)]
    assert all(later > earlier for earlier, later in pairwise(shown))  # never a stalled counter
    assert all(value.is_integer() for value in shown)  # whole requests
    minute = shown[7] - shown[3]  # end + 120 and end + 60
    quarter = shown[4] - shown[3]
    assert quarter == pytest.approx(minute / 4, rel=0.1)
    exporter.stop()


@pytest.mark.prometheus
def test_prometheus_scrapes_the_live_exporter_continuing_the_history(tmp_path: Path) -> None:
    require_prometheus()
    named = queue_age(start_ending_before(time.time(), 300, margin_minutes=1), 300, interval=15)
    simulation = Simulation(named.scenario)
    dataset = generate(named.scenario, simulation)
    build = build_tsdb(dataset, tmp_path / "tsdb")
    assert build.blocks >= 1 and build.samples > 0
    with (
        MetricsExporter(simulation) as exporter,
        PrometheusServer(
            tmp_path / "tsdb", scrape_targets=[exporter.address], scrape_interval="1s"
        ) as server,
    ):
        query = 'timestamp(min(up{job="fulfilment-worker"}))'
        deadline = time.monotonic() + 30
        live = None
        while time.monotonic() < deadline:
            result = requests.get(
                f"{server.url}/api/v1/query", params={"query": query}, timeout=5
            ).json()
            stamps = [float(r["value"][1]) for r in result["data"]["result"]]
            if stamps and stamps[0] > named.scenario.end:
                live = stamps[0]
                break
            time.sleep(0.3)
        assert live is not None, f"no live scrape of the exporter:\n{server.log_tail()}"
        # One series across history and live samples: the labels are the same.
        history = requests.get(
            f"{server.url}/api/v1/query",
            params={"query": 'count_over_time(probe_success{region="us-east"}[10m])'},
            timeout=5,
        ).json()["data"]["result"]
        assert len(history) == 1 and history[0]["metric"]["job"] == "blackbox"
