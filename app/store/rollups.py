"""Rollups of the ledger: per-hour and per-five-minute sums of counted slices.

Windows read whole hours and whole five-minute buckets from here and only their last few slices
from the ledger itself. Rollups are kept exact under re-evaluation:
- a bucket whose every slice is written at once is replaced by the sum of those slices;
- a bucket written partly (a tick adds one slice) is adjusted by new − old for exactly the
  slices written, so writing the same slice twice never counts it twice;
- `rebuild` recomputes buckets from their stored slices (corrections, repairs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from app.slo.ledger import SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import Window, align_up
from app.store.database import insert_sql
from app.store.tables import fivemin, fivemin_modes, hourly, hourly_modes

HOUR = 3600
FIVE_MINUTES = 300
_NUMBERS = ("total", "bad", "unattributed", "slices", "no_data_slices", "excluded_slices")


@dataclass(frozen=True)
class Level:
    size: int
    sums: Table
    modes: Table
    key: str  # the column holding the bucket's end

    def key_of(self, table: Table) -> Column[Any]:
        return table.c[self.key]

    @property
    def sum_columns(self) -> tuple[str, ...]:
        return ("slo_id", self.key, *_NUMBERS)

    @property
    def mode_columns(self) -> tuple[str, ...]:
        return ("slo_id", self.key, "mode", "credited", "held_slices")


LEVELS = (
    Level(HOUR, hourly, hourly_modes, "hour"),
    Level(FIVE_MINUTES, fivemin, fivemin_modes, "bucket"),
)


@dataclass
class Sums:
    """Mutable sums of one bucket; `add(record, sign)` with sign −1 takes a slice back out."""

    total: float = 0.0
    bad: float = 0.0
    unattributed: float = 0.0
    slices: int = 0
    no_data_slices: int = 0
    excluded_slices: int = 0
    credited: dict[str, float] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)

    def add(self, record: SliceRecord, sign: int = 1) -> None:
        if record.status is SliceStatus.NO_DATA:
            self.no_data_slices += sign
            return
        if record.excluded:
            self.excluded_slices += sign
            return
        self.slices += sign
        self.total += sign * record.total
        self.bad += sign * record.bad
        self.unattributed += sign * record.unattributed
        for mode, outcome in record.modes.items():
            self.credited[mode] = self.credited.get(mode, 0.0) + sign * outcome.credited
            self.held[mode] = self.held.get(mode, 0) + (sign if outcome.held else 0)

    def rows(self, slo_id: int, end: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        """(sums row, mode rows) in the order of the level's `sum_columns` and `mode_columns`."""
        numbers = (slo_id, end, *(getattr(self, name) for name in _NUMBERS))
        modes = [
            (slo_id, end, mode, self.credited.get(mode, 0.0), self.held.get(mode, 0))
            for mode in sorted(set(self.credited) | set(self.held))
        ]
        return numbers, modes

    def totals(self) -> WindowTotals:
        return WindowTotals(
            total=self.total,
            bad=self.bad,
            unattributed=self.unattributed,
            credited=dict(self.credited),
            held_slices=dict(self.held),
            slices=self.slices,
            no_data_slices=self.no_data_slices,
            excluded_slices=self.excluded_slices,
        )


def _replace(connection: Connection, slo_id: int, level: Level, sums: dict[int, Sums]) -> None:
    ends = sorted(sums)
    for table in (level.sums, level.modes):
        connection.execute(
            delete(table).where(and_(table.c.slo_id == slo_id, level.key_of(table).in_(ends)))
        )
    number_rows, mode_rows = _rows(slo_id, sums)
    # Straight to the driver, as for slices: a backfill writes a rollup row per five minutes
    # and per mode, and SQLAlchemy's per-row parameter processing cost more than the inserts.
    paramstyle = connection.dialect.paramstyle
    for table, columns, rows in (
        (level.sums, level.sum_columns, number_rows),
        (level.modes, level.mode_columns, mode_rows),
    ):
        if rows:
            connection.exec_driver_sql(insert_sql(table.name, columns, paramstyle), rows)


