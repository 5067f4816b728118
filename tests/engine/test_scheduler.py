"""The scheduler's tick job: a catch-up at start, then ticks just after each slice boundary."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.engine.scheduler import EngineScheduler
from app.engine.service import Engine, EngineConfig
from app.engine.ticks import TickResult
from app.slo.catalog import Catalog
from app.slo.definitions import DefinitionSet
from app.sources.prometheus import PrometheusSource, SourceConfig
from app.store.store import Store


def _engine(database_url: str) -> Engine:
    """An engine with no SLOs (it never queries)."""
    return Engine(
        Store(database_url).open(),
        PrometheusSource(SourceConfig(url="http://127.0.0.1:9")),
        DefinitionSet(slos=(), catalog=Catalog(design_choices={})),
        EngineConfig(lease_seconds=30),
    )


def test_ticks_keep_their_phase_on_the_slice_boundaries_after_the_start_up_catch_up(
    database_url: str,
) -> None:
    """The catch-up at start runs at once, and the ticks after it still run 5 s past a slice
    boundary (not a tick interval after the start, up to a minute after their slices)."""
    engine = _engine(database_url)
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


def test_backfills_run_while_ticks_hold_every_tick_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long tick and the tick waiting for it (a takeover's, say) must not hold up backfills:
    a new leader's takeover of a dead leader's backfill waited for them (39 s at a 3 s lease)."""
    engine = _engine(f"sqlite:///{tmp_path}/ledger.db")
    release, ticking, backfilled = threading.Event(), threading.Semaphore(0), threading.Event()

    def long_tick(now: float | None = None, *, deadline: float | None = None) -> TickResult:
        ticking.release()
        release.wait(60)
        return TickResult(started=0.0)

    monkeypatch.setattr(engine, "tick", long_tick)
    # The catch-up at start, then the tick job 5 s past the next second, both held; the first
    # backfill run comes after both.
    scheduler = EngineScheduler(engine, tick_seconds=1, backfill_seconds=8)

    def run_backfills(*, wait: bool) -> None:
        backfilled.set()

    monkeypatch.setattr(scheduler, "_run_backfills", run_backfills)
    try:
        scheduler.start()
        assert ticking.acquire(timeout=30) and ticking.acquire(timeout=30), "no ticks"
        assert backfilled.wait(30), "the backfill run waited for the ticks"
    finally:
        release.set()
        scheduler.shutdown()
        engine.store.close()
