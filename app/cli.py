"""The `faultline` command: assembles the commands of `app.commands` under one Typer app.

Each command module defines its command (or group) and imports nothing from here; the shared
options and helpers are in `app.commands.options`. A run imports only the module of the command
it runs (`faultline report` never loads the server's, the dashboards' or the importers'
modules), and command modules import their heavy dependencies lazily, so short commands start
fast. `cli`, the app with every command, is built on first use (tests and `--help` use it).
"""

from __future__ import annotations

import gc
import sys
from importlib import import_module
from typing import Annotated

import typer

from app import __version__
from app.commands.collector import one_command_process, uncollected
from app.commands.helpstyle import FaultlineTyper

# (name on the command line, module in app.commands, attribute): registration order is the
# order `faultline --help` lists them in.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("backfill", "backfill", "backfill"),
    ("check-ledger", "check_ledger", "check_ledger"),
    ("dashboards", "dashboards", "dashboards"),
    ("demo", "demo", "demo"),
    ("import", "interop", "import_app"),
    ("export", "interop", "export_app"),
    ("replay", "replay", "replay"),
    ("report", "report", "report"),
    ("rules", "rules", "rules"),
    ("serve", "serve", "serve"),
    ("validate", "validate", "validate"),
)
HELP = "SLOs and error budgets for Prometheus, attributed to failure modes and design choices."


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"faultline {__version__}")
        raise typer.Exit()


def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit"
        ),
    ] = False,
) -> None:
    """SLOs and error budgets for Prometheus, attributed to failure modes and design choices."""


def build(only: str | None = None) -> typer.Typer:
    """The `faultline` app with every command, or with the command named `only` alone."""
    app = FaultlineTyper(
        name="faultline",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name, module, attribute in COMMANDS:
        if only is None or name == only:
            target = getattr(import_module(f"app.commands.{module}"), attribute)
            if isinstance(target, typer.Typer):
                app.add_typer(target, name=name)
            else:
                app.command(name)(target)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`app.cli.cli`: the app with every command, built once on first use."""
    if name != "cli":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = build()
    globals()["cli"] = app
    return app


def main() -> None:
    # Start-up creates a few hundred thousand objects that live as long as the process (modules,
    # models, SQLAlchemy constructs): the collector's passes over them while importing, and its
    # last pass at exit, cost a short command a third of its CPU time. So no collection while
    # the command is assembled (nor while a command imports lazily: `uncollected`), what that
    # made is frozen, and so is what exists at exit (left to the OS to free).
    # The first argument names the command when it is one; otherwise (no argument, --help,
    # --version, a typo) every command is registered, so help and errors list them all.
    first = sys.argv[1] if len(sys.argv) > 1 else None
    one_command_process()
    with uncollected():
        app = build(first if first in {name for name, _, _ in COMMANDS} else None)
    try:
        app()
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
