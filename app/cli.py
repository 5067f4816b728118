"""The `faultline` command: validate, serve, backfill, report, rules, demo and friends.

Every command accepts `--definitions`, `--prometheus-url` and `--database-url`; each can also be
set as `FAULTLINE_DEFINITIONS`, `FAULTLINE_PROMETHEUS_URL`, `FAULTLINE_DATABASE_URL` or in the
TOML file named by `FAULTLINE_SETTINGS_FILE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from app.settings import Settings, load_settings

cli = typer.Typer(
    name="faultline",
    help="SLOs and error budgets for Prometheus, attributed to failure modes and design choices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

DefinitionsOption = Annotated[
    Path | None,
    typer.Option("--definitions", help="Directory of SLO YAML files [env FAULTLINE_DEFINITIONS]"),
]
PrometheusOption = Annotated[
    str | None,
    typer.Option("--prometheus-url", help="Prometheus base URL [env FAULTLINE_PROMETHEUS_URL]"),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL of the ledger [env FAULTLINE_DATABASE_URL]"
    ),
]


@cli.callback()
def _root() -> None:
    """SLOs and error budgets for Prometheus, attributed to failure modes and design choices."""


def settings_from(
    definitions: Path | None, prometheus_url: str | None, database_url: str | None
) -> Settings:
    """Settings with the command's options on top; invalid settings end the command clearly."""
    try:
        return load_settings(
            definitions=definitions, prometheus_url=prometheus_url, database_url=database_url
        )
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            field = ".".join(str(part) for part in detail["loc"])
            err.print(f"[red]invalid setting[/] {field}: {detail['msg']}")
        raise typer.Exit(2) from None


@cli.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or directories to check (default: the definitions and alerts)"),
    ] = None,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Check SLO, catalog and alert files; print one `file:line:col: message` line per problem."""
    from app.loading import load_definitions  # noqa: PLC0415 - keep start-up light

    settings = settings_from(definitions, prometheus_url, database_url)
    targets = list(paths or [])
    root = targets[0] if targets else settings.definitions
    result = load_definitions(
        root,
        alerts=settings.alerts,
        extra_paths=targets[1:],
        catalog=settings.definitions / "design_choices.yaml",
    )
    for problem in result.problems:
        out.print(str(problem), markup=False)
    slo_count = len(result.definitions.slos)
    if result.problems:
        err.print(
            f"[red]{len(result.problems)} problem(s)[/] in {len(result.files)} file(s); "
            f"{slo_count} SLO(s) valid"
        )
        raise typer.Exit(1)
    err.print(f"[green]OK[/]: {slo_count} SLO(s) in {len(result.files)} file(s)")


def main() -> None:
    cli()
