"""Batched alert evaluation stores exactly what judging SLO by SLO stores (SQLite, PostgreSQL).

Two ledgers get the same slices tick by tick: one judged by the batched evaluator, the other by
the per-SLO path (`per_slo=True`, the evaluation before batching). Their alert states, events
and outbox rows must be identical after every tick, over SLOs that fire, resolve, lag behind
(judged at other slice ends than the rest) and have gaps in their data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import select

from app.alerting.evaluator import AlertEvaluator
from app.slo.alert_spec import Receiver
from app.slo.definitions import DefinitionSet
from app.store import registry
from app.store.tables import alert_events, alert_states, notifications, slos
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.copies import registered_copies
from tests.alerting.support import NOON, only, shipped, with_receivers
from tests.fixtures.databases import postgres_schema, schema_url

SLOS = 12
TICK = 300  # five one-minute slices per tick
TICKS = 36


@pytest.fixture
def twin_urls(database_url: str, tmp_path: Any) -> Iterator[tuple[str, str]]:
    """Two empty databases of the same kind."""
    if database_url.startswith("sqlite"):
        yield database_url, f"sqlite:///{tmp_path}/reference.db"
        return
    with postgres_schema() as schema:
        yield database_url, schema_url(schema)


def ledgers(urls: tuple[str, str], stack: ExitStack) -> list[SyntheticLedger]:
    base = with_receivers(
        only(shipped(), "checkout/checkout-success"),
        {"hook": Receiver(type="webhook", url="http://127.0.0.1:9/hook")},
    )
    made = []
    for url in urls:
        definitions, store, _ = registered_copies(url, base, SLOS, NOON)
        stack.callback(store.close)
        made.append(SyntheticLedger(store, definitions))
    return made


def tick(ledger: SyntheticLedger, definitions: DefinitionSet, number: int) -> None:
    """Slices of tick `number` for every SLO: each burns (10% bad) for four ticks in turn;
    every third SLO advances only every other tick; every fifth has a gap of no data."""
    first = NOON + number * TICK + 60
    for index, definition in enumerate(definitions.slos):
        if index % 3 == 0 and number % 2 == 1:
            continue
        start = first - TICK if index % 3 == 0 and number > 0 else first
        last = first + TICK - 60
        phase = (number - 2 * (index % 6)) % 12
        no_data = index % 5 == 4 and phase in (6, 7)
        bad = 100.0 if phase < 4 else 0.5
        ledger.fill(
            definition.key,
            start,
            last,
            bad=bad,
            modes={"payment-timeout": bad * 0.9},
            no_data=no_data,
        )


def stored(ledger: SyntheticLedger) -> dict[str, Any]:
    """States (event by its idempotency key), events and notifications, by SLO key."""
    with ledger.store.read() as connection:
        keys = {slo.id: slo.key for slo in registry.list_slos(connection, active_only=False)}
        events = {
            row.id: row
            for row in connection.execute(select(alert_events).order_by(alert_events.c.id))
        }
        states = sorted(
            (
                keys[row.slo_id],
                row.tier,
                row.severity,
                row.state,
                row.since,
                row.pending_since,
                row.evaluated_at,
                row.summary,
                events[row.event_id].idempotency_key if row.event_id else None,
            )
            for row in connection.execute(select(alert_states))
        )
        outbox = sorted(
            (keys[row.slo_id], row.tier, row.receiver, row.idempotency_key, row.state)
            for row in connection.execute(select(notifications))
        )
        assert len(keys) == len(connection.execute(select(slos.c.id)).all())
    timeline = sorted(
        (keys[e.slo_id], e.tier, e.state, e._mapping["t"], e.idempotency_key, e.summary, e.document)
        for e in events.values()
    )
    return {"states": states, "events": timeline, "outbox": outbox}


def test_batched_evaluation_stores_what_per_slo_evaluation_stores(
    twin_urls: tuple[str, str],
) -> None:
    with ExitStack() as stack:
        batched, reference = ledgers(twin_urls, stack)
        clean = NOON - 3 * 3600 + 60
        for ledger in (batched, reference):
            for definition in ledger.definitions.slos:
                ledger.fill(definition.key, clean, NOON, bad=0.5)
        judges = [
            AlertEvaluator(
                ledger.store,
                lambda ledger=ledger: ledger.definitions,  # type: ignore[misc]
                base_url="http://faultline",
                clock=lambda: 1e9,
                per_slo=per_slo,
            )
            for ledger, per_slo in ((batched, False), (reference, True))
        ]
        states_seen = set()
        for number in range(TICKS):
            results = []
            for ledger, judge in zip((batched, reference), judges, strict=True):
                tick(ledger, ledger.definitions, number)
                results.append(judge.evaluate())
            assert results[0].judged == results[1].judged
            assert results[0].errors == results[1].errors == {}
            assert stored(batched) == stored(reference), f"tick {number}"
            states_seen |= {(t.state.value, t.tier) for t in results[0].transitions}
        assert {state for state, _ in states_seen} == {"firing", "resolved"}
        assert len(stored(batched)["outbox"]) > SLOS
