"""`faultline report`: the ledger's figures for one or all SLOs, as a table or stable JSON."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    err,
    out,
    settings_from,
)
from app.slo.report import Report, SLOReport, rfc3339
from app.slo.timeparse import parse_time


def report(
    slo: Annotated[
        list[str] | None,
        typer.Option("--slo", metavar="SERVICE/NAME", help="Repeat for several (default: all)"),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="TIME", help="End of the window: RFC 3339, epoch seconds or now-6h"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON shape")] = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Print budget, burn rates, attribution and incidents from the stored ledger."""
    from app.runtime.wiring import reporting_engine  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    try:
        moment = parse_time(at) if at else int(time.time())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from None
    from app.commands.ledger_place import empty_ledger, missing_ledger  # noqa: PLC0415
    from app.store.errors import StoreError  # noqa: PLC0415

    missing = missing_ledger(settings.database_url)
    if missing is not None:  # never create an empty file by looking
        err.print(missing, markup=False, style="red", soft_wrap=True)
        raise typer.Exit(1)
    try:
        engine = reporting_engine(settings)
    except StoreError as error:
        err.print(str(error), markup=False, style="red")
        raise typer.Exit(3) from None
    if not slo and not engine.definitions.slos:
        err.print(empty_ledger(settings.database_url), markup=False, style="red", soft_wrap=True)
        raise typer.Exit(1)
    keys = slo or engine.definitions.keys()
    reports: list[SLOReport] = []
    for key in keys:
        try:
            reports.append(engine.report(key, moment))
        except KeyError:
            known = ", ".join(engine.definitions.keys()) or "nothing yet"
            err.print(f"[red]unknown SLO[/] {key!r}; the ledger has: {known}")
            raise typer.Exit(1) from None
    document = Report(generated_at=rfc3339(time.time()), slos=reports)
    if as_json:
        out.print(document.model_dump_json(indent=2), markup=False)
        return
    show_table(out, reports)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def worst_first(reports: list[SLOReport]) -> list[SLOReport]:
    """Most budget consumed first; ties by name."""
    return sorted(reports, key=lambda item: (-item.budget.consumed, item.key))


def show_table(console: Console, reports: list[SLOReport]) -> None:
    """The table when it fits the terminal with every SLO name whole; otherwise the same
    figures as a list, one SLO to a few lines (a narrow terminal, or very long names)."""
    table = _table(reports)
    # Each column's least width, plus a border and two spaces of padding around each.
    needed = sum(column.min_width or 0 for column in table.columns) + 3 * len(table.columns) + 1
    if needed <= console.width:
        console.print(table)
        return
    console.print("Error budgets, most consumed first", markup=False)
    for item in worst_first(reports):
        rates = " ".join(
            f"{window} {_rate(item.burn_rates.get(window))}" for window in ("1h", "6h", "1d")
        )
        console.print(
            f"\n{item.key}\n  {item.status.value}, {item.policy}, "
            f"consumed {_percent(item.budget.consumed)}; burn rate {rates}\n"
            f"  top failure mode: {_top_mode(item)}",
            markup=False,
            highlight=False,
        )


def _top_mode(item: SLOReport) -> str:
    top = next((row for row in item.attribution if row.bad > 0), None)
    return f"{top.failure_mode} ({top.design_choice}) {_percent(top.share)}" if top else "–"


COLUMNS = ("SLO", "status", "policy", "consumed", "1h", "6h", "1d", "top failure mode")


def _table(reports: list[SLOReport]) -> Table:
    """Worst first. Every column but the last is as wide as its widest cell, so nothing is cut;
    the failure-mode column wraps. `show_table` uses a list where that does not fit."""
    rows = [
        (
            item.key,
            item.status.value,
            item.policy,
            _percent(item.budget.consumed),
            *(_rate(item.burn_rates.get(window)) for window in ("1h", "6h", "1d")),
            _top_mode(item),
        )
        for item in worst_first(reports)
    ]
    table = Table(title="Error budgets, most consumed first")
    for index, name in enumerate(COLUMNS[:-1]):
        width = max(len(name), *(len(row[index]) for row in rows)) if rows else len(name)
        table.add_column(
            name, no_wrap=True, min_width=width, justify="right" if index >= 3 else "left"
        )
    table.add_column(COLUMNS[-1], overflow="fold", min_width=16, ratio=1)
    for row in rows:
        table.add_row(*row)
    return table
