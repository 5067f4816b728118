"""Rollups of the ledger: per-hour and per-five-minute sums of counted slices.

Windows read whole hours and whole five-minute buckets from here and only their last few slices
from the ledger itself. Rollups are kept exact under re-evaluation:
- a bucket whose every slice is written at once is replaced by the sum of those slices;
- a bucket written partly (a tick adds one slice) is adjusted by new − old for exactly the
  slices written, so writing the same slice twice never counts it twice;
- `rebuild` recomputes buckets from their stored slices (corrections, repairs).

This module keeps them; `app.store.rollup_reads` sums and buckets them for windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Table,
    and_,
    delete,
)

from app.slo.ledger import SliceRecord, SliceStatus, WindowTotals
from app.slo.windows import align_up
from app.store.bulk_rows import insert_rows
from app.store.copy_upsert import copy_rows
from app.store.database import dialect_insert
from app.store.tables import fivemin, fivemin_modes, hourly, hourly_modes

HOUR = 3600
FIVE_MINUTES = 300
NUMBERS = ("total", "bad", "unattributed", "slices", "no_data_slices", "excluded_slices")


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
        return ("slo_id", self.key, *NUMBERS)

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
        numbers = (slo_id, end, *(getattr(self, name) for name in NUMBERS))
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
    number_rows, mode_rows = _rows(slo_id, sums)
    replace_rows(connection, slo_id, level, sorted(sums), number_rows, mode_rows)


def replace_rows(
    connection: Connection,
    slo_id: int,
    level: Level,
    ends: list[int],
    number_rows: list[tuple[Any, ...]],
    mode_rows: list[tuple[Any, ...]],
    *,
    every_bucket: bool = False,
) -> None:
    """Delete the buckets `ends` and insert their rows. `every_bucket`: the ends are every
    bucket from the first to the last, deleted as a range (no list of thousands of ends)."""
    for table in (level.sums, level.modes):
        key = level.key_of(table)
        chosen = key.between(ends[0], ends[-1]) if every_bucket else key.in_(ends)
        connection.execute(delete(table).where(and_(table.c.slo_id == slo_id, chosen)))
    # Straight to the driver, as for slices: a backfill writes a rollup row per five minutes
    # and per mode, and SQLAlchemy's per-row parameter processing cost more than the inserts.
    for table, columns, rows in (
        (level.sums, level.sum_columns, number_rows),
        (level.modes, level.mode_columns, mode_rows),
    ):
        if connection.dialect.name == "postgresql":
            copy_rows(connection, table.name, columns, rows)
        else:
            insert_rows(connection, table.name, columns, rows)


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
    statement = dialect_insert(dialect)(table)
    keys = [column.name for column in table.primary_key.columns]
    adds = {name: table.c[name] + statement.excluded[name] for name in values}
    return statement.on_conflict_do_update(index_elements=keys, set_=adds)


def _increment(connection: Connection, slo_id: int, level: Level, deltas: dict[int, Sums]) -> None:
    number_rows, mode_rows = _rows(slo_id, deltas)
    dialect = connection.dialect.name
    if number_rows:
        connection.execute(
            _increment_statement(level.sums, dialect, NUMBERS),
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
