"""Status snapshots: each SLO's latest report, so lists never sum the ledger on a request."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class StatusRow:
    key: str
    computed_at: int
    status: str
    policy: str
    remaining: float
    sli: float | None
    burn_1h: float | None
    burn_6h: float | None
    burn_1d: float | None


def status_rows(connection: Connection) -> list[StatusRow]:
    """The sortable columns of every active SLO's snapshot (no report JSON: lists stay fast)."""
    rows = connection.execute(
        select(
            slos.c.key,
            statuses.c.computed_at,
            statuses.c.status,
            statuses.c.policy,
            statuses.c.remaining,
            statuses.c.sli,
            statuses.c.burn_1h,
            statuses.c.burn_6h,
            statuses.c.burn_1d,
        )
        .join(statuses, statuses.c.slo_id == slos.c.id)
        .where(slos.c.active.is_(True))
    )
    return [StatusRow(*row) for row in rows]


def reports(connection: Connection, keys: list[str]) -> dict[str, str]:
    """Report JSON of the snapshots of `keys`."""
    if not keys:
        return {}
    rows = connection.execute(
        select(slos.c.key, statuses.c.report)
        .join(statuses, statuses.c.slo_id == slos.c.id)
        .where(slos.c.key.in_(keys))
    )
    return {key: report for key, report in rows}  # noqa: C416 - Row is not a pair for mypy
