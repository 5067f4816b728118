"""`faultline validate`: check definitions and report every problem as `file:line:col: message`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    out,
    settings_from,
)
from app.runtime.loading import load_definitions


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories to check (default: the definitions, alerts and boards)"
        ),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check SLO, catalog and alert files; print one `file:line:col: message` line per problem."""
    settings = settings_from(definitions, prometheus_url, database_url)
    targets = list(paths or [])
    root = targets[0] if targets else settings.definitions
    result = load_definitions(
        root,
        alerts=settings.alerts,
        extra_paths=targets[1:],
        catalog=settings.definitions / "design_choices.yaml",
    )
    problems = list(result.problems)
    if not targets and settings.dashboards.is_dir():  # boards select SLOs: check them too
        from app.web.boardfiles import load_boards  # noqa: PLC0415

        problems += load_boards(settings.dashboards, result.definitions.slos).problems
    for problem in problems:
        out.print(str(problem), markup=False)
    slo_count = len(result.definitions.slos)
    if problems:
        err.print(
            f"[red]{len(problems)} problem(s)[/] in {len(result.files)} file(s); "
            f"{slo_count} SLO(s) valid"
        )
        raise typer.Exit(1)
    err.print(f"[green]OK[/]: {slo_count} SLO(s) in {len(result.files)} file(s)")
