"""Accuracy: every figure of every shipped SLO, from a real Prometheus, against ground truth.

Budget consumed within 1% relative, attribution shares within 1 percentage point, burn rates of
1h / 6h / 1d within 2% relative (the issue's bounds); in practice they agree to rounding.

The field matrix samples the scenarios as Prometheus scrapes in the field: every 10, 15, 30 or
60 s, at some second after the minute, ±1 s, with the shipped YAML unchanged. A representative
slice runs here (each interval with another phase, every scenario at 60 s, one cell at 5 s and
one at 2 minutes, the ends of the range the engine takes, PostgreSQL once);
`bench/bench_field.py` sweeps the whole matrix, and so does this suite with
`FAULTLINE_FIELD_MATRIX=full` (every scenario at 5/10/15/30/60 s × phases 7/23/41 s, 75 cells,
on SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

import pytest

from app.slo.report import SLOReport
from app.slo.windows import STANDARD_WINDOWS
from app.store.registry import definition_of
from app.testbed.window import WindowTruth
from tests.engine.conftest import Evaluated

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

SCENARIOS = ["steady", "fast_burn", "slow_burn", "queue_age", "overlapping"]
WINDOW_SECONDS = dict(STANDARD_WINDOWS)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def relative(value: float | None, truth: float | None, tolerance: float) -> bool:
    if truth is None or value is None:
        return truth is None and value is None
    if truth == 0:
        return abs(value) < 1e-9
    return abs(value - truth) <= tolerance * abs(truth)


def mismatches(
    report: SLOReport, period: WindowTruth, windows: dict[str, WindowTruth]
) -> list[str]:
    found = []
    consumed = period.consumed or 0.0
    if not relative(report.budget.consumed, consumed, 0.01):
        found.append(f"consumed {report.budget.consumed} != truth {consumed}")
    if report.events.total != pytest.approx(period.total, rel=1e-6):
        found.append(f"total {report.events.total} != truth {period.total}")
    for row in report.attribution:
        truth_share = period.share(row.failure_mode) or 0.0
        if abs(row.share - truth_share) > 0.01:
            found.append(f"share of {row.failure_mode} {row.share} != truth {truth_share}")
    truth_unattributed = period.unattributed_share or 0.0
    if abs(report.unattributed.share - truth_unattributed) > 0.01:
        found.append(f"unattributed {report.unattributed.share} != truth {truth_unattributed}")
    for label, truth in windows.items():
        if not relative(report.burn_rates[label], truth.burn_rate, 0.02):
            found.append(f"burn {label} {report.burn_rates[label]} != truth {truth.burn_rate}")
    return found


def figure_mismatches(evaluated: Evaluated) -> list[str]:
    failures = []
    for key in evaluated.running.truth.keys:
        truth = evaluated.running.truth.slo(key)
        report = evaluated.engine.report(key, evaluated.end)
        period = truth.window(epoch(report.window.start), evaluated.end)
        windows = {
            label: truth.window(evaluated.end - WINDOW_SECONDS[label], evaluated.end)
            for label in ("1h", "6h", "1d")
        }
        failures += [f"{key}: {problem}" for problem in mismatches(report, period, windows)]
        assert report.status.value == "ok", (key, report.status, report.error)
    return failures


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_figure_matches_the_ground_truth(
    evaluate: Callable[..., Evaluated], name: str
) -> None:
    failures = figure_mismatches(evaluate(name))
    assert not failures, "\n".join(failures)


FIELD_CELLS = [
    ("overlapping", 5, 23),  # the shortest interval the issue names
    ("fast_burn", 10, 7),
    ("overlapping", 15, 23),
    ("queue_age", 30, 41),
    ("fast_burn", 60, 41),
    ("slow_burn", 60, 23),
    ("queue_age", 60, 7),
    ("overlapping", 60, 41),
]
MATRIX_DATABASES = ["sqlite"]  # and PostgreSQL for the whole matrix
if os.environ.get("FAULTLINE_FIELD_MATRIX") == "full":
    MATRIX_DATABASES = ["sqlite", "postgresql"]
    FIELD_CELLS = [
        (name, interval, phase)
        for name in SCENARIOS
        for interval in (5, 10, 15, 30, 60)
        for phase in (7, 23, 41)
    ]


@pytest.mark.parametrize("database_url", MATRIX_DATABASES, indirect=True)
@pytest.mark.parametrize(("name", "interval", "phase"), FIELD_CELLS)
def test_every_figure_matches_the_truth_at_field_scrape_intervals(
    evaluate: Callable[..., Evaluated], name: str, interval: int, phase: int
) -> None:
    evaluated = evaluate(name, interval=interval, phase=phase, jitter=1.0)
    failures = figure_mismatches(evaluated)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_minute_scrapes_are_evaluated_on_two_minute_slices_and_say_so(
    evaluate: Callable[..., Evaluated],
) -> None:
    evaluated = evaluate("queue_age", interval=120, phase=41, jitter=1.0)
    failures = figure_mismatches(evaluated)
    assert not failures, "\n".join(failures)
    for key in evaluated.running.truth.keys:
        sampling = evaluated.engine.report(key, evaluated.end).sampling
        assert sampling is not None, key
        assert sampling.model_dump() == {
            "slice_seconds": 120,
            "configured_slice_seconds": 60,
            "sample_interval_seconds": 120,
            "interval_origin": "data",
        }, key
    # `faultline report` reads the stored definitions: they keep the sampling too.
    stored = evaluated.engine.stored_slos()
    assert all(
        definition_of(stored[key]).sampling == evaluated.engine.definitions.get(key).sampling  # type: ignore[union-attr]
        for key in evaluated.running.truth.keys
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_field_cell_on_postgresql(evaluate: Callable[..., Evaluated]) -> None:
    failures = figure_mismatches(evaluate("slow_burn", interval=60, phase=41, jitter=1.0))
    assert not failures, "\n".join(failures)


def test_a_fast_burn_is_one_budget_incident_with_its_own_attribution(
    evaluate: Callable[[str], Evaluated],
) -> None:
    evaluated = evaluate("fast_burn")
    facts = evaluated.running.built.named.facts
    report = evaluated.engine.report("checkout/checkout-success", evaluated.end)
    assert len(report.incidents) == 1
    incident = report.incidents[0]
    start, end = epoch(incident.start), epoch(incident.end)
    # Five-minute buckets: the incident's edges land within one bucket of the injected burn.
    assert abs(start - facts["incident_start"]) <= 300
    assert abs(end - facts["incident_end"]) <= 300
    truth = evaluated.running.truth.slo("checkout/checkout-success")
    period = truth.window(epoch(report.window.start), evaluated.end)
    span = truth.window(start, end)
    assert incident.consumed == pytest.approx(span.bad / (period.total * period.budget), rel=1e-6)
    assert incident.top_failure_mode == "payment-timeout"
    top = incident.attribution[0]
    assert top.failure_mode == "payment-timeout"
    assert top.share == pytest.approx(span.share("payment-timeout"), abs=1e-9)
