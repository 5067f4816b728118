"""`faultline report`: the ledger's figures for one or all SLOs, as a table or stable JSON."""

from __future__ import annotations

import time
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
    from app.commands.report_table import show_table  # noqa: PLC0415 - only for a table

    show_table(out, reports)
