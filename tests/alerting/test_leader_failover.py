"""The leader dies between an alert's state change and its delivery: with 3 `faultline serve` on
one PostgreSQL ledger, the leader is killed (-9) while its webhook request is in flight; another
process takes the lead over within one lease period, re-sends what was not recorded delivered,
and every notification arrives exactly once per idempotency key (effective deliveries) at a real
webhook receiver; no transition is judged twice.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.store.store import Store
from app.store.tables import alert_events, notifications
from tests.alerting.receiver import WebhookReceiver
from tests.engine.conftest import REPO
from tests.engine.test_concurrent_writers import Live, Serve, _environment, live
from tests.fixtures.databases import postgres_answers, postgres_schema, schema_url

__all__ = ["live"]  # the shared Prometheus fixture

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.postgres]

LEASE = 3


def _alerts(tmp_path: Path, hook: str) -> Path:
    """The shipped policies, every notification routed to `hook`."""
    target = tmp_path / "alerts"
    target.mkdir()
    (target / "policies.yaml").write_bytes((REPO / "alerts" / "policies.yaml").read_bytes())
    (target / "routes.yaml").write_text(
        f"receivers:\n  hook:\n    type: webhook\n    url: {hook}\n    timeout: 2\n"
        "routes:\n  - receiver: hook\n"
    )
    return target


def _outbox(url: str) -> tuple[dict[str, str], int, int]:
    """Each notification's state by idempotency key; alert events, and distinct transitions."""
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            rows = connection.execute(
                select(notifications.c.idempotency_key, notifications.c.state)
            ).all()
            states = dict(rows)
            events = connection.execute(select(func.count()).select_from(alert_events)).scalar()
            transitions = connection.execute(
                select(func.count()).select_from(
                    select(alert_events.c.slo_id, alert_events.c.tier, alert_events.c.state,
                           alert_events.c.t).distinct().subquery()
                )
            ).scalar()  # fmt: skip
    finally:
        store.close()
    return states, int(events or 0), int(transitions or 0)


def _leader(serve: Serve) -> int:
    view = httpx.get(f"http://127.0.0.1:{serve.port}/api/v1/cluster", timeout=5).json()
    return int(view["leader"]["holder"].split(":")[1])


def test_the_leader_killed_mid_delivery_loses_and_doubles_no_notification(
    live: Live, tmp_path: Path
) -> None:
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    receiver = WebhookReceiver()
    receiver.start()
    receiver.blocking.set()  # the first delivery stays in flight until the leader is dead
    with postgres_schema() as schema:
        url = schema_url(schema)
        environment = _environment(
            live, url, FAULTLINE_LEASE_SECONDS=str(LEASE),
            FAULTLINE_ALERTS=str(_alerts(tmp_path, receiver.url)),
        )  # fmt: skip
        serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(3)]
        try:
            for serve in serves:
                serve.evaluator()
            with receiver.arrived:
                assert receiver.arrived.wait_for(lambda: receiver.requests, timeout=60)
            in_flight = receiver.requests[0].key
            leader = next(s for s in serves if s.process.pid == _leader(serves[0]))
            leader.stop(signal.SIGKILL)
            receiver.blocking.clear()
            receiver.released.set()  # the dead leader's request is handled: nobody records it
            survivor = next(s for s in serves if s is not leader)
            deadline = time.monotonic() + 6 * LEASE + 20
            while True:
                states, events, transitions = _outbox(url)
                if (
                    states
                    and set(states.values()) == {"delivered"}
                    and set(states) <= set(receiver.handled)
                ):
                    break
                assert time.monotonic() < deadline, (states, list(receiver.handled))
                time.sleep(0.5)
            assert _leader(survivor) != leader.process.pid
        finally:
            for serve in serves:
                serve.stop()
            receiver.stop()
    assert in_flight in states
    assert set(receiver.handled) == set(states)  # every one arrived, none unknown
    sent = [request.key for request in receiver.requests]
    assert sent.count(in_flight) >= 2  # re-sent by the new leader, handled once
    assert events == transitions == len(states)  # no transition judged twice
