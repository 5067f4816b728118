"""Reads of no-data reasons: the latest no-data slice of an SLO and the stretch it ends.

Bounded below by a floor the caller picks (the last hour, or the period), and slice by slice by
a day at most, so no SLO costs a scan of its history.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, or_, select

from app.slo.ledger import NoData, SliceStatus
from app.slo.no_data import NoDataRun
from app.store.tables import hourly, slices

NO_DATA = SliceStatus.NO_DATA.value
HOUR, DAY = 3600, 86_400


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
    # Slice by slice over at most a day before it; a longer stretch is found from the hourly
    # rollups (to the hour), so an SLO without data for a month costs no month-long scan.
    near = max(floor, last - DAY)
    stored = slices.c.no_data
    differs = stored.isnot(None) if encoded is None else or_(stored.is_(None), stored != encoded)
    other = connection.execute(
        select(func.max(slices.c.t)).where(
            slices.c.slo_id == slo_id,
            slices.c.t > near,
            slices.c.t < last,
            or_(slices.c.status != NO_DATA, differs),
        )
    ).scalar()
    if other is None and near > floor:
        other = _last_hour_with_data(connection, slo_id, floor, near)
    since = connection.execute(
        select(func.min(slices.c.t)).where(
            slices.c.slo_id == slo_id,
            slices.c.t > (other if other is not None else floor),
            slices.c.t <= last,
        )
    ).scalar()
    return NoDataRun(NoData.decode(encoded), int(since if since is not None else last), last)


def _last_hour_with_data(connection: Connection, slo_id: int, floor: int, before: int) -> int:
    """The end of the latest hour with a slice with data, from `floor` to the hour holding
    `before`, else `floor` (to the hour: the stretch may have begun later within it)."""
    found = connection.execute(
        select(func.max(hourly.c.hour)).where(
            hourly.c.slo_id == slo_id,
            hourly.c.hour > floor,
            hourly.c.hour < before + HOUR,  # the hour holding `before` too
            hourly.c.slices + hourly.c.excluded_slices > 0,
        )
    ).scalar()
    return int(found) if found is not None else floor
