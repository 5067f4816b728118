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
from app.store.rollups import LEVELS

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
    if spans is not None and not spans:
        return SliceSeries.empty()
    ranges = [(window.start, window.end)] if spans is None else list(spans)
    names = "t, status, excluded, total, bad, unattributed" + (", modes" if modes else "")
    marker = _marker(connection)
    # The SLO is named in every term, so that SQLite and PostgreSQL range-scan the primary
    # key once per span instead of reading all of the SLO's slices (as `any_range` does).
    term = f"(slo_id = {marker} AND t > {marker} AND t <= {marker})"
    where = " OR ".join(term for _ in ranges)
    rows = _raw_rows(
        connection,
        f"SELECT {names} FROM slices WHERE {where} ORDER BY t",  # noqa: S608
        [value for lo, hi in ranges for value in (slo_id, lo, hi)],
    )
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
    mode_table = FIVE_MINUTES.modes
    marker = _marker(connection)
    where = f"slo_id = {marker} AND bucket > {marker} AND bucket <= {marker}"
    columns = "bucket, slices, no_data_slices, excluded_slices, total, bad, unattributed"
    statement = f"SELECT {columns} FROM fivemin WHERE {where} ORDER BY bucket"  # noqa: S608
    rows = _raw_rows(connection, statement, [slo_id, window.start, window.end])
    if not rows:
        return SliceSeries.empty()
    table = np.asarray(rows, dtype=np.float64)  # every column at once
    t = table[:, 0].astype(np.int64)
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
    counts = table[:, 1:4].astype(np.int64)
    return SliceSeries(
        t,
        counts[:, 0],
        counts[:, 1],
        counts[:, 2],
        table[:, 4].copy(),
        table[:, 5].copy(),
        table[:, 6].copy(),
        credited,
    )


def _marker(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _raw_rows(connection: Connection, sql: str, parameters: list[int]) -> list[tuple[Any, ...]]:
    """Plain tuples from the driver: these reads return tens of thousands of rows, and result
    rows built for each would cost more than the database's own work. The statements are
    built from fixed column names and markers, never from input."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall())
    finally:
        cursor.close()
