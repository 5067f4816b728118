"""Leases and backfill job claims: one holder at a time, free again once expired."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.store import jobs, leases
from app.store.store import Store
from tests.store.test_ledger import make_store


@pytest.fixture
def opened() -> Iterator[list[Store]]:
    stores: list[Store] = []
    yield stores
    for store in stores:
        store.close()


def test_a_lease_has_one_live_holder_and_moves_when_it_expires(
    database_url: str, opened: list[Store]
) -> None:
    store, _ = make_store(database_url, opened)
    with store.begin() as connection:
        first = leases.acquire(connection, "evaluator", "a", now=100, ttl=10)
        assert first.held_by("a", 100) and first.generation == 1
        refused = leases.acquire(connection, "evaluator", "b", now=105, ttl=10)
        assert refused.holder == "a" and not refused.held_by("b", 105)
        renewed = leases.acquire(connection, "evaluator", "a", now=108, ttl=10)
        assert renewed.expires_at == 118 and renewed.generation == 1
        taken = leases.acquire(connection, "evaluator", "b", now=118, ttl=10)
        assert taken.held_by("b", 118) and taken.generation == 2
        leases.release(connection, "evaluator", "a")  # not a's any more: nothing happens
        assert leases.get(connection, "evaluator") == taken
        leases.release(connection, "evaluator", "b")
        assert leases.get(connection, "evaluator") is None


def test_a_job_is_claimed_by_one_process_and_resumable_after_its_holder_dies(
    database_url: str, opened: list[Store]
) -> None:
    store, slo_id = make_store(database_url, opened)
    with store.begin() as connection:
        job = jobs.create_job(connection, slo_id, 60, 6000, now=0)
        assert jobs.claim(connection, job, "a", now=100, ttl=10)
        assert not jobs.claim(connection, job, "b", now=105, ttl=10)
        assert jobs.claim(connection, job, "a", now=108, ttl=10)  # renewed
        assert not jobs.claim(connection, job, "b", now=117, ttl=10)
        assert jobs.claim(connection, job, "b", now=118, ttl=10)  # a died: b takes over
        jobs.release(connection, job, "b", now=120)
        assert jobs.claim(connection, job, "c", now=121, ttl=10)
        jobs.set_state(connection, job, "done", now=130)
        assert not jobs.claim(connection, job, "d", now=1000, ttl=10)  # finished: nobody's


def test_two_processes_claiming_one_job_at_once_one_wins(
    database_url: str, opened: list[Store]
) -> None:
    store, slo_id = make_store(database_url, opened)
    with store.begin() as connection:
        job = jobs.create_job(connection, slo_id, 60, 6000, now=0)
    others = [Store(database_url).open() for _ in range(3)]
    opened.extend(others)
    barrier = threading.Barrier(len(others))
    won: list[str] = []

    def claim(other: Store, holder: str) -> None:
        barrier.wait()
        with other.begin() as connection:
            if jobs.claim(connection, job, holder, now=100, ttl=10):
                won.append(holder)

    threads = [threading.Thread(target=claim, args=(s, f"p{n}")) for n, s in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(won) == 1
