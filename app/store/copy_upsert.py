"""PostgreSQL bulk writes through `COPY`: the fastest way psycopg offers to move many rows.

`copy_rows` copies into a table (rows known not to be there: rollup buckets just deleted);
`copy_upsert` copies into a temporary staging table and upserts from it in one statement, so
writing the same rows twice still leaves one row each, with the second values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection


def _cursor(connection: Connection) -> Any:
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """COPY `rows` into `table` (names are the tables' own, never input)."""
    if not rows:
        return
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with _cursor(connection) as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def copy_upsert(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE for many rows: COPY into a staging table that
    lives until the transaction ends, then one upsert from it."""
    if not rows:
        return
    staging = f"{table}_staging"
    listed = ", ".join(columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
    with _cursor(connection) as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staging} "  # noqa: S608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
        cursor.execute(f"DELETE FROM {staging}")  # noqa: S608 - the next chunk of this transaction
