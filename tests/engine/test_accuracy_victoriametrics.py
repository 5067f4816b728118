"""Accuracy against VictoriaMetrics: the field matrix's assertions on a representative slice.

VictoriaMetrics is loaded with exactly the samples Prometheus gets (same scenarios, scrape
intervals, phases and jitter) and the shipped YAML is unchanged; the bounds are the same.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.conftest import Evaluated
from tests.engine.test_accuracy import figure_mismatches

pytestmark = [pytest.mark.slow]

CELLS = [
    ("fast_burn", 15, 23),
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
