"""Reading the rollups: window sums, buckets and coarse buckets from hourly and 5-minute sums.

Each read is a fixed number of queries whatever the number of windows (conditional sums over
bound ranges); the statements are built once per shape and cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)

from app.slo.ledger import WindowTotals
from app.slo.windows import Window, align_up
from app.store.rollups import HOUR, LEVELS, NUMBERS, Level
from app.store.tables import hourly


@cache
def _sum_statements(level: Level, windows: int) -> tuple[Any, Any]:
    """(numbers, modes) of a level's buckets summed per SLO of `:slo_ids` over each of
    `windows` ranges (:lo_i, :hi_i]: one part per range, each reading only its own rows
    (UNION ALL), two queries whatever the number of windows and of SLOs. Rows come tagged with
    the range's index `i`.

    (Conditional sums of every range over the rows of all of them gave the same sums, each
    row adding zero where it is outside a range, but cost the database a CASE per row, column
    and range: 42 per hourly row of a report.) Written as SQL text: SQLAlchemy took 10 ms to
    compile the two unions, once per process, a short command's largest single cost after
    its imports; the text is the same on SQLite and PostgreSQL."""
    sums, modes, key = level.sums.name, level.modes.name, level.key

    def parts(columns: str, table: str, group: str) -> str:
        return " UNION ALL ".join(
            f"SELECT {index}, {columns} FROM {table} WHERE slo_id IN :slo_ids "  # noqa: S608
            f"AND {key} > :lo_{index} AND {key} <= :hi_{index} GROUP BY {group}"
            for index in range(windows)
        )

    # Built from the tables' own names, never from input.
    summed_numbers = ", ".join(f"sum({name})" for name in NUMBERS)
    return (
        _expanding(parts(f"slo_id, {summed_numbers}", sums, "slo_id")),
        _expanding(parts("slo_id, mode, sum(credited), sum(held_slices)", modes, "slo_id, mode")),
    )


def _expanding(sql: str) -> Any:
    return text(sql).bindparams(bindparam("slo_ids", expanding=True))


@cache
def _mode_names_statement(level: Level, gaps: int) -> Any:
    """(SLO, mode) of the modes with a bucket in any of `gaps` ranges (:lo_i, :hi_i]."""
    table = level.modes
    key = level.key_of(table)
    return (
        select(table.c.slo_id, table.c.mode).where(any_range(table.c.slo_id, key, gaps)).distinct()
    )


def summed(
    connection: Connection, slo_id: int, level: Level, windows: Sequence[Window]
) -> list[WindowTotals]:
    """The sum of the level's buckets with ends in each window, added up by the database."""
    return summed_many(connection, [slo_id], level, windows)[slo_id]


def summed_many(
    connection: Connection, slo_ids: Sequence[int], level: Level, windows: Sequence[Window]
) -> dict[int, list[WindowTotals]]:
    """`summed` for several SLOs at once (the same windows for each): two queries (three when
    the windows leave gaps between them).

    Every window lists every mode with a bucket anywhere from the first window's start to the
    last one's end, with zero where it has none in that window."""
    if not windows or not slo_ids:
        return {slo_id: [] for slo_id in slo_ids}
    ranges = sorted({(window.start, window.end) for window in windows})
    numbers_statement, modes_statement = _sum_statements(level, len(ranges))
    parameters = span_parameters(slo_ids, ranges)
    numbers: dict[tuple[int, int], Sequence[Any]] = {}
    for index, slo_id, *values in connection.execute(numbers_statement, parameters):
        numbers[(slo_id, index)] = values
    names: dict[int, set[str]] = {slo_id: set() for slo_id in slo_ids}
    modes: dict[tuple[int, int], dict[str, tuple[Any, Any]]] = {}
    for index, slo_id, mode, credited, held in connection.execute(modes_statement, parameters):
        modes.setdefault((slo_id, index), {})[mode] = (credited, held)
        names[slo_id].add(mode)
    gaps = _gaps(ranges)
    if gaps:
        for slo_id, mode in connection.execute(
            _mode_names_statement(level, len(gaps)), span_parameters(slo_ids, gaps)
        ):
            names[slo_id].add(mode)
    nothing = (0,) * len(NUMBERS)
    results: dict[int, list[WindowTotals]] = {}
    for slo_id in slo_ids:
        ordered = sorted(names[slo_id])
        results[slo_id] = []
        for window in windows:
            index = ranges.index((window.start, window.end))
            results[slo_id].append(
                _totals(
                    numbers.get((slo_id, index), nothing),
                    ordered,
                    modes.get((slo_id, index), {}),
                )
            )
    return results


