"""The database filters, sorts and pages status snapshots exactly as a Python sort would."""

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.store import status
from app.store.status import ListingQuery
from app.store.store import Store
from app.store.tables import slos, statuses

POLICIES = ("healthy", "watch", "at-risk", "exhausted")
STATES = ("ok", "no-data", "stale", "error")


@pytest.fixture
def rows(database_url: str) -> Iterator[tuple[Store, list[dict[str, object]]]]:
    """40 snapshots with ties in `remaining`, missing burn rates, and keys that differ in case
    and punctuation (a locale collation would order them differently from Python)."""
    store = Store(database_url).open()
    rng = random.Random(11)
    made: list[dict[str, object]] = []
    with store.begin() as connection:
        for index in range(40):
            prefix = "Svc" if index % 4 == 0 else "svc"  # bytes: "S" < "s"; ICU: s < S
            key = f"{prefix}-{index % 3}{'/' if index % 2 else '-'}slo_{index:02d}"
            slo_id = connection.execute(
                slos.insert().values(
                    key=key,
                    service=key.partition("/")[0],
                    name=key,
                    active=index != 39,  # a removed SLO is never listed
                    definition="{}",
                    content_hash="c",
                    history_hash="h",
                    slice_seconds=60,
                    updated_at=0,
                )
            ).inserted_primary_key[0]
            row = {
                "key": key,
                "active": index != 39,
                "policy": rng.choice(POLICIES),
                "status": rng.choice(STATES),
                "remaining": rng.choice([1.0, 0.5, -0.25, rng.random()]),
                "burn_1h": None if index % 5 == 0 else rng.uniform(0, 20),
            }
            made.append(row)
            connection.execute(
                statuses.insert().values(
                    slo_id=slo_id,
                    computed_at=0,
                    status=row["status"],
                    policy=row["policy"],
                    remaining=row["remaining"],
                    consumed=0.0,
                    sli=None,
                    burn_1h=row["burn_1h"],
                    burn_6h=None,
                    burn_1d=None,
                    report=key,  # the listing returns the stored text untouched
                )
            )
    yield store, made
    store.close()


def expected(made: list[dict[str, object]], query: ListingQuery) -> tuple[int, list[str]]:
    def sort_value(row: dict[str, object]) -> tuple[float, str]:
        key = str(row["key"])
        if query.order == "name":
            return (0.0, key)
        if query.order == "burn_rate":
            rate = row["burn_1h"]
            return (float(rate) if isinstance(rate, float) else -1.0, key)
        return (float(row["remaining"]), key)  # type: ignore[arg-type]

    kept = [
        row
        for row in made
        if row["active"]
        and (query.keys is None or row["key"] in query.keys)
        and (not query.policies or row["policy"] in query.policies)
        and (not query.states or row["status"] in query.states)
    ]
    kept.sort(key=sort_value, reverse=query.descending)
    end = None if query.limit is None else query.offset + query.limit
    return len(kept), [str(row["key"]) for row in kept[query.offset : end]]


@pytest.mark.parametrize("order", ["remaining", "burn_rate", "name"])
@pytest.mark.parametrize("descending", [False, True])
def test_order_and_pages_match_a_python_sort(
    rows: tuple[Store, list[dict[str, object]]], order: status.ListingOrder, descending: bool
) -> None:
    store, made = rows
    with store.read() as connection:
        for limit, offset in [(None, 0), (7, 0), (7, 7), (10, 35), (5, 100)]:
            query = ListingQuery(order=order, descending=descending, limit=limit, offset=offset)
            assert status.listing(connection, query) == expected(made, query)


def test_filters_combine_and_count_every_page(
    rows: tuple[Store, list[dict[str, object]]],
) -> None:
    store, made = rows
    keys = [str(row["key"]) for row in made[::2]]
    queries = [
        ListingQuery(keys=keys, limit=3),
        ListingQuery(policies=["watch", "at-risk"], order="burn_rate", descending=True),
        ListingQuery(keys=keys, states=["ok"], policies=["healthy", "exhausted"]),
        ListingQuery(keys=[]),
    ]
    with store.read() as connection:
        for query in queries:
            assert status.listing(connection, query) == expected(made, query)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_keys_sort_bytewise_whatever_the_column_collation(
    rows: tuple[Store, list[dict[str, object]]],
) -> None:
    """PostgreSQL sorts by the column's collation unless told otherwise; a database created
    with a language locale must still list SLOs in the order SQLite and Python give."""
    store, made = rows
    with store.begin() as connection:
        available = connection.execute(
            text("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")
        ).first()
        if available is None:
            pytest.skip("this PostgreSQL has no ICU collation")
        connection.execute(
            text('ALTER TABLE slos ALTER COLUMN key SET DATA TYPE text COLLATE "und-x-icu"')
        )
    with store.read() as connection:
        for order in ("name", "remaining"):
            query = ListingQuery(order=order)  # type: ignore[arg-type]
            assert status.listing(connection, query) == expected(made, query)
