"""The engine learns sample intervals from Prometheus, also when it answers only later."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine.service import Engine
from app.slo.sampling import IntervalOrigin
from tests.conftest import RunningPrometheus

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
