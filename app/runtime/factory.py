"""The application factory: wires settings, store, Prometheus, engine, scheduler, API and web.

Nothing is built at import time; `create_app()` builds the app and its lifespan opens and
closes everything, so tests can run several apps side by side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from app import __version__
from app.alerting.dispatcher import Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.metrics import AlertingCollector
from app.api import errors
from app.api.metrics import EngineMetrics, LedgerCollector
from app.api.routes import admin, alerts, attribution, catalog, corrections, health, slos
from app.engine.scheduler import EngineScheduler
from app.engine.service import Engine
from app.runtime.settings import Settings, load_settings
from app.runtime.state import AppState
from app.runtime.wiring import build_engine, load
from app.store import outage

log = logging.getLogger(__name__)

API_DESCRIPTION = """
Error budgets of SLOs on Prometheus, attributed to the failure modes and design choices that
spent them. Reads are open unless `FAULTLINE_REQUIRE_TOKEN_FOR_READS` is set; writes need
`Authorization: Bearer <FAULTLINE_API_TOKEN>`. Errors are JSON: `{"error": {"status", "message",
"details"}}`. Every figure comes from the stored ledger, never from a fresh Prometheus query.
"""


def prepare_process(settings: Settings) -> None:
    """Before serving: timestamped log lines, and a database that answers (waited for)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    outage.wait_until_answering(settings.database_url)


def create_app(
    settings: Settings | None = None,
    *,
    engine_factory: Callable[[Settings, EngineMetrics], Engine] | None = None,
    mount_web: bool = True,
) -> FastAPI:
    """Build the ASGI app. `engine_factory` lets tests hand in an engine with a fake clock."""
    config = settings or load_settings()

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
        engine.after_tick.append(metrics.observe_tick)
        # One line per store outage, not one traceback per tick, poll, scrape and request.
        outage.watch(engine.store.engine)
        outage.quiet_handlers()
        # Alerts are judged from the ledger after every tick; the dispatcher drains the outbox.
        evaluator = AlertEvaluator(
            engine.store, lambda: engine.definitions, base_url=config.base_url
        )
        engine.after_tick.append(evaluator.on_tick)
        dispatcher = Dispatcher(engine.store, lambda: engine.definitions.alerts)
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
        app.state.faultline = state
        # Every loaded SLO is listed from the first request on, stale until evaluated.
        engine.refresh_statuses(engine.clock(), engine.definitions.slos)
        if config.scheduler_enabled:
            # Only the evaluator (one per ledger) ticks and delivers; see app.engine.role.
            state.scheduler = EngineScheduler(
                engine, on_evaluator=dispatcher.start, on_reader=dispatcher.stop
            )
            state.scheduler.start()
        log.info("Faultline %s serving %d SLO(s)", __version__, len(engine.definitions.slos))
        try:
            yield
        finally:
            if state.scheduler is not None:
                state.scheduler.shutdown()  # waits for the tick in progress
            dispatcher.close()
            engine.store.close()

    app = FastAPI(
        title="Faultline",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    errors.install(app)
    for router in (
        slos.router,
        alerts.router,
        attribution.router,
        catalog.router,
        corrections.router,
        admin.router,
        health.router,
    ):
        app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> Response:
        state: AppState = app.state.faultline
        return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)

    if mount_web:
        from app.web.mount import mount_dashboards  # noqa: PLC0415 - Dash is heavy to import

        mount_dashboards(app)
    return app
