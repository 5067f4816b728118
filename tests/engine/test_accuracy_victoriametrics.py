"""Accuracy against VictoriaMetrics: the field matrix's assertions on a representative slice.

VictoriaMetrics is loaded with exactly the samples Prometheus gets (same scenarios, scrape
intervals, phases and jitter) and the shipped YAML is unchanged; the bounds are the same.
With `FAULTLINE_FIELD_MATRIX=full` the whole matrix runs (every scenario at 10/15/30/60 s ×
phases 7/23/41 s, 60 cells, on SQLite and PostgreSQL, a few minutes), as `bench/bench_field.py`
sweeps it on Prometheus.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from app.slo.counts import rewrite
from app.sources.prometheus import PrometheusSource, SourceConfig, SourceKind
from app.testbed.truth import GroundTruth
from tests.conftest import RunningPrometheus
from tests.engine.conftest import Evaluated
from tests.engine.test_accuracy import figure_mismatches
from tests.fixtures.victoriametrics import BINARY as VICTORIAMETRICS
from tests.fixtures.victoriametrics import INSTALL_HINT, VictoriaMetricsServer

pytestmark = [pytest.mark.victoriametrics, pytest.mark.slow]

CELLS = [
    ("fast_burn", 10, 41),
    ("fast_burn", 15, 23),
    ("slow_burn", 15, 7),  # counter resets with four samples a slice, and a scrape gap
    ("fast_burn", 30, 7),  # payment-slow's `when` holds a minute later and longer than on 2.x
    ("queue_age", 30, 23),
    ("slow_burn", 60, 41),
    ("queue_age", 60, 7),
    ("overlapping", 15, 41),
]
MATRIX_DATABASES = ["sqlite"]  # and PostgreSQL for the whole matrix
if os.environ.get("FAULTLINE_FIELD_MATRIX") == "full":
    MATRIX_DATABASES = ["sqlite", "postgresql"]
    CELLS = [
        (name, interval, phase)
        for name in ("steady", "fast_burn", "slow_burn", "queue_age", "overlapping")
        for interval in (10, 15, 30, 60)
        for phase in (7, 23, 41)
    ]


@pytest.mark.parametrize("database_url", MATRIX_DATABASES, indirect=True)
@pytest.mark.parametrize(("name", "interval", "phase"), CELLS)
def test_every_figure_matches_the_truth_on_victoriametrics(
    evaluate_on_victoriametrics: Callable[..., Evaluated], name: str, interval: int, phase: int
) -> None:
    evaluated = evaluate_on_victoriametrics(name, interval=interval, phase=phase, jitter=1.0)
    failures = figure_mismatches(evaluated)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_victoriametrics_cell_on_postgresql(
    evaluate_on_victoriametrics: Callable[..., Evaluated],
) -> None:
    failures = figure_mismatches(
        evaluate_on_victoriametrics("fast_burn", interval=60, phase=7, jitter=1.0)
    )
    assert not failures, "\n".join(failures)


def test_a_sample_one_millisecond_into_a_slice_is_counted_on_victoriametrics(
    tmp_path: Path,
) -> None:
    """VictoriaMetrics' ranges are open at the start: `[59999ms]` at t misses a sample at
    t - 59.999 s, whose increase no slice would count; `[60000ms]` is the slice exactly."""
    if not VICTORIAMETRICS.is_file():
        pytest.skip(f"{VICTORIAMETRICS} is missing; {INSTALL_HINT}")
    start = 1_709_510_400
    with VictoriaMetricsServer(tmp_path / "data", tmp_path / "work") as server:
        stamps = [start * 1000, (start + 60) * 1000 + 1, (start + 180) * 1000]
        line = {"metric": {"__name__": "x_total"}, "values": [10, 20, 40], "timestamps": stamps}
        server.post("/api/v1/import", json.dumps(line).encode())
        server.post("/internal/force_flush", b"")
        counted: dict[SourceKind, float] = {}
        for kind in ("victoriametrics", "prometheus"):
            source = PrometheusSource(SourceConfig(url=server.url, kind=kind))
            query = rewrite(
                "sum(increase(x_total[{{window}}]))", 60, closed_ranges=source.closed_ranges
            )
            answer = source.query_range(query.query, start + 60, start + 180, 60)
            counted[kind] = sum(value for values in answer.values() for value in values)
    assert counted == {
        "victoriametrics": 30,
        "prometheus": 20,
    }  # the closed-range spelling loses 10 there


PAYMENT_SLOW = (
    'sum(rate(payment_client_requests_total{dependency="payment-provider", outcome="timeout"}'
    '[5m])) / sum(rate(payment_client_requests_total{dependency="payment-provider"}[5m])) > 0.01'
)


def test_a_when_condition_holds_where_victoriametrics_rate_says(
    victoriametrics_over: Callable[..., RunningPrometheus],
) -> None:
    """`when` is asked as written, so on VictoriaMetrics it means what its `rate()` computes
    (no extrapolation, the sample before the window): the truth asks it with those semantics
    (`app.testbed.vmsemantics`), and agrees with the server minute for minute, where Prometheus
    2.x's semantics would be a minute off at the burn's start and end."""
    running = victoriametrics_over("fast_burn", interval=30, phase=7, jitter=1.0)
    ends = list(running.truth.slo("checkout/checkout-latency").ends)
    answer = requests.get(
        f"{running.url}/api/v1/query_range",
        params={"query": PAYMENT_SLOW, "start": ends[0], "end": ends[-1], "step": 60},
        timeout=60,
    ).json()
    (series,) = answer["data"]["result"]
    held = {int(float(t)) for t, _ in series["values"]}
    truth = running.truth.slo("checkout/checkout-latency")
    assert held == {t for t in ends if truth.at(t).mode_when["payment-slow"]}
    # The same samples, the truth's `when` in Prometheus 2.42's semantics.
    prometheus_truth = GroundTruth(running.dataset).slo("checkout/checkout-latency")
    differs = held ^ {t for t in ends if prometheus_truth.at(t).mode_when["payment-slow"]}
    assert len(differs) == 2, sorted(differs)
