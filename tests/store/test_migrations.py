"""Migrations under a lock, and a ledger that is only read is never migrated."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from app.store.errors import StoreError
from app.store.store import Store


def test_two_processes_migrating_a_fresh_schema_both_succeed(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def migrate(store: Store) -> None:
        barrier.wait()
        try:
            store.open()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors, errors
        stores[0].open(migrate=False)  # at head
    finally:
        for store in stores:
            store.close()


def test_reading_an_unmigrated_ledger_says_so_and_writes_nothing(database_url: str) -> None:
    store = Store(database_url)
    try:
        with pytest.raises(StoreError, match="has no Faultline schema; this version needs"):
            store.open(migrate=False)
        with store.read() as connection:
            tables = connection.execute(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
                if store.dialect == "sqlite"
                else text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ).scalar_one()
        assert tables == 0
    finally:
        store.close()


def test_a_ledger_with_slices_from_before_five_minute_rollups_migrates_to_head(
    database_url: str,
) -> None:
    """0003 rebuilds rollups from the slices of its time, before later columns existed."""
    from alembic import command  # noqa: PLC0415 - as the store imports it

    from app.store.database import alembic_config  # noqa: PLC0415

    store = Store(database_url)
    try:
        with store.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0002")
            connection.execute(
                text(
                    "INSERT INTO slos (id, key, service, name, active, definition, content_hash, "
                    "history_hash, slice_seconds, updated_at) "
                    "VALUES (1, 's/x', 's', 'x', true, '{}', 'c', 'h', 60, 0)"
                )
            )
            for t in (3660, 3720, 7200):
                connection.execute(
                    text(
                        "INSERT INTO slices (slo_id, t, status, total, bad, unattributed, modes, excluded) "
                        "VALUES (1, :t, 'ok', 10, 1, 1, '{}', false)"
                    ),
                    {"t": t},
                )
        store.open()  # to head
        with store.read() as connection:
            counted = connection.execute(text("SELECT sum(total) FROM fivemin")).scalar_one()
        assert counted == 30
    finally:
        store.close()


def test_the_ledger_s_rows_keep_every_value_when_their_foreign_keys_go(database_url: str) -> None:
    """0011 drops the row tables' foreign keys (on SQLite by copying each table): nothing else."""
    from alembic import command  # noqa: PLC0415 - as the store imports it
    from sqlalchemy import inspect  # noqa: PLC0415

    from app.store import ledger  # noqa: PLC0415
    from app.store.database import alembic_config  # noqa: PLC0415
    from app.store.tables import slos  # noqa: PLC0415
    from tests.store.test_ledger import records  # noqa: PLC0415

    store = Store(database_url)
    try:
        with store.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0010")
            connection.execute(
                slos.insert().values(
                    id=1, key="s/x", service="s", name="x", active=True, definition="{}",
                    content_hash="c", history_hash="h", slice_seconds=60, updated_at=0,
                )
            )  # fmt: skip
            batch = records(1_800_000_000, 200)
            ledger.write_slices(connection, 1, batch, 60)
            before = {
                table: connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
                for table in ("slices", "hourly", "hourly_modes", "fivemin", "fivemin_modes")
            }
        store.open()  # to head
        with store.read() as connection:
            for table, rows in before.items():
                assert (
                    connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all() == rows
                )
                assert inspect(connection).get_foreign_keys(table) == []
            assert inspect(connection).get_foreign_keys("statuses") != []  # the others keep theirs
    finally:
        store.close()
