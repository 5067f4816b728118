"""Reads of no-data reasons: the latest no-data slice of an SLO and the stretch it ends.

Bounded below by a floor the caller picks (the last hour, or the period), so an SLO that has
data never costs a scan of its history.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, or_, select

from app.slo.ledger import NoData, SliceStatus
from app.slo.no_data import NoDataRun
from app.store.tables import slices

NO_DATA = SliceStatus.NO_DATA.value


def latest_run(connection: Connection, slo_id: int, floor: int, through: int) -> NoDataRun | None:
    """The latest no-data slice in `(floor, through]` and the first slice end of its stretch
    (consecutive no-data slices with the same reason), or None without one."""
    latest = connection.execute(
        select(slices.c.t, slices.c.no_data)
        .where(
            slices.c.slo_id == slo_id,
            slices.c.t > floor,
            slices.c.t <= through,
            slices.c.status == NO_DATA,
        )
        .order_by(slices.c.t.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    last, encoded = int(latest[0]), latest[1]
    stored = slices.c.no_data
    differs = stored.isnot(None) if encoded is None else or_(stored.is_(None), stored != encoded)
    other = connection.execute(
        select(func.max(slices.c.t)).where(
            slices.c.slo_id == slo_id,
            slices.c.t > floor,
            slices.c.t < last,
            or_(slices.c.status != NO_DATA, differs),
        )
    ).scalar()
    since = connection.execute(
        select(func.min(slices.c.t)).where(
            slices.c.slo_id == slo_id,
            slices.c.t > (other if other is not None else floor),
            slices.c.t <= last,
        )
    ).scalar()
    return NoDataRun(NoData.decode(encoded), int(since if since is not None else last), last)
