"""Status snapshots: each SLO's latest report, so lists never sum the ledger on a request."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, asc, desc, func, select

from app.slo.report import SLOReport
from app.store.ledger import upsert
from app.store.tables import slos, statuses


def save_status(connection: Connection, slo_id: int, report: SLOReport, now: int) -> None:
    save_statuses(connection, [(slo_id, report)], now)


def save_statuses(
    connection: Connection, reports: Sequence[tuple[int, SLOReport]], now: int
) -> None:
    """Upsert the snapshot of each (SLO id, report), in one statement."""
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
            for slo_id, report in reports
        ],
        ["slo_id"],
    )


def computed_at(connection: Connection) -> dict[int, int]:
    """When each SLO's snapshot was computed, by SLO id."""
    rows = connection.execute(select(statuses.c.slo_id, statuses.c.computed_at))
    return {slo_id: at for slo_id, at in rows}  # noqa: C416 - Row is not a pair for mypy


ListingOrder = Literal["remaining", "burn_rate", "name"]


@dataclass(frozen=True)
class ListingQuery:
    """Which snapshots a listing returns, in which order; empty criteria keep everything."""

    keys: Collection[str] | None = None  # None: every active SLO
    policies: Sequence[str] = ()
    states: Sequence[str] = ()
    order: ListingOrder = "remaining"  # then the key; burn_rate is the 1h rate, missing = -1
    descending: bool = False
    limit: int | None = None
    offset: int = 0
    parent_id: int | None = None  # the groups of this grouped SLO instead of SLOs
    search: str | None = None  # case-insensitive substring of the key


def listing(connection: Connection, query: ListingQuery) -> tuple[int, list[str]]:
    """(snapshots matching, report JSON of the requested page in order).

    The database filters, sorts and pages, so a request reads only its page's rows: fetching
    all rows to sort them in Python made each request step through every SLO, and each step
    gives up the GIL, which under concurrent requests cost more than the query itself.
    """
    conditions = [
        slos.c.active.is_(True),
        slos.c.parent_id.is_(None)
        if query.parent_id is None
        else slos.c.parent_id == query.parent_id,
    ]
    if query.search:
        conditions.append(func.lower(slos.c.key).contains(query.search.lower(), autoescape=True))
    if query.keys is not None:
        conditions.append(slos.c.key.in_(list(query.keys)))
    if query.policies:
        conditions.append(statuses.c.policy.in_(list(query.policies)))
    if query.states:
        conditions.append(statuses.c.status.in_(list(query.states)))
    joined = slos.join(statuses, statuses.c.slo_id == slos.c.id)
    total = connection.execute(select(func.count()).select_from(joined).where(*conditions))
    # Byte order for keys on every database, as Python's sort would give.
    key = slos.c.key.collate("C") if connection.dialect.name == "postgresql" else slos.c.key
    orderings: dict[ListingOrder, list[ColumnElement[Any]]] = {
        "remaining": [statuses.c.remaining],
        "burn_rate": [func.coalesce(statuses.c.burn_1h, -1.0)],
        "name": [],
    }
    primary = orderings[query.order]
    direction = desc if query.descending else asc
    page = (
        select(statuses.c.report)
        .select_from(joined)
        .where(*conditions)
        .order_by(*(direction(column) for column in [*primary, key]))
        .limit(query.limit)
        .offset(query.offset)
    )
    return int(total.scalar_one()), list(connection.execute(page).scalars())


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
