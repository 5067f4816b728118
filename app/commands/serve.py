"""`faultline serve`: one process with the scheduler, the API, the dashboards and /metrics."""

from __future__ import annotations

from typing import Annotated

import typer

from app.commands.helpstyle import described
from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    settings_from,
)
from app.slo.redaction import redact_url


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help=described("Listen address", env="FAULTLINE_HOST", default="127.0.0.1"),
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help=described("Port", env="FAULTLINE_PORT", default="8000")),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Evaluate SLOs on a schedule; serve the API (/api/v1, /docs), dashboards (/), /metrics."""
    import uvicorn  # noqa: PLC0415

    from app.runtime.factory import create_app, prepare_process  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    overrides = {
        key: value for key, value in {"host": host, "port": port}.items() if value is not None
    }
    if overrides:
        settings = settings.model_copy(update=overrides)
    address = f"http://{settings.host}:{settings.port}"
    err.print(f"Faultline on {address} (Prometheus {redact_url(settings.prometheus_url)})")
    try:
        prepare_process(settings)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=30,
    )
