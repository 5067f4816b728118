"""`faultline validate`: check definitions and report every problem as `file:line:col: message`.

With `--prometheus-url` (or `--check-data`, for the configured source) it also asks the source
whether each SLO can have data as written (see `app/sources/datacheck.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    counted,
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
    check_data: Annotated[
        bool,
        typer.Option(
            "--check-data",
            help="Ask the configured source whether each SLO can have data (implied by "
            "--prometheus-url)",
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="TIME", help="Check the data as of: RFC 3339, epoch seconds or now-6h"
        ),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check SLO, catalog and alert files; print one `file:line:col: message` line per problem.

    With --prometheus-url, also run each SLO's queries against the source once and name every
    SLO that can never have data as written, why, and the fix (exit 1 when there is one).
    """
    settings = settings_from(definitions, prometheus_url, database_url)
    targets = list(paths or [])
    root = targets[0] if targets else settings.definitions
    result = load_definitions(
        root,
        alerts=settings.alerts,
        extra_paths=targets[1:],
        catalog=settings.definitions / "design_choices.yaml",
        metricsql=settings.metricsql,
    )
    for problem in sorted(result.problems + result.warnings):
        out.print(str(problem), markup=False)
    problems = list(result.problems)
    if not targets and settings.dashboards.is_dir():  # boards select SLOs: check them too
        from app.web.boardfiles import load_boards  # noqa: PLC0415

        boards = load_boards(settings.dashboards, result.definitions.slos).problems
        for problem in boards:
            out.print(str(problem), markup=False)
        problems += boards
    slos = counted(len(result.definitions.slos), "SLO")
    checked = _files_asked_for(result.files, targets or [settings.definitions])
    if check_data or prometheus_url is not None:
        from app.commands.datacheck import check_sources_data  # noqa: PLC0415

        if not check_sources_data(settings, result.definitions.slos, at) and not problems:
            raise typer.Exit(1)
    if problems:
        with_problems = counted(len({problem.file for problem in problems}), "file")
        err.print(
            f"[red]{counted(len(problems), 'problem')}[/] in {with_problems}; {slos} valid "
            f"({counted(len(checked), 'file')} checked)"
        )
        raise typer.Exit(1)
    warned = f"; {counted(len(result.warnings), 'warning')}" if result.warnings else ""
    err.print(f"[green]OK[/]: {slos} in {counted(len(checked), 'file')}{warned}")


def _files_asked_for(files: list[Path], asked: list[Path]) -> list[Path]:
    """The files read that were asked for (named, or in a named directory), not the catalog
    and alert files read alongside them."""
    roots = [path.resolve() for path in asked]
    return [
        file
        for file in files
        if any(file.resolve() == root or root in file.resolve().parents for root in roots)
    ]
