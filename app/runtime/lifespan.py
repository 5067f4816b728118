"""The serving process's lifespan: what opens at start-up and closes at shutdown, in order.

Start-up loads the definitions, builds the engine, hooks alert evaluation and self-metrics onto
every tick, publishes the process state for the API and dashboards, then starts the scheduler
(which runs the alert dispatcher while this process is the ledger's evaluator). Shutdown waits
for the tick in progress, then closes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from app import __version__
from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.metrics import AlertingCollector
from app.alerting.worker import JudgeWorker
from app.api.cluster_metrics import ClusterCollector
from app.api.metrics import EngineMetrics, LedgerCollector
from app.engine.scheduler import SHUTDOWN_GRACE, EngineScheduler
from app.engine.service import Engine
from app.runtime.loading import LoadResult, load
from app.runtime.settings import Settings
from app.runtime.state import AppState, as_seen_by_api_and_dashboards
from app.runtime.wiring import build_engine
from app.store import outage

log = logging.getLogger(__name__)

EngineFactory = Callable[[Settings, EngineMetrics], Engine]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan_for(config: Settings, engine_factory: EngineFactory | None = None) -> Lifespan:
    """The lifespan of one app; `engine_factory` lets tests hand in an engine with a fake clock."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = CollectorRegistry()
        metrics = EngineMetrics(registry)
        loaded = load(config)
        for problem in loaded.problems:
            log.warning("definition problem (SLO skipped): %s", problem)
        if engine_factory is not None:
            engine = engine_factory(config, metrics)
        else:
            engine = build_engine(config, loaded.definitions, observer=metrics.observe_query)
        # One line per store outage, not one traceback per tick, poll, scrape and request.
        outage.watch(engine.store.engine)
        outage.quiet_handlers()
        state, judging = _process_state(config, engine, registry, metrics, loaded)
        # Alerts are judged from the ledger after every tick; the dispatcher drains the outbox.
        dispatcher = Dispatcher(engine.store, lambda: engine.definitions.alerts)
        app.state.faultline, _ = as_seen_by_api_and_dashboards(state)
        # Every loaded SLO is listed from the first request on, stale until evaluated.
        engine.refresh_statuses(engine.clock(), engine.definitions.slos)
        if config.scheduler_enabled:
            # SQLite: only the evaluator ticks and delivers. PostgreSQL: every process ticks its
            # share, the leader delivers. See app.engine.role and app.engine.sharing.
            state.scheduler = EngineScheduler(
                engine, on_evaluator=dispatcher.take_over, on_reader=dispatcher.stop
            )
            state.scheduler.start()
        log.info("Faultline %s serving %d SLO(s)", __version__, len(engine.definitions.slos))
        try:
            yield
        finally:
            if state.scheduler is not None:
                state.scheduler.shutdown()  # waits for the tick in progress
            if not judging.stop(SHUTDOWN_GRACE):  # and for the alert judgement in progress
                log.warning("shutdown: the alert judgement in progress did not end in time")
            dispatcher.close()
            engine.store.close()

    return lifespan


def _process_state(
    config: Settings,
    engine: Engine,
    registry: CollectorRegistry,
    metrics: EngineMetrics,
    loaded: LoadResult,
) -> tuple[AppState, JudgeWorker]:
    """The state the API and dashboards read, with the tick hooks and collectors registered,
    and the worker that judges alerts after the scheduler's ticks."""
    engine.after_tick.append(metrics.observe_tick)
    evaluator = AlertEvaluator(engine.store, lambda: engine.definitions, base_url=config.base_url)

    def leading() -> bool:
        # On PostgreSQL every process ticks its share of the SLOs; the leader alone judges.
        return state.scheduler is None or state.scheduler.role.held

    # Off the scheduler's tick thread (a long judgement held it and the next tick was skipped);
    # leadership is checked again when the judgement starts. Ticks run by hand (no scheduler)
    # are judged before the tick returns.
    judging = JudgeWorker(lambda: evaluator.evaluate() if leading() else None)

    def judge_alerts(result: object) -> None:
        if state.scheduler is None:
            evaluator.on_tick(result)
        elif leading():
            judging.request()

    engine.after_tick.append(judge_alerts)
    state = AppState(
        settings=config,
        engine=engine,
        registry=registry,
        definition_problems=[str(problem) for problem in loaded.problems],
    )
    registry.register(
        LedgerCollector(lambda: state.engine, on_store_error=metrics.store_errors.inc)
    )
    registry.register(
        AlertingCollector(lambda: state.engine.store, time.time, metrics.store_errors.inc)
    )
    registry.register(ClusterCollector(lambda: state.scheduler, engine.clock))
    return state, judging
