"""`faultline demo`: Prometheus with 30 days of failure history, fed live, and Faultline on it."""

from __future__ import annotations

from typing import Annotated

import typer

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    settings_from,
)


def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboards and API")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of generated history")] = 30,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Start a local Prometheus with realistic failure data and serve Faultline on it.

    Ctrl-C stops everything the demo started and removes its temporary files. With
    --prometheus-url no Prometheus is started: the demo serves the shipped SLOs on yours.
    With --database-url the ledger is kept there instead of in the temporary directory.
    """
    import uvicorn  # noqa: PLC0415

    from app.demo import DemoWorld, PrometheusNotInstalledError, start_world  # noqa: PLC0415
    from app.runtime.factory import create_app  # noqa: PLC0415

    base = settings_from(definitions, prometheus_url, database_url)
    world: DemoWorld | None = None
    if prometheus_url is None:
        try:
            world = start_world(err, days)
        except PrometheusNotInstalledError as error:
            err.print(f"[red]{error}[/]")
            err.print("Install it with: [bold]apt-get install prometheus[/] (or run ./run.sh demo)")
            raise typer.Exit(1) from None
    try:
        updates: dict[str, object] = {"port": port}
        if world is not None:
            updates["prometheus_url"] = world.prometheus.url
            if database_url is None:
                updates["database_url"] = f"sqlite:///{world.directory / 'faultline.db'}"
            err.print(world.story.splitlines()[0] + f" ({world.incidents} incidents)", markup=False)
        settings = base.model_copy(update=updates)
        err.print(
            f"\n[bold green]Faultline[/] at [bold]http://{settings.host}:{port}[/]  "
            f"(API /api/v1/slos, docs /docs, metrics /metrics)\n"
            f"The first evaluation backfills {days} days; figures fill in within a minute.\n"
            "Press Ctrl-C to stop everything."
        )
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=30,
        )
    finally:
        if world is not None:
            world.close()
            err.print("demo stopped; temporary files removed")
