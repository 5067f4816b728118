"""The scheduler's tick job: a catch-up at start, then ticks just after each slice boundary."""

from __future__ import annotations

import time

from app.engine.scheduler import EngineScheduler
from app.engine.service import Engine, EngineConfig
from app.slo.catalog import Catalog
from app.slo.definitions import DefinitionSet
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store.store import Store


def test_ticks_keep_their_phase_on_the_slice_boundaries_after_the_start_up_catch_up(
    database_url: str,
) -> None:
    """The catch-up at start runs at once, and the ticks after it still run 5 s past a slice
    boundary (not a tick interval after the start, up to a minute after their slices)."""
    engine = Engine(
        Store(database_url).open(),
        PrometheusSource(SourceConfig(url="http://127.0.0.1:9")),
        DefinitionSet(slos=(), catalog=Catalog(design_choices={})),
        EngineConfig(lease_seconds=30),
    )
    scheduler = EngineScheduler(engine, tick_seconds=60)
    try:
        scheduler.start()
        deadline = time.monotonic() + 30
        while engine.last_tick is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.last_tick is not None, "no catch-up tick at start"
        next_tick = scheduler.next_tick()
        assert next_tick is not None
        assert next_tick % 60 == 5, time.strftime("%H:%M:%S", time.gmtime(next_tick))
    finally:
        scheduler.shutdown()
        engine.store.close()