def _rows(
    slo_id: int, sums: dict[int, Sums]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    number_rows, mode_rows = [], []
    for end, bucket in sorted(sums.items()):
        numbers, modes = bucket.rows(slo_id, end)
        number_rows.append(numbers)
        mode_rows.extend(modes)
    return number_rows, mode_rows


@cache
def _increment_statement(table: Table, dialect: str, values: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE SET v = v + excluded.v, built once per table."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [column.name for column in table.primary_key.columns]
    adds = {name: table.c[name] + statement.excluded[name] for name in values}
    return statement.on_conflict_do_update(index_elements=keys, set_=adds)


def _increment(connection: Connection, slo_id: int, level: Level, deltas: dict[int, Sums]) -> None:
    number_rows, mode_rows = _rows(slo_id, deltas)
    dialect = connection.dialect.name
    if number_rows:
        connection.execute(
            _increment_statement(level.sums, dialect, _NUMBERS),
            [dict(zip(level.sum_columns, row, strict=True)) for row in number_rows],
        )
    if mode_rows:
        connection.execute(
            _increment_statement(level.modes, dialect, ("credited", "held_slices")),
            [dict(zip(level.mode_columns, row, strict=True)) for row in mode_rows],
        )


def apply_writes(
    connection: Connection,
    slo_id: int,
    written: Sequence[SliceRecord],
    previous: Sequence[SliceRecord],
    slice_seconds: int,
) -> None:
    """Bring every level up to date after `written` replaced `previous` (same slice ends)."""
    for level in LEVELS:
        per_bucket = max(1, level.size // slice_seconds)
        new: dict[int, list[SliceRecord]] = {}
        for record in written:
            new.setdefault(align_up(record.t, level.size), []).append(record)
        old: dict[int, list[SliceRecord]] = {}
        for record in previous:
            old.setdefault(align_up(record.t, level.size), []).append(record)
        whole: dict[int, Sums] = {}
        deltas: dict[int, Sums] = {}
        for end, records in new.items():
            sums = Sums()
            if len(records) >= per_bucket:  # every slice of the bucket is in this write
                for record in records:
                    sums.add(record)
                whole[end] = sums
                continue
            for record in records:
                sums.add(record)
            for record in old.get(end, ()):
                sums.add(record, -1)
            deltas[end] = sums
        if whole:
            _replace(connection, slo_id, level, whole)
        if deltas:
            _increment(connection, slo_id, level, deltas)


def rebuild(
    connection: Connection, slo_id: int, records_by_hour: dict[int, list[SliceRecord]]
) -> None:
    """Replace the rollups of whole hours (and their five-minute buckets) from their slices."""
    for level in LEVELS:
        sums: dict[int, Sums] = {}
        for hour, records in records_by_hour.items():
            for end in range(hour - HOUR + level.size, hour + 1, level.size):
                sums.setdefault(end, Sums())
            for record in records:
                sums[align_up(record.t, level.size)].add(record)
        _replace(connection, slo_id, level, sums)


@cache
def _sum_statements(level: Level, windows: int) -> tuple[Any, Any]:
    """(numbers, modes) summed over a level's buckets for `windows` ranges (:lo_i, :hi_i] at
    once, with one conditional sum per range: two queries whatever the number of windows."""
    sums_table, modes_table = level.sums, level.modes

    def inside(table: Table, index: int) -> Any:
        key = level.key_of(table)
        return and_(key > bindparam(f"lo_{index}"), key <= bindparam(f"hi_{index}"))

    def conditional(table: Table, column: str, index: int) -> Any:
        return func.coalesce(func.sum(case((inside(table, index), table.c[column]), else_=0)), 0)

    def overall(table: Table) -> Any:  # one index range covering every window
        key = level.key_of(table)
        return and_(
            table.c.slo_id == bindparam("slo_id"),
            key > bindparam("lowest"),
            key <= bindparam("highest"),
        )

    numbers = select(
        *(conditional(sums_table, name, i) for i in range(windows) for name in _NUMBERS)
    ).where(overall(sums_table))
    modes = (
        select(
            modes_table.c.mode,
            *(
                conditional(modes_table, name, i)
                for i in range(windows)
                for name in ("credited", "held_slices")
            ),
        )
        .where(overall(modes_table))
        .group_by(modes_table.c.mode)
    )
    return numbers, modes


def summed(
    connection: Connection, slo_id: int, level: Level, windows: Sequence[Window]
) -> list[WindowTotals]:
    """The sum of the level's buckets with ends in each window, added up by the database."""
    if not windows:
        return []
    numbers_statement, modes_statement = _sum_statements(level, len(windows))
    parameters: dict[str, int] = {
        "slo_id": slo_id,
        "lowest": min(window.start for window in windows),
        "highest": max(window.end for window in windows),
    }
    for index, window in enumerate(windows):
        parameters[f"lo_{index}"], parameters[f"hi_{index}"] = window.start, window.end
    numbers = connection.execute(numbers_statement, parameters).one()
    modes = connection.execute(modes_statement, parameters).all()
    width = len(_NUMBERS)
    results = []
    for index in range(len(windows)):
        total, bad, unattributed, slices, no_data, excluded = numbers[
            index * width : (index + 1) * width
        ]
        results.append(
            WindowTotals(
                total=float(total),
                bad=float(bad),
                unattributed=float(unattributed),
                credited={row[0]: float(row[1 + 2 * index]) for row in modes},
                held_slices={row[0]: int(row[2 + 2 * index]) for row in modes},
                slices=int(slices),
                no_data_slices=int(no_data),
                excluded_slices=int(excluded),
            )
        )
    return results


@cache
def _bucket_statements(level: Level, spans: int) -> tuple[Any, Any]:
    """(modes, sums) rows of a level in `spans` ranges; see `any_range`."""
    modes, sums = (
        select(table).where(any_range(table.c.slo_id, level.key_of(table), spans))
        for table in (level.modes, level.sums)
    )
    return modes, sums


def bucket_rows(
    connection: Connection, slo_id: int, level: Level, ranges: Iterable[tuple[int, int]]
) -> dict[int, WindowTotals]:
    """Each bucket (by end) of `level` in any of `ranges` = (lo, hi], with its modes."""
    spans = list(ranges)
    if not spans:
        return {}
    modes_statement, sums_statement = _bucket_statements(level, len(spans))
    parameters = span_parameters(slo_id, spans)
    credited: dict[int, dict[str, float]] = {}
    held: dict[int, dict[str, int]] = {}
    for row in connection.execute(modes_statement, parameters):
        values = row._mapping
        end = values[level.key]
        credited.setdefault(end, {})[values["mode"]] = values["credited"]
        held.setdefault(end, {})[values["mode"]] = values["held_slices"]
    found = {}
    for row in connection.execute(sums_statement, parameters):
        values = row._mapping
        end = values[level.key]
        found[end] = WindowTotals(
            total=values["total"],
            bad=values["bad"],
            unattributed=values["unattributed"],
            credited=credited.get(end, {}),
            held_slices=held.get(end, {}),
            slices=values["slices"],
            no_data_slices=values["no_data_slices"],
            excluded_slices=values["excluded_slices"],
        )
    return found


def any_range(owner: Column[Any], key: Column[Any], spans: int) -> Any:
    """Rows of one SLO (`:slo_id`) with `key` in any of `spans` ranges (`:lo_i`, `:hi_i`].

    The SLO condition is repeated inside every term so that SQLite (OR-by-union) and PostgreSQL
    (bitmap OR) range-scan the primary key once per span instead of reading all of the SLO's rows.
    Bound parameters, not literals: callers build each shape once and reuse it (building the
    expression cost more than running it).
    """
    slo_id: BindParameter[int] = bindparam("slo_id")
    return or_(
        *[
            and_(owner == slo_id, key > bindparam(f"lo_{i}"), key <= bindparam(f"hi_{i}"))
            for i in range(spans)
        ]
    )


def span_parameters(slo_id: int, spans: Sequence[tuple[int, int]]) -> dict[str, int]:
    """The parameters of `any_range` for these spans."""
    parameters: dict[str, int] = {"slo_id": slo_id}
    for index, (lo, hi) in enumerate(spans):
        parameters[f"lo_{index}"], parameters[f"hi_{index}"] = lo, hi
    return parameters


def coarse_buckets(
    connection: Connection,
    slo_id: int,
    window: Window,
    bucket: int,
    burning_above: float | None = None,
) -> list[tuple[int, float, float, int]]:
    """(bucket end, total, bad, counted slices) per `bucket` (a multiple of five minutes,
    aligned to multiples of it), summed from the five-minute rollups by the database."""
    level = LEVELS[1]
    table = level.sums
    key = level.key_of(table)
    in_window = and_(table.c.slo_id == slo_id, key > window.start, key <= window.end)
    # A bucket that crosses a window edge is completed by the caller, so only whole buckets
    # may be filtered here: edge buckets are always returned.
    edges = (align_up(window.start + 1, bucket), align_up(window.end, bucket))
    query: Any
    if bucket == level.size:
        # Rollup rows are the buckets: filter them in index order, no grouping (for a 30-day
        # period that is 8,640 rows the database need not sort; about 4x faster).
        query = select(key, table.c.total, table.c.bad, table.c.slices).where(in_window)
        if burning_above is not None:
            query = query.where(or_(table.c.bad > table.c.total * burning_above, key.in_(edges)))
        query = query.order_by(key)
    else:
        bucket_end = ((key + (bucket - 1)) // bucket) * bucket
        sums = (func.sum(table.c.total), func.sum(table.c.bad), func.sum(table.c.slices))
        query = (
            select(bucket_end.label("end"), *sums).where(in_window).group_by("end").order_by("end")
        )
        if burning_above is not None:
            query = query.having(or_(sums[1] > sums[0] * burning_above, bucket_end.in_(edges)))
    rows = connection.execute(query)
    return [(int(end), float(total), float(bad), int(count)) for end, total, bad, count in rows]


def grouped(
    connection: Connection, slo_id: int, level: Level, window: Window, step: int
) -> dict[int, WindowTotals]:
    """Sums per bucket of `step` seconds (a multiple of the level's size) over `window`, whose
    start and end are multiples of the level's size; buckets end at `window.start + k·step`."""
    sums_table, modes_table = level.sums, level.modes

    def bucket_of(table: Table) -> Any:
        key = level.key_of(table)
        return ((key - window.start + (step - 1)) // step) * step + window.start

    def in_window(table: Table) -> Any:
        key = level.key_of(table)
        return and_(table.c.slo_id == slo_id, key > window.start, key <= window.end)

    numbers = connection.execute(
        select(bucket_of(sums_table).label("end"), *(func.sum(sums_table.c[n]) for n in _NUMBERS))
        .where(in_window(sums_table))
        .group_by("end")
    ).all()
    credited: dict[int, dict[str, float]] = {}
    held: dict[int, dict[str, int]] = {}
    for end, mode, credit, held_slices in connection.execute(
        select(
            bucket_of(modes_table).label("end"),
            modes_table.c.mode,
            func.sum(modes_table.c.credited),
            func.sum(modes_table.c.held_slices),
        )
        .where(in_window(modes_table))
        .group_by("end", modes_table.c.mode)
    ):
        credited.setdefault(int(end), {})[mode] = float(credit)
        held.setdefault(int(end), {})[mode] = int(held_slices)
    return {
        int(end): WindowTotals(
            total=float(total),
            bad=float(bad),
            unattributed=float(unattributed),
            credited=credited.get(int(end), {}),
            held_slices=held.get(int(end), {}),
            slices=int(slices),
            no_data_slices=int(no_data),
            excluded_slices=int(excluded),
        )
        for end, total, bad, unattributed, slices, no_data, excluded in numbers
    }
