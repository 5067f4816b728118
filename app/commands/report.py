"""`faultline report`: the ledger's figures for one or all SLOs, as a table or stable JSON."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from app.commands import options
from app.commands.collector import uncollected
from app.commands.options import (
    DatabaseOption,
    DefinitionsOption,
    PrometheusOption,
    settings_from,
)
from app.slo.report import Report, rfc3339
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
    # Only the ledger's read side: no engine, no Prometheus client, no Alembic (start-up time).
    with uncollected():
        from app.commands.ledger_place import empty_ledger, missing_ledger  # noqa: PLC0415
        from app.runtime.reading import ledger_reports  # noqa: PLC0415
        from app.store.errors import StoreError  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    try:
        moment = parse_time(at) if at else int(time.time())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from None
    missing = missing_ledger(settings.database_url)
    if missing is not None:  # never create an empty file by looking
        options.err.print(missing, markup=False, style="red", soft_wrap=True)
        raise typer.Exit(1)
    try:
        ledger = ledger_reports(settings)
        reports = ledger.reports(slo or None, moment)
    except StoreError as error:
        options.err.print(str(error), markup=False, style="red")
        raise typer.Exit(3) from None
    except KeyError as unknown:
        known = ", ".join(ledger.keys()) or "nothing yet"
        options.err.print(f"[red]unknown SLO[/] {unknown.args[0]!r}; the ledger has: {known}")
        raise typer.Exit(1) from None
    if not slo and not reports:
        options.err.print(
            empty_ledger(settings.database_url), markup=False, style="red", soft_wrap=True
        )
        raise typer.Exit(1)
    document = Report(generated_at=rfc3339(time.time()), slos=reports)
    if as_json:
        # Straight out, not through the rich console: its line handling cost about a
        # millisecond per SLO, more than reading the SLO's figures.
        typer.echo(document.model_dump_json(indent=2))
        return
    from app.commands.report_table import show_table  # noqa: PLC0415 - only for a table

    show_table(options.out, reports)
