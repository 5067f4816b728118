"""A grouped SLO's ledgers share its advisory lock (PostgreSQL): a transaction writing an SLO
and thousands of groups holds one lock, so several such SLOs written at once cannot exhaust
PostgreSQL's lock table (`max_locks_per_transaction` × connections, 6,400 by default), and a
writer of a group waits for a writer of its SLO, and the other way round."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.slo.windows import Window
from app.store import groups, ledger
from app.store.errors import StoreError
from app.store.locks import lock_slo
from app.store.store import Store
from app.store.tables import slos
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url
from tests.store.test_ledger import make_store, records

pytestmark = pytest.mark.postgres

START = 1_699_999_200
HELD = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")


@pytest.fixture
def url() -> Iterator[str]:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    with postgres_schema() as schema:
        yield schema_url(schema)


def add_groups(store: Store, parent: int, count: int) -> list[int]:
    with store.begin() as connection:
        added = [(f'{parent}{{route="r{n}"}}', {"route": f"r{n}"}) for n in range(count)]
        return groups.add_groups(connection, parent, added)


def test_an_slo_and_its_groups_written_in_one_transaction_hold_one_lock(
    url: str, stores: list[Store]
) -> None:
    store, slo_id = make_store(url, stores)
    members = add_groups(store, slo_id, 600)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, records(START, 2))
        for group_id in members:
            ledger.write_slices(connection, group_id, records(START, 2))
        assert connection.execute(HELD).scalar_one() == 1
    with store.read() as connection:
        assert len(ledger.read_slices(connection, members[-1], Window(START, START + 3600))) == 2


def another(store: Store, number: int) -> int:
    """One more SLO row beside `make_store`'s."""
    with store.begin() as connection:
        values = {"key": f"s/x{number}", "service": "s", "name": f"x{number}", "active": True}
        values |= {"definition": "{}", "content_hash": "c", "history_hash": "h"}
        inserted = connection.execute(
            slos.insert().values(**values, slice_seconds=60, updated_at=0)
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])


def test_several_slos_near_the_group_cap_locked_at_once_do_not_exhaust_the_lock_table(
    url: str, stores: list[Store]
) -> None:
    # Three SLOs of 3,000 groups each: one lock per group would be 9,000 locks held at once,
    # more than the 6,400 PostgreSQL's default lock table holds.
    store, first = make_store(url, stores)
    owners = [(store, first)] + [(Store(url).open(), another(store, n)) for n in (2, 3)]
    stores += [owner for owner, _ in owners[1:]]
    members = [add_groups(store, slo_id, 3000) for store, slo_id in owners]
    barrier = threading.Barrier(3, timeout=60)
    errors: list[BaseException] = []
    held: list[int] = []

    def write(store: Store, slo_id: int, ids: list[int]) -> None:
        try:
            with store.begin() as connection:
                lock_slo(connection, slo_id)
                for group_id in ids:
                    lock_slo(connection, group_id)
                barrier.wait()  # every transaction holds its locks at once
                held.append(connection.execute(HELD).scalar_one())
        except BaseException as error:  # surfaced below
            errors.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=write, args=(store, slo_id, ids))
        for (store, slo_id), ids in zip(owners, members, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert held == [1, 1, 1]


@pytest.mark.parametrize("first", ["slo", "group"])
def test_a_writer_of_a_group_waits_for_a_writer_of_its_slo_and_back(
    url: str, stores: list[Store], first: str
) -> None:
    store, slo_id = make_store(url, stores)
    [group_id] = add_groups(store, slo_id, 1)
    other = Store(url).open()
    stores.append(other)
    holder, waiter = (slo_id, group_id) if first == "slo" else (group_id, slo_id)
    with store.begin() as connection:
        lock_slo(connection, holder)
        with pytest.raises(StoreError, match="lock timeout"), other.begin() as second:
            second.execute(text("SET LOCAL lock_timeout = '300ms'"))
            lock_slo(second, waiter)
    with other.begin() as second:  # released with the first transaction
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        lock_slo(second, waiter)
