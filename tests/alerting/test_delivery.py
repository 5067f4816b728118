"""Delivery through a real webhook receiver: signatures, retries through a long outage, crashes.

Each notification is one effective delivery per idempotency key at the receiver's handler,
however many times the network, the receiver or a crash made Faultline send it.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import select

from app.alerting.dispatcher import DispatchConfig, Dispatcher
from app.alerting.evaluator import AlertEvaluator
from app.alerting.metrics import AlertingCollector
from app.alerting.signing import verify
from app.slo.definitions import DefinitionSet
from app.store.tables import alert_events, notifications
from tests.alerting.conftest import SyntheticLedger
from tests.alerting.receiver import WebhookReceiver
from tests.alerting.support import (
    NOON,
    SECRET,
    SECRET_ENV,
    only,
    shipped,
    webhook_receiver,
    with_receivers,
)

KEY = "checkout/checkout-success"
REPO = Path(__file__).resolve().parents[2]
MakeLedger = Callable[[DefinitionSet | None], SyntheticLedger]


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def hooked(url: str) -> DefinitionSet:
    return with_receivers(only(shipped(), KEY), {"hook": webhook_receiver(url)})


def burning(ledger: SyntheticLedger, clock: Callable[[], float]) -> list[str]:
    """Three clean hours, ten minutes at a 100× burn, then clean until the page resolves:
    several firing transitions and one resolution; returns their idempotency keys."""
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    judge = AlertEvaluator(
        ledger.store, lambda: ledger.definitions, base_url="http://f", clock=clock
    )
    keys: list[str] = []
    for minute in range(1, 21):
        t = NOON + 60 * minute
        bad = 100.0 if minute <= 10 else 0.0
        ledger.fill(KEY, t, t, bad=bad, modes={"payment-timeout": bad * 0.9})
        keys += [transition.key for transition in judge.evaluate().transitions]
    return keys


def outbox_age(ledger: SyntheticLedger, clock: Callable[[], float]) -> float:
    registry = CollectorRegistry()
    registry.register(AlertingCollector(lambda: ledger.store, clock))
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("faultline_alert_outbox_oldest_age_seconds "):
            return float(line.split()[1])
    raise AssertionError("faultline_alert_outbox_oldest_age_seconds is not exported")


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.mark.usefixtures("secret_env")
def test_a_webhook_gets_the_document_signed_with_its_idempotency_key(
    synthetic: MakeLedger, webhook: WebhookReceiver
) -> None:
    ledger = synthetic(hooked(webhook.url))
    clock = FakeClock(time.time())
    keys = burning(ledger, clock)
    assert len(keys) >= 2
    dispatcher = Dispatcher(ledger.store, lambda: ledger.definitions.alerts, clock=clock)
    delivered: list[str] = []
    try:
        # A resolution waits for its firing notification: that takes a second round.
        for _ in range(3):
            delivered += dispatcher.run_once().delivered
    finally:
        dispatcher.close()
    assert sorted(delivered) == sorted(keys)
    assert webhook.bad_signatures == []
    assert sorted(webhook.handled) == sorted(keys)
    for key, received in webhook.handled.items():
        document = received.json()
        assert document["idempotency_key"] == key
        verify(SECRET, received.headers, received.body, received.at)
        assert received.headers["content-type"] == "application/json"
    # Per alert, in order: page-fast fired before it resolved.
    page = [r.json()["status"] for r in webhook.requests if r.json()["rule"]["name"] == "page-fast"]
    assert page == ["firing", "resolved"]


@pytest.mark.usefixtures("secret_env")
def test_with_the_receiver_down_for_ten_minutes_every_notification_arrives_once(
    synthetic: MakeLedger, webhook: WebhookReceiver
) -> None:
    ledger = synthetic(hooked(webhook.url))
    clock = FakeClock(time.time())
    keys = burning(ledger, clock)
    config = DispatchConfig(backoff_base=1.0, backoff_cap=60.0)
    dispatcher = Dispatcher(
        ledger.store,
        lambda: ledger.definitions.alerts,
        config,
        clock=clock,
        rng=random.Random(6),
    )
    down_at = clock.now
    attempts: list[float] = []
    try:
        # Five minutes with nothing listening (connection refused), five answering 503.
        webhook.stop()
        while clock.now - down_at < 600:
            if clock.now - down_at >= 300 and webhook.status == 200:
                webhook.status = 503
                webhook.start()
            if dispatcher.run_once().attempted:
                attempts.append(clock.now)
            clock.now += 1.0
        assert webhook.handled == {}
        assert outbox_age(ledger, clock) >= 600
        webhook.status = 200
        recovered = clock.now
        while set(webhook.handled) != set(keys) and clock.now - recovered < 120:
            dispatcher.run_once()
            clock.now += 1.0
    finally:
        dispatcher.close()
    assert sorted(webhook.handled) == sorted(keys)
    # Capped backoff: once the receiver is back, everything arrives within one cap (60 s).
    assert clock.now - recovered <= config.backoff_cap + 1
    assert outbox_age(ledger, clock) == 0.0
    # Full jitter spreads the retries out instead of a fixed rhythm; the cap bounds the gaps.
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(set(gaps)) > 3 and max(gaps) <= config.backoff_cap + 1
    with ledger.store.read() as connection:
        rows = connection.execute(
            select(notifications.c.state, notifications.c.attempts, alert_events.c.state).join(
                alert_events, alert_events.c.id == notifications.c.event_id
            )
        ).all()
    assert {state for state, _, _ in rows} == {"delivered"}
    # Firing notifications were retried all along; the resolution waited for its firing one.
    assert all(tries > 3 for _, tries, transition in rows if transition == "firing")


def run_process(database_url: str, hook_url: str, *options: str) -> subprocess.Popen[str]:
    environment = {**os.environ, SECRET_ENV: SECRET, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerting.dispatch_process", database_url, hook_url, *options],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_committed(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "committed":
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise AssertionError(f"the process did not commit: {line!r}\n{errors}")


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)


def test_a_process_killed_between_state_change_and_delivery_delivers_after_restart(
    synthetic: MakeLedger, webhook: WebhookReceiver, database_url: str
) -> None:
    ledger = synthetic(hooked(webhook.url))
    ledger.fill(KEY, NOON - 3 * 3600 + 60, NOON)
    ledger.fill(KEY, NOON + 60, NOON + 600, bad=100.0, modes={"payment-timeout": 90.0})

    # 1. It commits the transitions and their outbox rows, then dies before sending anything.
    process = run_process(database_url, webhook.url, "--no-dispatch")
    wait_committed(process)
    kill(process)
    with ledger.store.read() as connection:
        keys = list(connection.execute(select(alert_events.c.idempotency_key)).scalars())
        pending = connection.execute(select(notifications.c.state)).scalars().all()
    assert keys and set(pending) == {"pending"} and webhook.requests == []

    # 2. Restarted, it sends the first notification; the receiver takes it in and is still
    #    working on it when the process is killed, so the outcome is never recorded.
    webhook.blocking.set()
    process = run_process(database_url, webhook.url)
    wait_committed(process)
    webhook.wait_for(1, timeout=30)
    kill(process)
    in_flight = webhook.requests[0].key
    webhook.blocking.clear()
    webhook.released.set()

    # 3. Restarted again: the lease of the killed process runs out and everything is sent.
    process = run_process(database_url, webhook.url)
    try:
        wait_committed(process)
        deadline = time.monotonic() + 30
        while set(webhook.handled) != set(keys) and time.monotonic() < deadline:
            time.sleep(0.1)
        with ledger.store.read() as connection:
            for _ in range(50):
                states = connection.execute(select(notifications.c.state)).scalars().all()
                if set(states) == {"delivered"}:
                    break
                time.sleep(0.1)
                connection.rollback()
    finally:
        kill(process)
    assert sorted(webhook.handled) == sorted(keys)  # every transition, once each
    assert set(states) == {"delivered"}
    per_key = webhook.deliveries_per_key()
    assert per_key[in_flight] == 2  # sent again after the crash, with the same key …
    assert all(count == 1 for key, count in per_key.items() if key != in_flight)
    first, again = (r for r in webhook.requests if r.key == in_flight)
    assert first.body == again.body  # … and the same bytes, signed again at the time of sending
    verify(SECRET, again.headers, again.body, again.at)
    assert json.loads(first.body)["idempotency_key"] == in_flight
