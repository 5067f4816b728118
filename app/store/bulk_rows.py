"""Many rows in one `INSERT` statement: the ledger's bulk writes that go straight to the driver.

pysqlite steps each statement with the interpreter lock released and takes the lock back after.
An `executemany` of one row per statement hands the lock over once per row, and while other
threads are busy in Python (a backfill's evaluators and read-ahead parsing) every hand-over
waits for them: the slice writes of a 30-SLO backfill ran at a third of their speed alone,
and they are its critical path (SQLite has one writer). A statement of a few hundred rows hands
the lock over once for them all, and is parsed once. PostgreSQL takes the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import Connection

# Rows per statement: at 12 columns, 6,000 parameters (SQLite's default limit is 32,766,
# PostgreSQL's 65,535); more rows per statement gained nothing measurable.
ROWS_PER_STATEMENT = 500
_MOST_PARAMETERS = 32_000


def insert_rows(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict: str = "",
    select: str = "",
    shared: tuple[Any, ...] = (),
) -> None:
    """INSERT `rows` into `table` (names are the tables' own, never input), a few hundred rows
    per statement; `on_conflict` is appended to each statement (`ON CONFLICT … DO …`).

    `select`: the rows are not the columns but the `VALUES` a `SELECT` list reads as
    `column1`, `column2`, …, with literals and markers for `shared` (bound once a statement,
    the same for every row: an SLO's id, say). The statement's text stays the same for every
    SLO, so the driver's cache of prepared statements holds a few, not a few per SLO."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    width = len(rows[0])
    per_statement = max(1, min(ROWS_PER_STATEMENT, _MOST_PARAMETERS // width))
    values = list(chain.from_iterable(rows))
    whole = len(rows) // per_statement
    span = per_statement * width
    row = f"({', '.join(marker for _ in range(width))})"
    if whole:
        statement = _statement(table, tuple(columns), row, per_statement, on_conflict, select)
        batches = [(*shared, *values[index * span : (index + 1) * span]) for index in range(whole)]
        connection.exec_driver_sql(statement, batches)
    rest = len(rows) - whole * per_statement
    if rest:
        statement = _statement(table, tuple(columns), row, rest, on_conflict, select)
        connection.exec_driver_sql(statement, (*shared, *values[whole * span :]))


@lru_cache(maxsize=256)
def _statement(
    table: str, columns: tuple[str, ...], row: str, rows: int, on_conflict: str, select: str
) -> str:
    listed = ", ".join(columns)
    suffix = f" {on_conflict}" if on_conflict else ""
    rows_text = ", ".join([row] * rows)
    if select:  # WHERE true: SQLite would read ON CONFLICT as a join's ON otherwise
        source = f"SELECT {select} FROM (VALUES {rows_text}) WHERE true"  # noqa: S608
        return f"INSERT INTO {table} ({listed}) {source}{suffix}"
    return f"INSERT INTO {table} ({listed}) VALUES {rows_text}{suffix}"  # noqa: S608
