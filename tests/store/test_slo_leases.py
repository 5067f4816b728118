"""SLO leases on PostgreSQL: fair shares among live members, rebalancing when one joins,
takeover of an expired holder's SLOs with a new generation, and fencing of its writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from app.store import slo_leases
from app.store.slo_leases import LeaseLostError
from app.store.store import Store
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url

pytestmark = pytest.mark.postgres

TTL = 10.0
SLOS = list(range(1, 8))


@pytest.fixture
def store() -> Iterator[Store]:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    with postgres_schema() as schema:
        opened = Store(schema_url(schema)).open()
        try:
            yield opened
        finally:
            opened.close()


def _renew(store: Store, holder: str, now: float) -> slo_leases.Share:
    with store.begin() as connection:
        slo_leases.join(connection, holder, now, TTL)
        return slo_leases.claim_share(connection, holder, SLOS, now, TTL)


def test_members_divide_the_slos_and_rebalance_when_one_joins(store: Store) -> None:
    assert set(_renew(store, "a", 100).held) == set(SLOS)  # alone: everything
    _renew(store, "b", 101)  # joins: a's share is now 4, b gets what a gives back
    a = _renew(store, "a", 102).held
    b = _renew(store, "b", 103).held
    assert len(a) == 4 and len(b) == 3 and not set(a) & set(b)
    assert set(a) | set(b) == set(SLOS)


def test_an_expired_holder_is_taken_over_with_a_new_generation_and_fenced(store: Store) -> None:
    held = _renew(store, "a", 100).held
    slo, generation = 1, held[1]
    with store.begin() as connection:  # a writes while it holds the lease
        slo_leases.verify(connection, slo, "a", generation)
    taken = _renew(store, "b", 100 + TTL + 1).held  # a stopped renewing: b takes all
    assert set(taken) == set(SLOS) and taken[slo] == generation + 1
    with pytest.raises(LeaseLostError, match="taken over by b"), store.begin() as connection:
        slo_leases.verify(connection, slo, "a", generation)
    assert _renew(store, "a", 100 + TTL + 2).held.keys() <= {2, 3, 4, 5, 6, 7}  # a rejoins
    with store.begin() as connection:
        slo_leases.verify(connection, slo, "b", generation + 1)


def _waits_at_most(connection: Connection, seconds: float) -> Connection:
    """A lock wait past `seconds` fails the statement instead of blocking the test."""
    connection.execute(text(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'"))
    return connection


def test_renewals_and_writes_in_flight_never_wait_for_each_other(store: Store) -> None:
    """A renewal moves the expiry of every SLO held, every third of a lease period, while
    chunk writes run: neither waits for the other (under FOR SHARE both did, in turns)."""
    held = _renew(store, "a", 100).held
    with store.begin() as writing:
        slo_leases.verify(writing, 1, "a", held[1])  # a chunk write of SLO 1 in flight
        with store.begin() as renewing:
            share = slo_leases.claim_share(_waits_at_most(renewing, 3), "a", SLOS, 101, TTL)
            assert share.held == held
            with store.begin() as other:  # another chunk write while the renewal is open
                slo_leases.verify(_waits_at_most(other, 3), 2, "a", held[2])


def test_a_taker_skips_the_slo_being_written_until_the_write_commits(store: Store) -> None:
    held = _renew(store, "a", 100).held
    with store.begin() as writing:
        slo_leases.verify(writing, 1, "a", held[1])  # a, paused past its lease mid-write
        taken = _renew(store, "b", 100 + TTL + 1).held
        assert set(taken) == set(SLOS) - {1}
    taken = _renew(store, "b", 100 + TTL + 2).held
    assert set(taken) == set(SLOS) and taken[1] == held[1] + 1
    with pytest.raises(LeaseLostError), store.begin() as connection:
        slo_leases.verify(connection, 1, "a", held[1])


def test_a_clean_release_frees_the_slos_at_once(store: Store) -> None:
    _renew(store, "a", 100)
    with store.begin() as connection:
        slo_leases.release_all(connection, "a")
    share = _renew(store, "b", 101)
    assert set(share.held) == set(SLOS) and share.members == 1
