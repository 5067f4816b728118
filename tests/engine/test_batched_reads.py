"""Steady ticks ask their SLOs' queries a few to a request: the ledger is the one of queries
asked alone, and a query Prometheus refuses fails its own SLO only, never its batch's. Real
Prometheus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.engine.service import Engine
from app.sources.prometheus import PrometheusSource
from app.sources.shared_reads import SharedReads
from app.store import registry
from app.store.tables import slices, slos
from tests.conftest import RunningPrometheus
from tests.engine.conftest import shipped_with_a_broken_slo

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

BROKEN = "broken/unknown-function"


def as_if_evaluated(engine: Engine, key: str, checkpoint: int) -> None:
    """The SLO's checkpoint at `checkpoint`: its next ticks are steady ones."""
    with engine.store.begin() as connection:
        stored = registry.get_slo(connection, key)
        assert stored is not None
        registry.set_checkpoint(connection, stored.id, checkpoint)


def ledger_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.store.read() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(slos.c.key, *[c for c in slices.c if c.name != "slo_id"])
                .join(slos, slos.c.id == slices.c.slo_id)
                .order_by(slos.c.key, slices.c.t)
            )
        ]


def test_batched_steady_ticks_write_the_ledger_of_queries_asked_alone(
    prometheus_over: Callable[[str], RunningPrometheus],
    engines: Callable[..., Engine],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = prometheus_over("fast_burn")
    start, end = running.scenario.start, running.scenario.end
    first = end - 12 * 60  # the first tick is a backfill, the next twelve steady ticks
    definitions = shipped_with_a_broken_slo()
    batched = engines(running.url, database_url, start, first, definitions)
    alone = engines(running.url, f"sqlite:///{tmp_path}/alone.db", start, first, definitions)
    requests: list[tuple[int, bool]] = []  # (queries in the request, answered)
    query_batch = PrometheusSource.query_batch

    def counted(source: PrometheusSource, queries: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            answers = query_batch(source, queries, *args, **kwargs)
        except Exception:
            requests.append((len(queries), False))
            raise
        requests.append((len(queries), True))
        return answers

    monkeypatch.setattr(PrometheusSource, "query_batch", counted)
    for now in range(first, end + 1, 60):
        result = batched.tick(now=now)
        if now == first:
            as_if_evaluated(batched, BROKEN, first)  # a query that stopped working
        assert set(result.errors) == {BROKEN}, result.errors
        assert "sort_by_label" in result.errors[BROKEN]
        assert len(result.evaluated) == len(definitions.slos) - 1
    steady = len(range(first + 60, end + 1, 60))
    assert sum(answered for _, answered in requests) >= steady  # batches were answered
    assert any(not answered for _, answered in requests)  # the broken query's failed
    assert max(size for size, _ in requests) > 2

    monkeypatch.setattr(SharedReads, "prefetch", lambda *args: None)  # every query alone
    for now in range(first, end + 1, 60):
        assert set(alone.tick(now=now).errors) == {BROKEN}
        if now == first:
            as_if_evaluated(alone, BROKEN, first)
    assert ledger_rows(batched) == ledger_rows(alone)
