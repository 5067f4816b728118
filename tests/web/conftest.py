"""Fixtures for the dashboards: one real Faultline server over the `overlapping` scenario,
an httpx client for its API, and headless Chromium.

The server runs as `faultline serve` would, on simulated time: it ticks through the scenario
every 10 minutes and stops 50 minutes into the incident, while the payment provider times out,
the orders queue backs up and the order-status replica lags. So the pages have several failure
modes at once, unattributed errors, a budget incident, and alerts that fired on the way.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver

from app.engine.service import Engine
from app.testbed.prometheus import PrometheusServer
from app.testbed.tsdb import link_tsdb
from tests.conftest import TestbedCache, require_prometheus
from tests.web.harness import (
    CHROMEDRIVER,
    CHROMIUM,
    REPO,
    LiveServer,
    StoppedClock,
    chromium,
    engine_factory,
    run_until,
    settings_for,
    start_faultline,
)

SCENARIO = "overlapping"
STOP_AFTER = 170 * 60  # seconds after the scenario starts: 50 minutes into its incident
TICK = 600
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


@dataclass(frozen=True)
class Live:
    server: LiveServer
    end: int  # the engine's clock: every "now" on the pages and in the API

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def engine(self) -> Engine:
        engine: Engine = self.server.app.state.faultline.engine
        return engine


@pytest.fixture(scope="session")
def live(testbed: TestbedCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require_prometheus()
    built = testbed.get(SCENARIO)
    root = tmp_path_factory.mktemp("web")
    prometheus = PrometheusServer(
        link_tsdb(testbed.tsdb(SCENARIO), root / "data"), work_dir=root / "prometheus"
    )
    prometheus.start()
    start = built.scenario.start
    try:
        settings = settings_for(f"sqlite:///{root}/ledger.db", prometheus.url)
        clock = StoppedClock(start)  # the first tick evaluates (start, start + TICK]
        server = start_faultline(settings, engine_factory(prometheus.url, clock, TICK))
        try:
            live = Live(server, start + STOP_AFTER)
            run_until(live.engine, clock, live.end, TICK)
            yield live
        finally:
            server.stop()
    finally:
        prometheus.close()


@pytest.fixture(scope="session")
def api(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def require_chromium() -> None:
    """Fail (never skip) without the Debian chromium and chromium-driver packages."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{', '.join(missing) or CHROMIUM} missing: `./run.sh test` installs chromium and "
            "chromium-driver; browser tests need the real browser.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    require_chromium()
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
