"""The engine learns sample intervals from Prometheus, also when it answers only later, and the
slice it chose is shown: API, `faultline report --json` and the SLO page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.engine.service import Engine
from app.slo.report import rfc3339
from app.slo.sampling import IntervalOrigin
from app.web.pages.slo_sections import headline
from app.web.slo_data import gather
from app.web.urlstate import ViewState
from tests.api.conftest import TOKEN, serve_engine
from tests.conftest import RunningPrometheus
from tests.engine.conftest import REPO
from tests.web.components import by_id

pytestmark = pytest.mark.prometheus

KEY = "checkout/checkout-success"


def test_intervals_unknown_while_prometheus_is_down_are_learned_when_it_answers(
    prometheus_over: Callable[..., RunningPrometheus],
    engines: Callable[..., Engine],
    tmp_path: Path,
) -> None:
    running = prometheus_over("fast_burn", interval=120, phase=41, jitter=1.0)
    start, end = running.scenario.start, running.scenario.end
    running.server.stop()
    engine = engines(running.url, f"sqlite:///{tmp_path}/ledger.db", start, end)
    began = time.monotonic()
    assert engine.tick(now=end).unavailable is not None
    assert time.monotonic() - began < 10  # one refused question, not one per SLO
    down = engine.definitions.get(KEY)
    assert down is not None and down.sampling is not None
    assert down.sampling.origin is IntervalOrigin.UNKNOWN
    assert down.spec.slice_seconds == 60  # the configured slice until the interval is known
    running.server.start()
    result = engine.tick(now=end)
    assert not result.errors and result.unavailable is None, result
    up = engine.definitions.get(KEY)
    assert up is not None and up.sampling is not None
    assert (up.sampling.origin, up.sampling.interval, up.spec.slice_seconds) == (
        IntervalOrigin.DATA,
        120,
        120,
    )
    assert engine.stored_slos()[KEY].slice_seconds == 120
    report = engine.report(KEY, end)
    assert report.status.value == "ok" and report.no_data_slices <= 1
    shown_everywhere(engine, running.url, f"sqlite:///{tmp_path}/ledger.db", end)


CHOSEN = {
    "slice_seconds": 120,
    "configured_slice_seconds": 60,
    "sample_interval_seconds": 120,
    "interval_origin": "data",
}


def shown_everywhere(engine: Engine, prometheus_url: str, database_url: str, end: int) -> None:
    """The 2-minute slice chosen for 2-minute scrapes, and why, where a user looks."""
    definitions = REPO / "slo_definitions"
    server, url = serve_engine(
        engine, definitions=definitions, database_url=database_url, prometheus_url=prometheus_url
    )
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ) as client:
            detail = client.get(f"/api/v1/slos/{KEY}", params={"at": rfc3339(end)})
            assert detail.status_code == 200, detail.text
            assert detail.json()["sampling"] == CHOSEN
            listed = client.get("/api/v1/slos", params={"limit": 1000}).json()["items"]
            assert next(i for i in listed if i["key"] == KEY)["sampling"] == CHOSEN
    finally:
        server.stop()
    environment = {
        **os.environ,
        "FAULTLINE_DATABASE_URL": database_url,
        "FAULTLINE_DEFINITIONS": str(definitions),
    }
    faultline = str(Path(sys.executable).with_name("faultline"))
    result = subprocess.run(
        [faultline, "report", "--json", "--at", str(end)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    reported = {item["key"]: item for item in json.loads(result.stdout)["slos"]}
    assert reported[KEY]["sampling"] == CHOSEN
    page = gather(engine, KEY, ViewState())
    assert page is not None
    line = by_id(headline(page), "detail-sampling")
    assert line.children == (
        "2m slices · series sampled every 2m (data) · configured 1m, too short for it"
    )
