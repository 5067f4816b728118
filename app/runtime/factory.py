"""The application factory: the FastAPI app with its routes, /metrics and the dashboards.

Nothing is built at import time; `create_app()` builds the app and its lifespan
(`app.runtime.lifespan`) opens and closes everything, so tests can run several apps side by side.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app import __version__
from app.api import errors
from app.api.docs import install_docs
from app.api.routes import (
    admin,
    alerts,
    attribution,
    catalog,
    cluster,
    corrections,
    groups,
    health,
    replay,
    slos,
)
from app.runtime.lifespan import EngineFactory, lifespan_for
from app.runtime.settings import Settings, load_settings
from app.runtime.state import AppState
from app.store import outage

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
    engine_factory: EngineFactory | None = None,
    mount_web: bool = True,
) -> FastAPI:
    """Build the ASGI app. `engine_factory` lets tests hand in an engine with a fake clock."""
    config = settings or load_settings()

    app = FastAPI(
        title="Faultline",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan_for(config, engine_factory),
        docs_url=None,  # /docs and /redoc are served without a CDN (install_docs)
        redoc_url=None,
    )
    errors.install(app)
    install_docs(app)
    for router in (
        slos.router,
        groups.router,
        alerts.router,
        attribution.router,
        catalog.router,
        corrections.router,
        admin.router,
        cluster.router,
        health.router,
        replay.router,
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
