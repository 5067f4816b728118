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
    row: str = "",
) -> None:
    """INSERT `rows` into `table` (names are the tables' own, never input), a few hundred rows
    per statement; `on_conflict` is appended to each statement (`ON CONFLICT … DO …`). `row`:
    the VALUES tuple of a row, where literals may stand for columns that every row has the
    same (SQLite markers `?` for the rest, which `rows` give); by default a marker a column."""
    if not rows:
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    row = row or f"({', '.join(marker for _ in columns)})"
    width = len(rows[0])
    per_statement = max(1, min(ROWS_PER_STATEMENT, _MOST_PARAMETERS // width))
    values = list(chain.from_iterable(rows))
    whole = len(rows) // per_statement
    span = per_statement * width
    if whole:
        statement = _statement(table, tuple(columns), row, per_statement, on_conflict)
        batches = [tuple(values[index * span : (index + 1) * span]) for index in range(whole)]
        connection.exec_driver_sql(statement, batches)
    rest = len(rows) - whole * per_statement
    if rest:
        statement = _statement(table, tuple(columns), row, rest, on_conflict)
        connection.exec_driver_sql(statement, tuple(values[whole * span :]))


@lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], row: str, rows: int, on_conflict: str) -> str:
    listed = ", ".join(columns)
    suffix = f" {on_conflict}" if on_conflict else ""
    return f"INSERT INTO {table} ({listed}) VALUES {', '.join([row] * rows)}{suffix}"  # noqa: S608
