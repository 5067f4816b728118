"""Group commit of chunk writes: many SLOs' writes in one transaction, each SLO's failure rolled
back alone and raised to its own writer; the rest committed. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, update

from app.engine.group_writes import GroupWrites
from app.store import registry
from app.store.registry import StoredSLO
from app.store.store import Store
from app.store.tables import slos
from tests.engine.conftest import shipped


class FencedOffError(Exception):
    """Stands for a fence that refuses the write."""


@pytest.fixture
def registered(database_url: str) -> Iterator[tuple[Store, list[StoredSLO]]]:
    store = Store(database_url).open()
    with store.begin() as connection:
        registry.sync_definitions(connection, shipped().slos, now=0)
    with store.read() as connection:
        yield store, registry.list_slos(connection)
    store.close()


def test_one_transaction_for_many_writers_and_a_failure_costs_its_own_slo(
    registered: tuple[Store, list[StoredSLO]],
) -> None:
    store, stored = registered
    writes = GroupWrites(store)
    failing = stored[3].id
    errors: dict[int, BaseException] = {}
    # Writers queue while the first holds the transaction open: they are committed together.
    first_in = threading.Event()
    release = threading.Event()

    def work_for(slo_id: int) -> None:
        def work(connection: Connection) -> None:
            connection.execute(update(slos).where(slos.c.id == slo_id).values(checkpoint=600))
            if slo_id == stored[0].id:
                first_in.set()
                assert release.wait(10)
            if slo_id == failing:
                raise FencedOffError(f"SLO {slo_id} was taken over")

        try:
            writes.write(work)
        except FencedOffError as error:
            errors[slo_id] = error

    threads = [threading.Thread(target=work_for, args=(stored[0].id,))]
    threads[0].start()
    assert first_in.wait(10)
    threads += [threading.Thread(target=work_for, args=(slo.id,)) for slo in stored[1:]]
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 20
    while len(writes._queue) < len(stored) - 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(20)
    assert set(errors) == {failing}
    assert writes.works == len(stored) and writes.transactions == 2
    with store.read() as connection:
        checkpoints = {slo.id: slo.checkpoint for slo in registry.list_slos(connection)}
    assert checkpoints == {slo.id: None if slo.id == failing else 600 for slo in stored}
