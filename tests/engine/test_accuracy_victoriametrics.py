"""Accuracy against VictoriaMetrics: the field matrix's assertions on a representative slice.

VictoriaMetrics is loaded with exactly the samples Prometheus gets (same scenarios, scrape
intervals, phases and jitter) and the shipped YAML is unchanged; the bounds are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from app.slo.counts import rewrite
from app.sources.prometheus import PrometheusSource, SourceConfig, SourceKind
from tests.engine.conftest import Evaluated
from tests.engine.test_accuracy import figure_mismatches
from tests.fixtures.victoriametrics import BINARY as VICTORIAMETRICS
from tests.fixtures.victoriametrics import INSTALL_HINT, VictoriaMetricsServer

pytestmark = [pytest.mark.victoriametrics, pytest.mark.slow]

CELLS = [
    ("fast_burn", 15, 23),
    ("slow_burn", 15, 7),  # counter resets with four samples a slice, and a scrape gap
    ("slow_burn", 60, 41),
    ("queue_age", 60, 7),
    ("overlapping", 15, 41),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
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
