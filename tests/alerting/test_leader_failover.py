"""The leader dies between an alert's state change and its delivery: with 3 `faultline serve` on
one PostgreSQL ledger, the leader is killed (-9) while its webhook request is in flight; another
process takes the lead over within one lease period, re-sends what was not recorded delivered,
and every notification arrives exactly once per idempotency key (effective deliveries) at a real
webhook receiver; no transition is judged twice.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.slo.timeparse import parse_time
from app.store.store import Store
from app.store.tables import alert_events, notifications
from app.testbed.alertmanager import AlertmanagerServer, find_alertmanager
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


def _leader(serve: Serve) -> int | None:
    view = httpx.get(f"http://127.0.0.1:{serve.port}/api/v1/cluster", timeout=5).json()
    lead = view["leader"]
    return None if lead is None else int(lead["holder"].split(":")[1])


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


def _routed_to_both(tmp_path: Path, hook: str, alertmanager: str) -> Path:
    """The shipped policies; every notification to a webhook and to an Alertmanager."""
    target = tmp_path / "alerts-both"
    target.mkdir()
    (target / "policies.yaml").write_bytes((REPO / "alerts" / "policies.yaml").read_bytes())
    (target / "routes.yaml").write_text(
        "receivers:\n"
        f"  hook:\n    type: webhook\n    url: {hook}\n    timeout: 2\n"
        f"  am:\n    type: alertmanager\n    url: {alertmanager}\n    timeout: 2\n"
    )
    return target


def _deliveries(url: str) -> list[tuple[str, str, int, str, dict[str, Any]]]:
    """Every notification: receiver, state, attempts, key, and its event's document."""
    store = Store(url).open(migrate=False)
    try:
        with store.read() as connection:
            rows = connection.execute(
                select(
                    notifications.c.receiver,
                    notifications.c.state,
                    notifications.c.attempts,
                    notifications.c.idempotency_key,
                    alert_events.c.document,
                ).join(alert_events, alert_events.c.id == notifications.c.event_id)
            ).all()
    finally:
        store.close()
    return [
        (r.receiver, r.state, r.attempts, r.idempotency_key, json.loads(r.document)) for r in rows
    ]


def _instance(labels: dict[str, str], starts_at: str) -> tuple[frozenset[tuple[str, str]], int]:
    """An alert instance as Alertmanager tells them apart: its labels and start."""
    return frozenset(labels.items()), int(parse_time(starts_at))


def _notified_instances(notified: WebhookReceiver) -> set[tuple[frozenset[tuple[str, str]], int]]:
    """The alert instances in Alertmanager's own notifications (firing or resolved)."""
    return {
        _instance(alert["labels"], alert["startsAt"])
        for request in list(notified.requests)
        for alert in request.json()["alerts"]
    }


def test_the_leader_killed_during_a_receiver_outage_delivers_each_notification_once(
    live: Live, tmp_path: Path
) -> None:
    """Both receivers are down (the webhook answers 503, Alertmanager is not running) when the
    state changes; the leader is killed -9 with every notification still in the outbox; once
    the receivers are back, each notification is handled exactly once per idempotency key by
    the webhook, and each alert instance reaches Alertmanager (and its own receiver) once."""
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    binary = find_alertmanager()
    if binary is None:
        pytest.fail("prometheus-alertmanager is not installed", pytrace=False)
    hook, notified = WebhookReceiver(), WebhookReceiver()
    hook.status = 503  # the outage
    hook.start()
    notified.start()  # Alertmanager's own notifications
    manager = AlertmanagerServer(binary, tmp_path / "alertmanager", notified.url)
    with postgres_schema() as schema:
        url = schema_url(schema)
        environment = _environment(
            live, url, FAULTLINE_LEASE_SECONDS=str(LEASE),
            FAULTLINE_ALERTS=str(_routed_to_both(tmp_path, hook.url, manager.url)),
        )  # fmt: skip
        serves = [Serve(environment, tmp_path / f"serve-{n}.log") for n in range(3)]
        try:
            for serve in serves:
                serve.evaluator()
            deadline = time.monotonic() + 90
            # Judged, and tried at both receivers in vain: nothing delivered yet.
            while {(r, s) for r, s, a, _, _ in _deliveries(url) if a > 0} != {
                ("hook", "pending"),
                ("am", "pending"),
            }:
                assert time.monotonic() < deadline, _deliveries(url)
                time.sleep(0.3)
            leader = next(s for s in serves if s.process.pid == _leader(serves[0]))
            leader.stop(signal.SIGKILL)
            survivor = next(s for s in serves if s is not leader)
            while _leader(survivor) in (None, leader.process.pid):
                assert time.monotonic() < deadline, "no new leader"
                time.sleep(0.3)
            time.sleep(LEASE)  # the new leader tries the receivers, still down, too
            outage_ends = time.time()
            hook.status = 200
            manager.start()
            while {s for _, s, _, _, _ in _deliveries(url)} != {"delivered"}:
                assert time.monotonic() < deadline + 90, _deliveries(url)
                time.sleep(0.5)
            delivered = _deliveries(url)
            expected = {
                _instance(document["labels"], document["starts_at"])
                for receiver, _, _, _, document in delivered
                if receiver == "am"
            }
            while _notified_instances(notified) != expected:
                assert time.monotonic() < deadline + 120, (_notified_instances(notified), expected)
                time.sleep(0.5)
            active = [_instance(a["labels"], a["startsAt"]) for a in manager.alerts()]
        finally:
            for serve in serves:
                serve.stop()
            manager.stop()
            hook.stop()
            notified.stop()
    keys = {key for receiver, _, _, key, _ in delivered if receiver == "hook"}
    assert keys and set(hook.handled) == keys  # every one handled, none unknown
    assert len(active) == len(set(active))  # one alert per instance in Alertmanager
    assert set(active) <= expected
    after = [r.key for r in hook.requests if r.at >= outage_ends]  # sent once it answered
    print(
        f"{len(keys)} webhook notifications (sent at most {max(after.count(k) for k in keys)}x "
        f"once the receiver was back), {len(expected)} Alertmanager alert instances"
    )
