"""The `faultline` command: assembles the commands of `app.commands` under one Typer app.

Each command module defines its command (or group) and imports nothing from here; the shared
options and helpers are in `app.commands.options`. Command modules import their heavy
dependencies lazily, so `faultline --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app import __version__
from app.commands import (
    backfill,
    check_ledger,
    dashboards,
    demo,
    interop,
    replay,
    report,
    rules,
    serve,
    validate,
)
from app.commands.helpstyle import FaultlineTyper

cli = FaultlineTyper(
    name="faultline",
    help="SLOs and error budgets for Prometheus, attributed to failure modes and design choices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"faultline {__version__}")
        raise typer.Exit()


@cli.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """SLOs and error budgets for Prometheus, attributed to failure modes and design choices."""


# Registration order is the order `faultline --help` lists them in.
cli.command()(backfill.backfill)
cli.command("check-ledger")(check_ledger.check_ledger)
cli.add_typer(dashboards.dashboards, name="dashboards")
cli.command()(demo.demo)
cli.add_typer(interop.import_app, name="import")
cli.add_typer(interop.export_app, name="export")
cli.command()(replay.replay)
cli.command()(report.report)
cli.command()(rules.rules)
cli.command()(serve.serve)
cli.command()(validate.validate)


def main() -> None:
    cli()
