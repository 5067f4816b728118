"""Ledger reads and writes: idempotent slice upserts, hourly rollups, window sums.

Writing a slice twice leaves one row with the second value, and every hour a write touches is
rebuilt from its slices, so re-evaluating any range never double counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app.slo.ledger import ModeSlice, SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import Window, align_up
from app.store.tables import hourly, hourly_modes, slices

HOUR = 3600


def upsert(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike."""
    if not rows:
        return
    dialect = connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _encode_modes(modes: dict[str, ModeSlice] | Any) -> str:
    return json.dumps(
        {
            name: [
                outcome.credited,
                outcome.raw_bad,
                None if outcome.held is None else int(outcome.held),
            ]
            for name, outcome in modes.items()
        },
        separators=(",", ":"),
    )


def _decode_modes(text: str) -> dict[str, ModeSlice]:
    return {
        name: ModeSlice(
            credited=credited, raw_bad=raw_bad, held=None if held is None else bool(held)
        )
        for name, (credited, raw_bad, held) in json.loads(text).items()
    }


def record_from_row(row: Any) -> SliceRecord:
    # By mapping: `Row.t` is the row's own tuple accessor, not our column.
    values = row._mapping
    return SliceRecord(
        t=values["t"],
        status=SliceStatus(values["status"]),
        total=values["total"],
        bad=values["bad"],
        unattributed=values["unattributed"],
        modes=_decode_modes(values["modes"]),
        events_total=values["events_total"],
        events_bad=values["events_bad"],
        value=values["value"],
        excluded=bool(values["excluded"]),
    )


def write_slices(
    connection: Connection, slo_id: int, records: Sequence[SliceRecord], slice_seconds: int = 60
) -> None:
    """Upsert slices and rebuild the hours they fall in, in the caller's transaction."""
    if not records:
        return
    rows = [
        {
            "slo_id": slo_id,
            "t": record.t,
            "status": record.status.value,
            "total": record.total,
            "bad": record.bad,
            "unattributed": record.unattributed,
            "modes": _encode_modes(record.modes),
            "events_total": record.events_total,
            "events_bad": record.events_bad,
            "value": record.value,
            "excluded": record.excluded,
        }
        for record in records
    ]
    upsert(connection, slices, rows, ["slo_id", "t"])
    by_hour: dict[int, list[SliceRecord]] = {}
    for record in records:
        by_hour.setdefault(align_up(record.t, HOUR), []).append(record)
    # An hour whose every slice was just written is summed from memory; only the ragged hours
    # at the edges of the batch are read back, so backfills do not read what they wrote.
    complete = HOUR // slice_seconds
    whole = {hour: members for hour, members in by_hour.items() if len(members) == complete}
    rebuild_hours(connection, slo_id, [h for h in by_hour if h not in whole], whole)


def rebuild_hours(
    connection: Connection,
    slo_id: int,
    hours: Iterable[int],
    known: dict[int, list[SliceRecord]] | None = None,
) -> None:
    """Recompute the hourly rollups of `hours` (hour ends) from their stored slices, and of the
    hours in `known` from the slices given there."""
    by_hour: dict[int, list[SliceRecord]] = dict(known or {})
    for hour in sorted(set(hours) - set(by_hour)):
        by_hour[hour] = read_slices(connection, slo_id, Window(hour - HOUR, hour))
    if not by_hour:
        return
    hour_rows: list[dict[str, Any]] = []
    mode_rows: list[dict[str, Any]] = []
    for hour, members in by_hour.items():
        if not members:
            continue
        totals = WindowTotals.of(members)
        hour_rows.append(
            {
                "slo_id": slo_id,
                "hour": hour,
                "total": totals.total,
                "bad": totals.bad,
                "unattributed": totals.unattributed,
                "slices": totals.slices,
                "no_data_slices": totals.no_data_slices,
                "excluded_slices": totals.excluded_slices,
            }
        )
        modes = {name for record in members for name in record.modes}
        mode_rows.extend(
            {
                "slo_id": slo_id,
                "hour": hour,
                "mode": mode,
                "credited": totals.credited.get(mode, 0.0),
                "held_slices": totals.held_slices.get(mode, 0),
            }
            for mode in sorted(modes)
        )
    touched = sorted(by_hour)
    connection.execute(
        delete(hourly).where(and_(hourly.c.slo_id == slo_id, hourly.c.hour.in_(touched)))
    )
    connection.execute(
        delete(hourly_modes).where(
            and_(hourly_modes.c.slo_id == slo_id, hourly_modes.c.hour.in_(touched))
        )
    )
    if hour_rows:
        connection.execute(hourly.insert(), hour_rows)
    if mode_rows:
        connection.execute(hourly_modes.insert(), mode_rows)


