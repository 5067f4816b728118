"""Re-marking stored slices when budget corrections change.

Slices keep their raw counts whether excluded or not, so a new (or removed) correction over the
past needs no Prometheus query: the `excluded` flags of the covered slices flip, and the rollups
of the hours they fall in are rebuilt from the slices.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, or_, select, update

from app.slo.exclusions import ExcludedSlices
from app.slo.windows import Window, align_up
from app.store.hour_sums import note_rewrite
from app.store.ledger import HOUR, rebuild_hours
from app.store.locks import lock_slo
from app.store.tables import slices

# Bound parameters per statement, and ranges per OR, stay well under SQLite's limits (999
# variables in old builds, expression depth 1000).
BATCH = 500
RANGES = 100


def stored_span(connection: Connection, slo_id: int) -> Window | None:
    """`(first slice end − 1, last slice end]`: every stored slice of the SLO, or None."""
    first, last = connection.execute(
        select(func.min(slices.c.t), func.max(slices.c.t)).where(slices.c.slo_id == slo_id)
    ).one()
    return None if first is None else Window(int(first) - 1, int(last))


def remark_slices(
    connection: Connection, slo_id: int, excluded: ExcludedSlices, window: Window
) -> int:
    """Make the `excluded` flags of the stored slices in `window` match `excluded`; rebuild the
    rollups of every hour that changed. Returns how many slices changed.

    Only slices that may change are read: those flagged now, and those inside `excluded`.
    """
    lock_slo(connection, slo_id)  # before reading the flags: another writer may be re-marking
    in_window = (
        (slices.c.slo_id == slo_id) & (slices.c.t > window.start) & (slices.c.t <= window.end)
    )
    flagged = connection.execute(
        select(slices.c.t).where(in_window, slices.c.excluded.is_(True))
    ).scalars()
    to_include = [t for t in flagged if t not in excluded]
    unflagged = select(slices.c.t).where(in_window, slices.c.excluded.is_(False))
    to_exclude: list[int] = []
    if 0 < len(excluded.ranges) <= RANGES:  # a few windows: the primary key finds them
        inside = or_(*[slices.c.t.between(first, last) for first, last in excluded.ranges])
        to_exclude = list(connection.execute(unflagged.where(inside)).scalars())
    elif excluded:  # many (an hourly recurrence): one pass over the window is cheaper
        to_exclude = [t for t in connection.execute(unflagged).scalars() if t in excluded]
    for ends, flag in ((to_exclude, True), (to_include, False)):
        for offset in range(0, len(ends), BATCH):
            connection.execute(
                update(slices)
                .where(slices.c.slo_id == slo_id, slices.c.t.in_(ends[offset : offset + BATCH]))
                .values(excluded=flag)
            )
    hours = sorted({align_up(t, HOUR) for t in (*to_exclude, *to_include)})
    if hours:
        note_rewrite(connection, slo_id, min(*to_exclude, *to_include))
        rebuild_hours(connection, slo_id, hours)
    return len(to_exclude) + len(to_include)
