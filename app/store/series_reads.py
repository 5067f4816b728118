"""One SLO's ledger over a window, as columns (`app.slo.series.SliceSeries`): its slices, or
its five-minute rollup buckets.

Replay reads months of ledger per SLO, so these are lean reads: only the columns replay needs,
and the per-mode credit only for the modes asked for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from app.slo.ledger import SliceStatus
from app.slo.series import Floats, Ints, SliceSeries
from app.slo.windows import Window
from app.store import rollup_reads
from app.store.rollups import LEVELS
from app.store.tables import slices

FIVE_MINUTES = LEVELS[1]


def read_series(
    connection: Connection,
    slo_id: int,
    window: Window,
    modes: Collection[str] = (),
    spans: Sequence[tuple[int, int]] | None = None,
) -> SliceSeries:
    """The SLO's slices with ends in `window` (or only in `spans`, each `(lo, hi]`), with the
    credit of `modes`."""
    columns = [slices.c.t, slices.c.status, slices.c.excluded, slices.c.total, slices.c.bad]
    columns.append(slices.c.unattributed)
    if modes:
        columns.append(slices.c.modes)
    query = select(*columns)
    if spans is None:
        query = query.where(
            slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end
        )
        parameters: dict[str, int] = {}
    else:
        if not spans:
            return SliceSeries.empty()
        query = query.where(rollup_reads.any_range(slices.c.slo_id, slices.c.t, len(spans)))
        parameters = rollup_reads.span_parameters(slo_id, spans)
    rows = connection.execute(query.order_by(slices.c.t), parameters).all()
    if not rows:
        return SliceSeries.empty()
    count = len(rows)
    ok = SliceStatus.OK.value
    t = np.fromiter((row[0] for row in rows), dtype=np.int64, count=count)
    no_data = np.fromiter((row[1] != ok for row in rows), dtype=np.int64, count=count)
    excluded = np.fromiter((bool(row[2]) for row in rows), dtype=np.int64, count=count)
    excluded *= 1 - no_data
    counted = (1 - no_data) * (1 - excluded)

    def amount(column: int) -> Floats:
        values = np.fromiter((row[column] for row in rows), dtype=np.float64, count=count)
        return np.where(counted > 0, values, 0.0)

    credited = _credited(rows, counted, modes) if modes else {}
    return SliceSeries(t, counted, no_data, excluded, amount(3), amount(4), amount(5), credited)


def _credited(rows: Sequence[Any], counted: Ints, modes: Collection[str]) -> dict[str, Floats]:
    wanted = set(modes)
    credited = {mode: np.zeros(len(rows)) for mode in wanted}
    for index, row in enumerate(rows):
        if not counted[index] or row[6] == "{}":
            continue
        for name, (credit, _raw, _held) in json.loads(row[6]).items():
            if name in wanted:
                credited[name][index] = credit
    return credited


def read_buckets(
    connection: Connection, slo_id: int, window: Window, modes: Collection[str] = ()
) -> SliceSeries:
    """The SLO's five-minute rollups with ends in `window`, one element per bucket at its end."""
    sums, mode_table = FIVE_MINUTES.sums, FIVE_MINUTES.modes
    key = FIVE_MINUTES.key_of(sums)
    rows = connection.execute(
        select(
            key,
            sums.c.slices,
            sums.c.no_data_slices,
            sums.c.excluded_slices,
            sums.c.total,
            sums.c.bad,
            sums.c.unattributed,
        )
        .where(sums.c.slo_id == slo_id, key > window.start, key <= window.end)
        .order_by(key)
    ).all()
    if not rows:
        return SliceSeries.empty()
    columns = list(zip(*rows, strict=True))
    t = np.asarray(columns[0], dtype=np.int64)
    credited: dict[str, Floats] = {}
    if modes:
        mode_key = FIVE_MINUTES.key_of(mode_table)
        credited = {mode: np.zeros(len(rows)) for mode in modes}
        for end, mode, credit in connection.execute(
            select(mode_key, mode_table.c.mode, mode_table.c.credited).where(
                mode_table.c.slo_id == slo_id,
                mode_key > window.start,
                mode_key <= window.end,
                mode_table.c.mode.in_(list(modes)),
            )
        ):
            credited[mode][int(np.searchsorted(t, end))] = credit
    return SliceSeries(
        t,
        np.asarray(columns[1], dtype=np.int64),
        np.asarray(columns[2], dtype=np.int64),
        np.asarray(columns[3], dtype=np.int64),
        np.asarray(columns[4], dtype=np.float64),
        np.asarray(columns[5], dtype=np.float64),
        np.asarray(columns[6], dtype=np.float64),
        credited,
    )
