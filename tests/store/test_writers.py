"""Two writers of one SLO (two stores: two connection pools, as two processes would have) on
overlapping slices: the rollups still equal their slices, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading

from app.store import ledger
from app.store.invariants import repair_rollups, rollup_disagreements
from app.store.store import Store
from app.store.tables import hourly
from tests.store.test_ledger import make_store, records

START = 1_699_999_200  # an hour boundary
SLICES = 120


def _hammer(store: Store, slo_id: int, seed: int, barrier: threading.Barrier) -> None:
    rng = random.Random(seed)
    barrier.wait()
    for round_number in range(60):
        # Short, ragged chunks (as ticks write them) take the "new minus old" path of the
        # rollups; different values each round make every overwrite change the sums.
        first = rng.randrange(SLICES - 8)
        chunk = records(START, SLICES, seed=seed * 1000 + round_number)[
            first : first + rng.randint(1, 8)
        ]
        with store.begin() as connection:
            ledger.write_slices(connection, slo_id, chunk)


def test_two_writers_of_one_slo_keep_rollups_equal_to_slices(
    database_url: str, stores: list[Store]
) -> None:
    first, slo_id = make_store(database_url, stores)
    second = Store(database_url).open()
    stores.append(second)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(store: Store, seed: int) -> None:
        try:
            _hammer(store, slo_id, seed, barrier)
        except BaseException as error:  # surfaced below, with the test's own assertion
            errors.append(error)

    threads = [threading.Thread(target=run, args=(s, n)) for n, s in ((1, first), (2, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with first.snapshot() as connection:
        assert rollup_disagreements(connection, slo_id) == []


def test_a_corrupted_rollup_is_found_and_repaired(database_url: str, stores: list[Store]) -> None:
    store, slo_id = make_store(database_url, stores)
    with store.begin() as connection:
        ledger.write_slices(connection, slo_id, records(START, SLICES))
        connection.execute(
            hourly.update()
            .where(hourly.c.slo_id == slo_id, hourly.c.hour == START + 3600)
            .values(total=hourly.c.total + 5, slices=hourly.c.slices + 1)
        )
    with store.snapshot() as connection:
        wrong = rollup_disagreements(connection, slo_id)
    assert {(item.level, item.bucket, item.field) for item in wrong} == {
        ("1h", START + 3600, "total"),
        ("1h", START + 3600, "slices"),
    }
    assert "its slices add up to" in wrong[0].describe()
    with store.begin() as connection:
        assert len(repair_rollups(connection, slo_id)) == 2
    with store.snapshot() as connection:
        assert rollup_disagreements(connection, slo_id) == []
