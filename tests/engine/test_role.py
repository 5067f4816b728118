"""One evaluator per ledger: a second process serves reads only and takes over on expiry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.engine.role import EvaluatorRole
from app.engine.service import Engine, EngineConfig
from app.slo.catalog import Catalog
from app.slo.definitions import DefinitionSet
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def processes(database_url: str, clock: Clock) -> Iterator[list[Engine]]:
    """Two engines on one ledger, as two `faultline serve` would be (never querying)."""
    made = [
        Engine(
            Store(database_url).open(),
            PrometheusSource(SourceConfig(url="http://127.0.0.1:9")),
            DefinitionSet(slos=(), catalog=Catalog(design_choices={})),
            EngineConfig(lease_seconds=30),
            clock=clock,
        )
        for _ in range(2)
    ]
    yield made
    for engine in made:
        engine.store.close()


def test_the_second_process_serves_reads_until_the_evaluator_lease_expires(
    processes: list[Engine], clock: Clock
) -> None:
    changes: list[tuple[str, str]] = []
    first, second = (
        EvaluatorRole(
            engine,
            on_gained=lambda e=engine: changes.append(("gained", e.holder)),
            on_lost=lambda e=engine: changes.append(("lost", e.holder)),
        )
        for engine in processes
    )
    assert first.renew()
    assert not second.renew()
    assert second.description == f"held by {processes[0].holder} (this process serves reads)"
    clock.now += 20
    assert first.renew()  # renewed: good for another 30 s
    clock.now += 20
    assert not second.renew()
    clock.now += 31  # the first process died: nobody renewed
    assert second.renew()
    assert second.description == "this process (generation 2)"
    assert not first.renew()  # it woke up: reads only now
    second.release()
    assert not second.renew()  # released at shutdown: it takes nothing any more
    assert first.renew()  # a clean shutdown hands over at once
    one, two = (engine.holder for engine in processes)
    assert changes == [("gained", one), ("gained", two), ("lost", one), ("gained", one)]
