"""Engine fixtures: a real Prometheus scenario evaluated into a real ledger (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.engine.service import Engine, EngineConfig
from app.runtime.loading import load_definitions
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.spec import SLOSpec
from app.sources.prometheus import PrometheusSource, SourceConfig, SourceKind
from app.sources.retry import RetryPolicy
from app.store.store import Store
from tests.conftest import RunningPrometheus

REPO = Path(__file__).resolve().parents[2]


def shipped() -> DefinitionSet:
    result = load_definitions(REPO / "slo_definitions", alerts=REPO / "alerts")
    assert result.ok, result.problems
    return result.definitions


def definitions_with(tmp_path: Path, file_name: str, text: str) -> tuple[Path, DefinitionSet]:
    """A definitions directory holding `text` as `file_name` beside the shipped design-choice
    catalog, and what loads from it (asserted valid)."""
    directory = tmp_path / "slo_definitions"
    directory.mkdir()
    (directory / file_name).write_text(text)
    catalog = REPO / "slo_definitions" / "design_choices.yaml"
    (directory / catalog.name).write_bytes(catalog.read_bytes())
    loaded = load_definitions(directory, alerts=REPO / "alerts")
    assert loaded.ok, loaded.problems
    return directory, loaded.definitions


BROKEN_KEY = "broken/unknown-function"


def shipped_with_a_broken_slo() -> DefinitionSet:
    """The shipped SLOs and one whose `bad` is valid for the Rust parser the validator uses but
    refused by Prometheus 2.42 at query time (`sort_by_label`)."""
    definitions = shipped()
    broken = SLODefinition(
        service="broken",
        spec=SLOSpec.model_validate(
            {
                "name": "unknown-function",
                "objective": 99,
                "sli": {
                    "events": {
                        "total": "sum(rate(http_requests_total[{{window}}]))",
                        "bad": 'sum(rate(http_requests_total{code=~"5.."}[{{window}}])) and on() '
                        'absent_over_time(nonexistent_metric[{{window}}]) * sort_by_label(up, "job")',
                    }
                },
            }
        ),
    )
    return DefinitionSet(
        slos=(*definitions.slos, broken), catalog=definitions.catalog, alerts=definitions.alerts
    )


@dataclass
class Evaluated:
    engine: Engine
    running: RunningPrometheus
    end: int  # the last slice end of the scenario

    @property
    def start(self) -> int:
        return self.running.scenario.start


def make_engine(
    url: str,
    database: str,
    start: int,
    end: int,
    definitions: DefinitionSet | None = None,
    kind: SourceKind = "prometheus",
    **config: object,
) -> Engine:
    """An engine whose first tick covers the scenario from `start` to `end` exactly."""
    retry = RetryPolicy(attempts=2, base=0.05, cap=0.1)
    source = PrometheusSource(SourceConfig(url=url, timeout=10, retry=retry, kind=kind))
    settings = EngineConfig(evaluation_delay=0, initial_backfill=end - start, **config)  # type: ignore[arg-type]
    engine = Engine(
        Store(database).open(), source, definitions or shipped(), settings, clock=lambda: end
    )
    engine.sync()
    return engine


@pytest.fixture
def engines() -> Iterator[Callable[..., Engine]]:
    """`engines(url, database, start, end, ...)`: like make_engine, closed after the test."""
    made: list[Engine] = []

    def build(*args: object, **kwargs: object) -> Engine:
        engine = make_engine(*args, **kwargs)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    yield build
    for engine in made:
        engine.store.close()


def evaluator(
    serve: Callable[..., RunningPrometheus], database_url: str, kind: SourceKind = "prometheus"
) -> Iterator[Callable[..., Evaluated]]:
    """`run(name, **sampling)`: `serve` the scenario, and a ledger of all shipped SLOs."""
    engines: list[Engine] = []

    def run(name: str, **sampling: float) -> Evaluated:
        running = serve(name, **sampling)
        end = running.scenario.end
        engine = make_engine(running.url, database_url, running.scenario.start, end, kind=kind)
        engines.append(engine)
        result = engine.tick(now=end)
        assert not result.errors and result.unavailable is None, result
        return Evaluated(engine, running, end)

    yield run
    for engine in engines:
        engine.store.close()


@pytest.fixture
def evaluate(
    prometheus_over: Callable[..., RunningPrometheus], database_url: str
) -> Iterator[Callable[..., Evaluated]]:
    """`evaluate(name)`: Prometheus over the scenario, and a ledger of all shipped SLOs.

    `evaluate(name, interval=60, phase=41, jitter=1)` samples the scenario as in the field."""
    yield from evaluator(prometheus_over, database_url)


@pytest.fixture
def evaluate_on_victoriametrics(
    victoriametrics_over: Callable[..., RunningPrometheus], database_url: str
) -> Iterator[Callable[..., Evaluated]]:
    """Like `evaluate`, with VictoriaMetrics loaded with the same samples as the source."""
    yield from evaluator(victoriametrics_over, database_url, kind="victoriametrics")
