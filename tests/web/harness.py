"""A real Faultline server for browser tests: a backfilled ledger behind uvicorn on loopback,
and headless Chromium (the Debian binaries, never a downloaded browser) to look at it."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from app.api.metrics import EngineMetrics
from app.engine.service import Engine, EngineConfig
from app.runtime.factory import create_app
from app.runtime.loading import load_definitions
from app.runtime.settings import Settings
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.sources.retry import RetryPolicy
from app.store.store import Store
from app.testbed.prometheus import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Without the networking flags Chromium reaches for the internet, which is closed here.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class StoppedClock:
    """Simulated time: it moves only when told, so pages and API answers share one instant."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


def engine_factory(
    prometheus_url: str, clock: StoppedClock, first_span: int
) -> Callable[[Settings, EngineMetrics], Engine]:
    """An engine factory for `create_app` over the shipped SLOs, on simulated time. Its first
    tick evaluates the last `first_span` seconds before the clock (the scenario's start)."""

    def build(settings: Settings, _metrics: EngineMetrics) -> Engine:
        loaded = load_definitions(settings.definitions, alerts=settings.alerts)
        assert loaded.ok, loaded.problems
        source = PrometheusSource(
            SourceConfig(
                url=prometheus_url, timeout=10, retry=RetryPolicy(attempts=2, base=0.05, cap=0.1)
            )
        )
        config = EngineConfig(evaluation_delay=0, initial_backfill=first_span)
        store = Store(settings.database_url).open()
        engine = Engine(store, source, loaded.definitions, config, clock=clock)
        engine.sync()
        return engine

    return build


def run_until(engine: Engine, clock: StoppedClock, end: int, step: int) -> None:
    """Tick every `step` seconds of simulated time up to `end`, as the scheduler would: each
    tick evaluates the new slices, then the app's hooks (alerting) judge them."""
    while clock.now < end:
        clock.now = min(clock.now + step, end)
        result = engine.tick(now=clock.now)
        assert not result.errors and result.unavailable is None, result


def settings_for(database_url: str, prometheus_url: str, **overrides: Any) -> Settings:
    """Settings for a test server: the repository's definitions and boards, no scheduler."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "prometheus_url": prometheus_url,
        "definitions": REPO / "slo_definitions",
        "alerts": REPO / "alerts",
        "dashboards": REPO / "dashboards",
        "scheduler_enabled": False,
    }
    return Settings(**{**values, **overrides})


class LiveServer:
    """uvicorn serving `app` on a free loopback port in a thread, lifespan included."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start within {timeout:.0f}s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_faultline(
    settings: Settings, factory: Callable[[Settings, EngineMetrics], Engine]
) -> LiveServer:
    server = LiveServer(create_app(settings, engine_factory=factory))
    server.start()
    return server


def chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """Headless Debian Chromium with its console log readable through `get_log("browser")`."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='faultline-chromium-')}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


PAGE_READY_JS = """
const hosts = [...document.querySelectorAll('[id*="raw-host"]')];
return document.querySelector('#page > .page') !== null
    && document.querySelector('[data-dash-is-loading="true"]') === null
    && hosts.every((host) => host.childElementCount > 0);
"""


def page_ready(driver: webdriver.Chrome) -> bool:
    """The router drew a page, no Dash callback is running, and HTML blocks are filled in."""
    return bool(driver.execute_script(PAGE_READY_JS))
