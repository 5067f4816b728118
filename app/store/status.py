"""Status snapshots: each SLO's latest report, so lists never sum the ledger on a request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from app.slo.report import SLOReport
from app.store.ledger import upsert
from app.store.tables import slos, statuses


def save_status(connection: Connection, slo_id: int, report: SLOReport, now: int) -> None:
    upsert(
        connection,
        statuses,
        [
            {
                "slo_id": slo_id,
                "computed_at": now,
                "status": report.status.value,
                "policy": report.policy,
                "remaining": report.budget.remaining,
                "consumed": report.budget.consumed,
                "sli": report.sli,
                "burn_1h": report.burn_rates.get("1h"),
                "burn_6h": report.burn_rates.get("6h"),
                "burn_1d": report.burn_rates.get("1d"),
                "report": report.model_dump_json(),
            }
        ],
        ["slo_id"],
    )


def load_statuses(connection: Connection) -> dict[str, tuple[int, str]]:
    """SLO key → (computed_at, report JSON) for every active SLO with a snapshot."""
    rows = connection.execute(
        select(slos.c.key, statuses.c.computed_at, statuses.c.report)
        .join(statuses, statuses.c.slo_id == slos.c.id)
        .where(slos.c.active.is_(True))
    )
    return {row.key: (row.computed_at, row.report) for row in rows}


def status_row(connection: Connection, key: str) -> Any:
    return connection.execute(
        select(statuses).join(slos, statuses.c.slo_id == slos.c.id).where(slos.c.key == key)
    ).first()
