"""`faultline check-ledger`: verify that every rollup equals the sum of its slices; repair."""

from __future__ import annotations

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

SHOWN = 10  # disagreements printed per SLO; the rest are counted


def check_ledger(
    repair: Annotated[
        bool, typer.Option("--repair", help="Rebuild the rollups that disagree from their slices")
    ] = False,
    definitions: DefinitionsOption = None,
    prometheus_url: PrometheusOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Recompute every hourly and five-minute rollup from its slices; list disagreements
    (exit 1 if any). With --repair, rebuild them (safe while `faultline serve` runs)."""
    from app.store import registry  # noqa: PLC0415 - keep start-up light
    from app.store.errors import StoreError  # noqa: PLC0415
    from app.store.invariants import repair_rollups, rollup_disagreements  # noqa: PLC0415
    from app.store.store import Store  # noqa: PLC0415

    settings = settings_from(definitions, prometheus_url, database_url)
    store = Store(settings.database_url)
    wrong = 0
    try:
        store.open(migrate=False)
        with store.read() as connection:
            stored = registry.list_slos(connection)
        for slo in stored:
            if repair:
                with store.begin() as connection:
                    found = repair_rollups(connection, slo.id)
            else:
                with store.snapshot() as connection:
                    found = rollup_disagreements(connection, slo.id)
            wrong += len(found)
            for item in found[:SHOWN]:
                out.print(f"{slo.key}: {item.describe()}", markup=False)
            if len(found) > SHOWN:
                out.print(f"{slo.key}: … and {len(found) - SHOWN} more", markup=False)
    except StoreError as error:
        err.print(str(error), markup=False, style="red")
        raise typer.Exit(3) from None
    finally:
        store.close()
    if not wrong:
        err.print(f"ledger consistent: the rollups of {len(stored)} SLO(s) equal their slices")
    elif repair:
        err.print(f"repaired {wrong} rollup field(s) from their slices")
    else:
        err.print(f"[red]{wrong} rollup field(s) disagree with their slices[/]: run with --repair")
        raise typer.Exit(1)