def _gaps(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts between the first range's start and the last end that no range covers."""
    gaps = []
    covered = ranges[0][1]
    for start, end in ranges[1:]:
        if start > covered:
            gaps.append((covered, start))
        covered = max(covered, end)
    return gaps


def _totals(
    numbers: Sequence[Any], names: Sequence[str], modes: dict[str, tuple[Any, Any]]
) -> WindowTotals:
    total, bad, unattributed, slices, no_data, excluded = numbers
    none = (0, 0)
    return WindowTotals(
        total=float(total),
        bad=float(bad),
        unattributed=float(unattributed),
        credited={name: float(modes.get(name, none)[0]) for name in names},
        held_slices={name: int(modes.get(name, none)[1]) for name in names},
        slices=int(slices),
        no_data_slices=int(no_data),
        excluded_slices=int(excluded),
    )


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
    return bucket_rows_many(connection, [slo_id], level, ranges)[slo_id]


def bucket_rows_many(
    connection: Connection,
    slo_ids: Sequence[int],
    level: Level,
    ranges: Iterable[tuple[int, int]],
) -> dict[int, dict[int, WindowTotals]]:
    """`bucket_rows` for several SLOs at once (the same ranges for each): two queries."""
    spans = list(ranges)
    found: dict[int, dict[int, WindowTotals]] = {slo_id: {} for slo_id in slo_ids}
    if not spans or not slo_ids:
        return found
    modes_statement, sums_statement = _bucket_statements(level, len(spans))
    parameters = span_parameters(slo_ids, spans)
    credited: dict[tuple[int, int], dict[str, float]] = {}
    held: dict[tuple[int, int], dict[str, int]] = {}
    for row in connection.execute(modes_statement, parameters):
        values = row._mapping
        bucket = (values["slo_id"], values[level.key])
        credited.setdefault(bucket, {})[values["mode"]] = values["credited"]
        held.setdefault(bucket, {})[values["mode"]] = values["held_slices"]
    for row in connection.execute(sums_statement, parameters):
        values = row._mapping
        bucket = (values["slo_id"], values[level.key])
        found[bucket[0]][bucket[1]] = WindowTotals(
            total=values["total"],
            bad=values["bad"],
            unattributed=values["unattributed"],
            credited=credited.get(bucket, {}),
            held_slices=held.get(bucket, {}),
            slices=values["slices"],
            no_data_slices=values["no_data_slices"],
            excluded_slices=values["excluded_slices"],
        )
    return found


def any_range(owner: Column[Any], key: Column[Any], spans: int) -> Any:
    """Rows of the SLOs `:slo_ids` with `key` in any of `spans` ranges (`:lo_i`, `:hi_i`].

    The SLO condition is repeated inside every term so that SQLite (OR-by-union) and PostgreSQL
    (bitmap OR) range-scan the primary key once per span (and SLO) instead of reading all of
    the SLOs' rows. Bound parameters, not literals: callers build each shape once and reuse it
    (building the expression cost more than running it).
    """
    slo_ids: BindParameter[list[int]] = bindparam("slo_ids", expanding=True)
    return or_(
        *[
            and_(owner.in_(slo_ids), key > bindparam(f"lo_{i}"), key <= bindparam(f"hi_{i}"))
            for i in range(spans)
        ]
    )


def span_parameters(slo_ids: Sequence[int], spans: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The parameters of `any_range` for these SLOs and spans."""
    parameters: dict[str, Any] = {"slo_ids": list(slo_ids)}
    for index, (lo, hi) in enumerate(spans):
        parameters[f"lo_{index}"], parameters[f"hi_{index}"] = lo, hi
    return parameters


def bad_hours(connection: Connection, slo_id: int, window: Window) -> list[tuple[int, float]]:
    """(hour end, bad) of the hourly rollups that overlap `window` and hold some bad, in time
    order (720 rows for a 30-day window where the five-minute rollups have 8,640)."""
    rows = connection.execute(
        _bad_hours_statement(), {"slo_id": slo_id, "lo": window.start, "hi": window.end + HOUR}
    )
    return [(int(end), float(bad)) for end, bad in rows]


@cache
def _bad_hours_statement() -> Any:
    key = hourly.c.hour
    return (
        select(key, hourly.c.bad)
        .where(
            hourly.c.slo_id == bindparam("slo_id"),
            key > bindparam("lo"),
            key < bindparam("hi"),
            hourly.c.bad > 0,
        )
        .order_by(key)
    )


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
        select(bucket_of(sums_table).label("end"), *(func.sum(sums_table.c[n]) for n in NUMBERS))
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
