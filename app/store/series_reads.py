"""One SLO's stored slices over a window, as columns (`app.slo.series.SliceSeries`).

Replay reads tens of thousands of slices per SLO, so this is a lean read: only the columns
replay needs, straight from the driver, and the per-mode JSON only when modes are asked for.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import numpy as np
from sqlalchemy import Connection, select

from app.slo.ledger import SliceStatus
from app.slo.series import Floats, SliceSeries
from app.slo.windows import Window
from app.store.tables import slices


def read_series(
    connection: Connection, slo_id: int, window: Window, modes: Collection[str] = ()
) -> SliceSeries:
    """The SLO's slices with ends in `window`; credit per mode only for `modes`."""
    columns = [slices.c.t, slices.c.status, slices.c.excluded, slices.c.total, slices.c.bad]
    columns.append(slices.c.unattributed)
    if modes:
        columns.append(slices.c.modes)
    rows = connection.execute(
        select(*columns)
        .where(slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end)
        .order_by(slices.c.t)
    ).all()
    if not rows:
        return SliceSeries.empty()
    ok = SliceStatus.OK.value
    t = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    no_data = np.fromiter((row[1] != ok for row in rows), dtype=np.bool_, count=len(rows))
    excluded = np.fromiter((bool(row[2]) for row in rows), dtype=np.bool_, count=len(rows))
    excluded &= ~no_data
    counted = ~no_data & ~excluded

    def amount(column: int) -> Floats:
        values = np.fromiter((row[column] for row in rows), dtype=np.float64, count=len(rows))
        return np.where(counted, values, 0.0)

    credited: dict[str, Floats] = {}
    if modes:
        wanted = set(modes)
        credited = {mode: np.zeros(len(rows)) for mode in wanted}
        for index, row in enumerate(rows):
            if not counted[index] or row[6] == "{}":
                continue
            for name, (credit, _raw, _held) in json.loads(row[6]).items():
                if name in wanted:
                    credited[name][index] = credit
    return SliceSeries(t, counted, no_data, excluded, amount(3), amount(4), amount(5), credited)