def read_slices(connection: Connection, slo_id: int, window: Window) -> list[SliceRecord]:
    rows = connection.execute(
        select(slices)
        .where(slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end)
        .order_by(slices.c.t)
    )
    return [record_from_row(row) for row in rows]


def window_totals(
    connection: Connection, slo_id: int, windows: Sequence[Window]
) -> list[WindowTotals]:
    """Sums over each window: whole hours from rollups, the ragged edges from slices.

    Three queries whatever the number of windows, so a report costs the same for a 5-minute and
    a 30-day window.
    """
    if not windows:
        return []
    plans = [_plan(window) for window in windows]
    edge_ranges = [edge for plan in plans for edge in plan[1]]
    hour_lo = min((plan[0].start for plan in plans if plan[0].seconds > 0), default=None)
    hour_hi = max((plan[0].end for plan in plans if plan[0].seconds > 0), default=None)

    by_hour: dict[int, WindowTotals] = {}
    if hour_lo is not None and hour_hi is not None:
        by_hour = hour_totals(connection, slo_id, Window(hour_lo, hour_hi))
    edge_records: list[SliceRecord] = []
    if edge_ranges:
        condition = or_(*[and_(slices.c.t > lo, slices.c.t <= hi) for lo, hi in edge_ranges])
        rows = connection.execute(
            select(slices).where(slices.c.slo_id == slo_id, condition).order_by(slices.c.t)
        )
        edge_records = [record_from_row(row) for row in rows]

    results = []
    for hours, edges in plans:
        totals = WindowTotals()
        for hour, hour_sum in by_hour.items():
            if hours.start < hour <= hours.end:
                totals = totals + hour_sum
        totals = totals + WindowTotals.of(
            record for record in edge_records if any(lo < record.t <= hi for lo, hi in edges)
        )
        results.append(totals)
    return results


def _plan(window: Window) -> tuple[Window, list[tuple[int, int]]]:
    """(hour ends to take from rollups, slice ranges to read) that together cover `window`."""
    first_full = align_up(window.start, HOUR)  # start of the first whole hour inside
    last_full = window.end - window.end % HOUR  # end of the last whole hour inside
    if last_full - first_full < HOUR:
        return Window(first_full, first_full), [(window.start, window.end)]
    edges = []
    if window.start < first_full:
        edges.append((window.start, first_full))
    if last_full < window.end:
        edges.append((last_full, window.end))
    # Hour ends h with first_full < h <= last_full are whole hours inside the window.
    return Window(first_full, last_full), edges


def hour_totals(connection: Connection, slo_id: int, hours: Window) -> dict[int, WindowTotals]:
    rows = connection.execute(
        select(hourly).where(
            hourly.c.slo_id == slo_id, hourly.c.hour > hours.start, hourly.c.hour <= hours.end
        )
    ).all()
    credited: dict[int, dict[str, float]] = {}
    held: dict[int, dict[str, int]] = {}
    for mode_row in connection.execute(
        select(hourly_modes).where(
            hourly_modes.c.slo_id == slo_id,
            hourly_modes.c.hour > hours.start,
            hourly_modes.c.hour <= hours.end,
        )
    ):
        credited.setdefault(mode_row.hour, {})[mode_row.mode] = mode_row.credited
        held.setdefault(mode_row.hour, {})[mode_row.mode] = mode_row.held_slices
    return {
        row.hour: WindowTotals(
            total=row.total,
            bad=row.bad,
            unattributed=row.unattributed,
            credited=credited.get(row.hour, {}),
            held_slices=held.get(row.hour, {}),
            slices=row.slices,
            no_data_slices=row.no_data_slices,
            excluded_slices=row.excluded_slices,
        )
        for row in rows
    }


def bucket_totals(
    connection: Connection, slo_id: int, window: Window, bucket: int
) -> list[tuple[int, float, float, int]]:
    """(bucket end, total, bad, counted slices) per bucket, summed in SQL; modes not included."""
    bucket_end = ((slices.c.t + (bucket - 1)) // bucket) * bucket
    counted = and_(slices.c.status == SliceStatus.OK.value, slices.c.excluded.is_(False))
    rows = connection.execute(
        select(
            bucket_end.label("bucket"),
            func.sum(slices.c.total).filter(counted),
            func.sum(slices.c.bad).filter(counted),
            func.count().filter(counted),
        )
        .where(slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end)
        .group_by("bucket")
        .order_by("bucket")
    )
    return [(int(end), total or 0.0, bad or 0.0, count) for end, total, bad, count in rows]


def delete_history(connection: Connection, slo_id: int) -> None:
    for table in (hourly_modes, hourly, slices):
        connection.execute(delete(table).where(table.c.slo_id == slo_id))


def count_slices(connection: Connection, slo_id: int) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(slices).where(slices.c.slo_id == slo_id)
        ).scalar_one()
    )
