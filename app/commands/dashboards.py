"""`faultline dashboards`: export Grafana dashboards, check board files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.commands.helpstyle import FaultlineTyper, described
from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    counted,
    err,
    out,
    settings_from,
    valid_definitions,
)

dashboards = FaultlineTyper(
    help="Grafana dashboards and board files (dashboards/*.yaml).", no_args_is_help=True
)

GENERATED = "faultline-*.json"


def render(dashboard: dict[str, object]) -> str:
    """Stable JSON text: the same definitions always give the same bytes."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


@dashboards.command("export")
def export(
    out_dir: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Directory for the JSON files")
    ] = Path("dashboards/grafana"),
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write Grafana dashboards over /metrics: an overview and one per service."""
    from app.interop.grafana import all_dashboards  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    files = all_dashboards(valid_definitions(settings))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(out_dir.glob(GENERATED)):
        if stale.name not in files:
            stale.unlink()  # a service that is gone takes its dashboard with it
            err.print(f"removed {stale}")
    for name, dashboard in files.items():
        path = out_dir / name
        text = render(dashboard)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            err.print(f"wrote {path}")
    err.print(f"[green]OK[/]: {counted(len(files), 'dashboard')} in {out_dir}")


@dashboards.command("validate")
def validate(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help=described("Board directory", env="FAULTLINE_DASHBOARDS", default="dashboards/"),
        ),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check board files; print one `file:line:col: message` line per problem."""
    from app.runtime.loading import load_definitions  # noqa: PLC0415
    from app.web.boardfiles import load_boards  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    root = directory or settings.dashboards
    if not root.is_dir():
        err.print(f"[red]no such directory[/]: {root}")
        raise typer.Exit(2)
    slos = load_definitions(
        settings.definitions, alerts=settings.alerts, metricsql=settings.metricsql
    ).definitions.slos
    loaded = load_boards(root, slos)
    for problem in loaded.problems:
        out.print(str(problem), markup=False)
    if loaded.problems:
        err.print(f"[red]{counted(len(loaded.problems), 'problem')}[/] in the boards of {root}")
        raise typer.Exit(1)
    err.print(f"[green]OK[/]: {counted(len(loaded.boards), 'board')} in {root}")
