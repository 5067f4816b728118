"""Ledger reads and writes: idempotent slice upserts, window sums over slices and rollups.

Writing a slice twice leaves one row with the second value, and the rollups follow exactly (see
`app.store.rollups`), so re-evaluating any range never double counts.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select

from app.slo.ledger import ModeSlice, NoData, SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import Window, align_up
from app.store import rollup_reads, rollups
from app.store.bulk_rows import insert_rows
from app.store.database import dialect_insert
from app.store.hour_sums import HourSums, LedgerMark, note_rewrite
from app.store.locks import lock_slo
from app.store.tables import fivemin, fivemin_modes, hourly, hourly_modes, slices

HOUR = rollups.HOUR
FIVE = rollups.FIVE_MINUTES


def upsert(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]
) -> None:
    """INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike."""
    if not rows:
        return
    connection.execute(_upsert_statement(table, connection.dialect.name, tuple(keys)), rows)


@cache
def _upsert_statement(table: Table, dialect: str, keys: tuple[str, ...]) -> Any:
    """Built once per table: constructing `excluded` columns is costly on hot paths."""
    statement = dialect_insert(dialect)(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


def _encode_modes(modes: dict[str, ModeSlice] | Any) -> str:
    """`{"mode": [credited, raw_bad, held], ...}` as compact JSON.

    Written by hand because it runs once per slice of every backfill and `json.dumps` was a
    tenth of a backfill's time; non-finite numbers (never expected) take the general path.
    """
    parts = []
    for name, outcome in modes.items():
        credited, raw_bad = outcome.credited, outcome.raw_bad
        if not math.isfinite(credited) or (raw_bad is not None and not math.isfinite(raw_bad)):
            return _encode_modes_json(modes)
        raw = "null" if raw_bad is None else repr(float(raw_bad))
        held = "null" if outcome.held is None else ("1" if outcome.held else "0")
        parts.append(f"{_json_name(name)}:[{float(credited)!r},{raw},{held}]")
    return "{" + ",".join(parts) + "}"


_json_name = cache(json.dumps)


def _encode_modes_json(modes: dict[str, ModeSlice] | Any) -> str:
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
        no_data=NoData.decode(values.get("no_data")),
    )


def write_slices(
    connection: Connection, slo_id: int, records: Sequence[SliceRecord], slice_seconds: int = 60
) -> None:
    """Upsert slices and bring the rollups up to date, in the caller's transaction (a write
    transaction: `Store.begin()`). The SLO's lock is taken before the old values are read, so
    writers of one SLO in other processes wait for this one to commit."""
    if not records:
        return
    lock_slo(connection, slo_id)
    ends = {record.t for record in records}
    note_rewrite(connection, slo_id, min(ends))
    previous = [
        record
        for record in read_slices(connection, slo_id, Window(min(ends) - 1, max(ends)))
        if record.t in ends
    ]
    rows = [
        (
            slo_id,
            record.t,
            record.status.value,
            record.total,
            record.bad,
            record.unattributed,
            _encode_modes(record.modes),
            record.events_total,
            record.events_bad,
            record.value,
            record.excluded,
            None if record.no_data is None else record.no_data.encode(),
        )
        for record in records
    ]
    # Straight to the driver: this is the hottest write of a backfill, and SQLAlchemy's
    # per-row parameter processing would cost more than the database's own work.
    insert_rows(connection, "slices", SLICE_COLUMNS, rows, on_conflict=SLICE_UPSERT)
    rollups.apply_writes(connection, slo_id, records, previous, slice_seconds)


SLICE_COLUMNS = (
    "slo_id", "t", "status", "total", "bad", "unattributed", "modes",
    "events_total", "events_bad", "value", "excluded", "no_data",
)  # fmt: skip
# A slice written again takes the new values (the same on SQLite and PostgreSQL).
SLICE_UPSERT = "ON CONFLICT (slo_id, t) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in SLICE_COLUMNS[2:]
)


def rebuild_hours(
    connection: Connection, slo_id: int, hours: Iterable[int], *, locked: bool = False
) -> None:
    """Recompute the rollups of `hours` (hour ends) from their stored slices (`locked`: the
    caller serialises writers already, as a migration under the migrations' lock does)."""
    if not locked:
        lock_slo(connection, slo_id)
    by_hour = {hour: read_slices(connection, slo_id, Window(hour - HOUR, hour)) for hour in hours}
    if by_hour:
        rollups.rebuild(connection, slo_id, by_hour)


# What rollups are made of: every column but the no-data reason, so that migrations older than
# that column (0003 rebuilds rollups from slices) read the table as it then was.
_COUNTED_COLUMNS = tuple(column for column in slices.c if column.name != "no_data")


def read_slices(connection: Connection, slo_id: int, window: Window) -> list[SliceRecord]:
    """The slices of `window`, without their no-data reasons (`no_data` is None)."""
    rows = connection.execute(
        select(*_COUNTED_COLUMNS)
        .where(slices.c.slo_id == slo_id, slices.c.t > window.start, slices.c.t <= window.end)
        .order_by(slices.c.t)
    )
    return [record_from_row(row) for row in rows]


def window_totals(
    connection: Connection, slo_id: int, windows: Sequence[Window]
) -> list[WindowTotals]:
    """Sums over each window: whole hours and five-minute buckets from rollups (summed by the
    database), and at most four slices at each edge from the ledger itself."""
    return window_totals_many(connection, [slo_id], windows)[slo_id]


def window_totals_in_parts(
    connection: Connection,
    marks: Mapping[int, LedgerMark],
    windows: Sequence[Window],
    hours: HourSums | None,
    part_size: int,
) -> dict[int, list[WindowTotals]]:
    """`window_totals_many` of the SLOs of `marks`, `part_size` SLOs to a set of queries (each
    range condition repeats the list of ids), whole hours from `hours` where still valid."""
    ids = list(marks)
    totals: dict[int, list[WindowTotals]] = {}
    for offset in range(0, len(ids), part_size):
        part = {slo_id: marks[slo_id] for slo_id in ids[offset : offset + part_size]}
        kept = None if hours is None else partial(hours.summed_for, part)
        totals |= window_totals_many(connection, list(part), windows, kept)
    return totals


def window_totals_many(
    connection: Connection,
    slo_ids: Sequence[int],
    windows: Sequence[Window],
    hours: HourReader | None = None,
) -> dict[int, list[WindowTotals]]:
    """`window_totals` of several SLOs over the same windows, in the same five queries;
    `hours` sums the whole hours instead of the hourly rollups (`app.store.hour_sums`)."""
    plans = [_plan(window) for window in windows]
    five_ranges = sorted({span for plan in plans for span in plan.fives})
    slice_ranges = sorted({span for plan in plans for span in plan.slices})
    fives = rollup_reads.bucket_rows_many(connection, slo_ids, rollups.LEVELS[1], five_ranges)
    edges: dict[int, list[SliceRecord]] = {slo_id: [] for slo_id in slo_ids}
    if slice_ranges:
        for row in connection.execute(
            _edge_statement(len(slice_ranges)),
            rollup_reads.span_parameters(slo_ids, slice_ranges),
        ):
            edges[row.slo_id].append(record_from_row(row))
    hourly_windows = [plan.hours for plan in plans if plan.hours is not None]
    hour_sums = (hours or _summed_hours)(connection, slo_ids, hourly_windows)
    return {
        slo_id: _assembled(plans, hour_sums[slo_id], fives[slo_id], edges[slo_id])
        for slo_id in slo_ids
    }


# Sums of the hourly rollups over windows, per SLO: (connection, SLO ids, windows).
HourReader = Callable[[Connection, Sequence[int], Sequence[Window]], dict[int, list[WindowTotals]]]


def _summed_hours(
    connection: Connection, slo_ids: Sequence[int], windows: Sequence[Window]
) -> dict[int, list[WindowTotals]]:
    return rollup_reads.summed_many(connection, slo_ids, rollups.LEVELS[0], windows)


def _assembled(
    plans: Sequence[_Plan],
    hour_sums: Sequence[WindowTotals],
    fives: dict[int, WindowTotals],
    edge_records: Sequence[SliceRecord],
) -> list[WindowTotals]:
    """Each plan's hours, then its five-minute buckets in time order, then its loose slices."""
    ends = sorted(fives)
    hours = iter(hour_sums)
    results = []
    for plan in plans:
        parts = [next(hours)] if plan.hours is not None else []
        for lo, hi in plan.fives:
            parts += (fives[end] for end in ends[bisect_right(ends, lo) : bisect_right(ends, hi)])
        parts.append(
            WindowTotals.of(
                record
                for record in edge_records
                if any(lo < record.t <= hi for lo, hi in plan.slices)
            )
        )
        results.append(_added(parts))
    return results


def _added(parts: Sequence[WindowTotals]) -> WindowTotals:
    """`parts[0] + parts[1] + …` in that order (the same sums), without the objects between."""
    total = bad = unattributed = 0.0
    credited: dict[str, float] = {}
    held: dict[str, int] = {}
    slices = no_data = excluded = 0
    for part in parts:
        total += part.total
        bad += part.bad
        unattributed += part.unattributed
        for mode, amount in part.credited.items():
            credited[mode] = credited[mode] + amount if mode in credited else amount
        for mode, count in part.held_slices.items():
            held[mode] = held[mode] + count if mode in held else count
        slices += part.slices
        no_data += part.no_data_slices
        excluded += part.excluded_slices
    return WindowTotals(total, bad, unattributed, credited, held, slices, no_data, excluded)


@cache
def _edge_statement(spans: int) -> Any:
    return select(slices).where(rollup_reads.any_range(slices.c.slo_id, slices.c.t, spans))


@dataclass(frozen=True)
class _Plan:
    """A window cut into whole hours, whole five-minute buckets and loose slices."""

    hours: Window | None
    fives: list[tuple[int, int]]
    slices: list[tuple[int, int]]


def _plan(window: Window) -> _Plan:
    first_hour, last_hour = align_up(window.start, HOUR), window.end - window.end % HOUR
    if last_hour - first_hour >= HOUR:
        hours: Window | None = Window(first_hour, last_hour)
        rest = [(window.start, first_hour), (last_hour, window.end)]
    else:
        hours, rest = None, [(window.start, window.end)]
    fives: list[tuple[int, int]] = []
    loose: list[tuple[int, int]] = []
    for lo, hi in rest:
        if hi <= lo:
            continue
        first_five, last_five = align_up(lo, FIVE), hi - hi % FIVE
        if last_five > first_five:
            fives.append((first_five, last_five))
            loose.extend(span for span in ((lo, first_five), (last_five, hi)) if span[1] > span[0])
        else:
            loose.append((lo, hi))
    return _Plan(hours, fives, loose)


def hour_totals(connection: Connection, slo_id: int, hours: Window) -> dict[int, WindowTotals]:
    """Each hourly rollup with its end in `hours`."""
    return rollup_reads.bucket_rows(
        connection, slo_id, rollups.LEVELS[0], [(hours.start, hours.end)]
    )


def delete_history(connection: Connection, slo_id: int) -> None:
    lock_slo(connection, slo_id)
    note_rewrite(connection, slo_id, None)
    for table in (fivemin_modes, fivemin, hourly_modes, hourly, slices):
        connection.execute(delete(table).where(table.c.slo_id == slo_id))


def holds_slices(connection: Connection, slo_id: int, window: Window) -> bool:
    """Whether any slice of the SLO ends in `window`."""
    chosen = (slices.c.slo_id == slo_id) & (slices.c.t > window.start) & (slices.c.t <= window.end)
    return connection.execute(select(slices.c.t).where(chosen).limit(1)).first() is not None


def count_slices(connection: Connection, slo_id: int) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(slices).where(slices.c.slo_id == slo_id)
        ).scalar_one()
    )
