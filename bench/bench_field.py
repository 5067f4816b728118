"""The field matrix, swept whole: every scenario at 10/15/30/60 s scrapes, three phases, ±1 s.

For each cell the scenario is generated with that sampling, written into a TSDB, served by a
real Prometheus, and every shipped SLO is evaluated into a SQLite ledger twice: with the engine
as it is (counts as differences of samples, effective slices) and, for comparison, with the
previous method (the YAML's `rate(...[{{window}}])` asked as written and multiplied by the
slice, on the configured slice). Each report is compared with the ground truth as the accuracy
tests do. Usage:

    PYTHONPATH=. .venv/bin/python -m bench.bench_field [--intervals 10 15 30 60]
        [--phases 7 23 41] [--scenarios fast_burn ...] [--jitter 1]

Prints one JSON line per cell and a Markdown table at the end; bench/RESULTS.md records it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load_definitions
from app.slo import counts, promql, queries
from app.slo.windows import STANDARD_WINDOWS
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store.store import Store
from app.testbed.dataset import generate
from app.testbed.prometheus import PrometheusServer
from app.testbed.scenarios import NAMED_SCENARIOS
from app.testbed.truth import GroundTruth
from app.testbed.tsdb import build_tsdb

REPO = Path(__file__).resolve().parents[1]
START = 1_709_510_400
MINUTES = {"steady": 360, "fast_burn": 360, "slow_burn": 1440, "queue_age": 360}
MINUTES["overlapping"] = 360
WINDOW_SECONDS = dict(STANDARD_WINDOWS)


@contextmanager
def previous_method() -> Iterator[None]:
    """The engine before this change: windowed rates asked as written, on configured slices."""
    render, make = queries.Signal.render, queries.counter_signal

    def plain(self: queries.Signal, window_seconds: int, **_: object) -> str:
        return promql.render(self.template, window_seconds)

    def as_written(
        key: str, role: queries.SignalRole, template: str, unit: queries.Unit | None, mode=None
    ) -> queries.Signal:
        return queries.Signal(key, role, template, unit, mode, template_unit=unit)

    queries.Signal.render = plain  # type: ignore[method-assign]
    queries.counter_signal = as_written  # type: ignore[assignment]
    try:
        yield
    finally:
        queries.Signal.render = render  # type: ignore[method-assign]
        queries.counter_signal = make


def earlier_increase(selector: str, window_seconds: int, *, closed_ranges: bool = True) -> str:
    """The sample-difference count before the restart fix: `previous` written three times."""
    inside = f"[{window_seconds * 1000 - (1 if closed_ranges else 0)}ms]"
    fresh = f"last_over_time({selector}{inside})"
    highest = f"max_over_time({selector}{inside})"
    previous = f"last_over_time({selector}[1h] offset {window_seconds}s)"
    reset = f"({fresh} < {previous} or resets({selector}{inside}) > 0)"
    steady = f"(({fresh} - {previous}) unless {reset})"
    return f"({steady} or ({fresh} + clamp_min({highest} - {previous}, 0)))"


@contextmanager
def earlier_counts() -> Iterator[None]:
    """Counts with the earlier formula (for side-by-side timings)."""
    current = counts.sample_increase
    counts.sample_increase = earlier_increase
    counts.rewrite.cache_clear()
    try:
        yield
    finally:
        counts.sample_increase = current
        counts.rewrite.cache_clear()


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def errors(engine: Engine, truth: GroundTruth, end: int) -> dict[str, float]:
    """Worst errors over the shipped SLOs: consumed and burns relative, shares in points."""
    worst = {"consumed": 0.0, "share_points": 0.0, "burn": 0.0, "no_data_slices": 0.0}
    for key in truth.keys:
        report = engine.report(key, end)
        slo = truth.slo(key)
        period = slo.window(epoch(report.window.start), end)
        worst["no_data_slices"] = max(worst["no_data_slices"], report.no_data_slices)
        worst["consumed"] = max(
            worst["consumed"], relative(report.budget.consumed, period.consumed)
        )
        for row in report.attribution:
            share = period.share(row.failure_mode) or 0.0
            worst["share_points"] = max(worst["share_points"], abs(row.share - share) * 100)
        for label in ("1h", "6h", "1d"):
            window = slo.window(end - WINDOW_SECONDS[label], end)
            worst["burn"] = max(worst["burn"], relative(report.burn_rates[label], window.burn_rate))
    return worst


def relative(value: float | None, truth: float | None) -> float:
    if value is None or truth is None:
        return 0.0 if value is None and truth is None else 1.0
    if truth == 0:
        return 0.0 if abs(value) < 1e-9 else 1.0
    return abs(value - truth) / abs(truth)


def evaluate(url: str, database: str, start: int, end: int, *, old: bool) -> Engine:
    definitions = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts").definitions
    source = PrometheusSource(SourceConfig(url=url, timeout=30))
    # The old method knew nothing of sample intervals: one second keeps every configured slice.
    config = EngineConfig(
        evaluation_delay=0, initial_backfill=end - start, scrape_interval=1 if old else None
    )
    engine = Engine(Store(database).open(), source, definitions, config, clock=lambda: end)
    engine.sync()
    result = engine.tick(now=end)
    assert not result.errors and result.unavailable is None, result
    return engine


def cell(name: str, interval: int, phase: int, jitter: float, root: Path) -> dict[str, object]:
    named = NAMED_SCENARIOS[name](START, MINUTES[name])
    scenario = replace(named.scenario, interval=interval, phase=phase, jitter=jitter)
    began = time.monotonic()
    dataset = generate(scenario)
    truth = GroundTruth(dataset)
    directory = root / f"{name}-{interval}-{phase}"
    build_tsdb(dataset, directory / "tsdb", work_dir=root)
    figures: dict[str, object] = {"scenario": name, "interval": interval, "phase": phase}
    with PrometheusServer(directory / "tsdb", work_dir=directory / "prometheus") as server:
        for method in ("new", "old"):
            database = f"sqlite:///{directory}/{method}.db"
            if method == "old":
                with previous_method():
                    engine = evaluate(server.url, database, scenario.start, scenario.end, old=True)
                    figures[method] = errors(engine, truth, scenario.end)
            else:
                engine = evaluate(server.url, database, scenario.start, scenario.end, old=False)
                figures[method] = errors(engine, truth, scenario.end)
            engine.store.close()
    figures["seconds"] = round(time.monotonic() - began, 1)
    shutil.rmtree(directory, ignore_errors=True)
    return figures


def passes(worst: dict[str, float]) -> bool:
    return worst["consumed"] <= 0.01 and worst["share_points"] <= 1 and worst["burn"] <= 0.02


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| Scenario | Scrape | Phase | Consumed (worst rel.) | Shares (worst, points) "
        "| 1h/6h/1d burn (worst rel.) | Within bounds | Previous method: consumed / burn "
        "/ no-data slices | Previous within bounds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        new, old = row["new"], row["old"]
        assert isinstance(new, dict) and isinstance(old, dict)
        lines.append(
            f"| {row['scenario']} | {row['interval']} s | {row['phase']} s "
            f"| {new['consumed']:.4%} | {new['share_points']:.3f} | {new['burn']:.4%} "
            f"| {'yes' if passes(new) else 'NO'} "
            f"| {old['consumed']:.2%} / {old['burn']:.2%} / {old['no_data_slices']:.0f} "
            f"| {'yes' if passes(old) else 'no'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", nargs="+", default=list(MINUTES))
    parser.add_argument("--intervals", nargs="+", type=int, default=[10, 15, 30, 60])
    parser.add_argument("--phases", nargs="+", type=int, default=[7, 23, 41])
    parser.add_argument("--jitter", type=float, default=1.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="faultline-field-"))
    rows = []
    try:
        for name in args.scenarios:
            for interval in args.intervals:
                for phase in args.phases:
                    row = cell(name, interval, phase % max(interval, 60), args.jitter, root)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(rows))


if __name__ == "__main__":
    main()
