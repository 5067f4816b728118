"""What every command shares: the consoles, the three source options, settings and definitions.

Every command accepts `--definitions`, `--prometheus-url` and `--database-url`; each can also be
set as `FAULTLINE_DEFINITIONS`, `FAULTLINE_PROMETHEUS_URL`, `FAULTLINE_DATABASE_URL` or in the
TOML file named by `FAULTLINE_SETTINGS_FILE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from app.commands.helpstyle import described
from app.runtime.settings import Settings, load_settings

if TYPE_CHECKING:
    from rich.console import Console

    from app.slo.definitions import DefinitionSet

    err: Console
    out: Console


def __getattr__(name: str) -> Console:
    """`err` and `out`, the consoles, made on first use: `faultline report --json` prints
    without them, and importing rich's console is a good part of a short command's start-up."""
    if name not in ("err", "out"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def _console(name: str) -> Console:
    """The console `err` or `out` (this module's own code reads them through here)."""
    if name not in globals():
        from rich.console import Console  # noqa: PLC0415

        stderr = name == "err"
        globals()[name] = (
            Console(stderr=True) if stderr else Console(highlight=False, soft_wrap=True)
        )
    console: Console = globals()[name]
    return console


# Text, not Path: Typer builds a pydantic adapter for a Path option on every run (about 9 ms
# of a short command's start-up); the settings make it a Path.
DefinitionsOption = Annotated[
    str | None,
    typer.Option(
        "--definitions",
        metavar="DIR",
        help=described(
            "Directory of SLO YAML files", env="FAULTLINE_DEFINITIONS", default="slo_definitions/"
        ),
    ),
]
PrometheusOption = Annotated[
    str | None,
    typer.Option(
        "--prometheus-url",
        metavar="URL",
        help=described(
            "Prometheus base URL", env="FAULTLINE_PROMETHEUS_URL", default="http://127.0.0.1:9090"
        ),
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help=described(
            "SQLAlchemy URL of the ledger",
            env="FAULTLINE_DATABASE_URL",
            default="sqlite:///faultline.db",
        ),
    ),
]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `4 files`, `0 problems`: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def settings_from(
    definitions: Path | str | None, prometheus_url: str | None, database_url: str | None
) -> Settings:
    """Settings with the command's options on top; invalid settings end the command clearly."""
    try:
        return load_settings(
            definitions=definitions, prometheus_url=prometheus_url, database_url=database_url
        )
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            field = ".".join(str(part) for part in detail["loc"])
            _console("err").print(f"[red]invalid setting[/] {field}: {detail['msg']}")
        raise typer.Exit(2) from None


def valid_definitions(settings: Settings) -> DefinitionSet:
    """The definitions, when every file is valid; otherwise print each problem and exit 1.

    Commands that write something derived from all SLOs (rules, dashboards, exports) refuse a
    partial set, so a broken file never silently drops its SLOs from the output.
    """
    from app.runtime.loading import load_definitions  # noqa: PLC0415 - keep start-up light

    loaded = load_definitions(
        settings.definitions, alerts=settings.alerts, metricsql=settings.metricsql
    )
    if loaded.problems:
        for problem in loaded.problems:
            _console("out").print(str(problem), markup=False)
        _console("err").print(
            f"[red]{counted(len(loaded.problems), 'problem')}[/]: fix them first "
            "(faultline validate)"
        )
        raise typer.Exit(1)
    return loaded.definitions
