"""`faultline demo`: Prometheus with 30 days of failure history, fed live, and Faultline on it."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli import cli, err


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the dashboards and API")] = 8000,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of generated history")] = 30,
) -> None:
    """Start a local Prometheus with realistic failure data and serve Faultline on it.

    Ctrl-C stops everything the demo started and removes its temporary files.
    """
    import uvicorn  # noqa: PLC0415

    from app.demo import start_world  # noqa: PLC0415
    from app.main import create_app  # noqa: PLC0415
    from app.settings import load_settings  # noqa: PLC0415
    from app.testbed.prometheus import PrometheusNotInstalledError  # noqa: PLC0415

    try:
        world = start_world(err, days)
    except PrometheusNotInstalledError as error:
        err.print(f"[red]{error}[/]")
        err.print("Install it with: [bold]apt-get install prometheus[/] (or run ./run.sh demo)")
        raise typer.Exit(1) from None
    with world:
        settings = load_settings(
            prometheus_url=world.prometheus.url,
            database_url=f"sqlite:///{world.directory / 'faultline.db'}",
            port=port,
        )
        err.print(world.story.splitlines()[0] + f" ({world.incidents} incidents)", markup=False)
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
    err.print("demo stopped; temporary files removed")
