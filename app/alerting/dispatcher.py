"""The dispatcher: drains the outbox to the receivers and keeps Alertmanager's alerts alive.

One background thread (or `run_once()` from a test with a fake clock). Each round it claims due
notifications, sends each with the receiver's timeout, and records the outcome: delivered, a
retry after capped exponential backoff with full jitter (at least any `Retry-After`), or failed
for good (a 4xx, or older than `give_up_after`). It also re-posts firing alerts, and alerts
resolved in the last 15 minutes, to every Alertmanager receiver once per `resend_interval`, so
Alertmanager never lets a burning page expire and a lost resolution is repaired.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from app.alerting import notifiers, outbox, states
from app.alerting.notifiers import DeliveryError
from app.alerting.routing import receivers_for
from app.slo.definitions import AlertsConfig
from app.sources.retry import full_jitter
from app.store.errors import StoreError
from app.store.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class DispatchConfig:
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    retry_after_cap: float = 600.0  # honour a receiver's Retry-After up to this long
    give_up_after: float = 24 * 3600.0  # a page this old helps nobody; it is marked failed
    lease: float = 120.0  # longer than any receiver timeout (at most 60 s)
    poll_interval: float = 1.0
    batch: int = 100
    resolved_resend: float = 15 * 60.0  # like Prometheus: resolved alerts are re-sent 15 min


@dataclass
class DispatchResult:
    delivered: list[str] = field(default_factory=list)  # idempotency keys
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: int = 0  # alerts re-posted to Alertmanager

    @property
    def attempted(self) -> int:
        return len(self.delivered) + len(self.retried) + len(self.failed)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        alerts: Callable[[], AlertsConfig],
        config: DispatchConfig | None = None,
        *,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        environ: Mapping[str, str] = os.environ,
        client: httpx.Client | None = None,
    ) -> None:
        self.store = store
        self._alerts = alerts
        self.config = config or DispatchConfig()
        self.clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._environ = environ
        self._client = client or httpx.Client(follow_redirects=False)
        self._last_resend: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round = threading.Lock()

    # -- one round -----------------------------------------------------------------------

    def run_once(self) -> DispatchResult:
        """Deliver the due notifications (up to `batch`), then re-send to due Alertmanagers.

        One claim per round: a notification whose retry is due at once waits for the next
        round instead of spinning here while its receiver is down.
        """
        with self._round:
            result = DispatchResult()
            with self.store.begin() as connection:
                claimed = outbox.claim_due(
                    connection, self.clock(), self.config.lease, self.config.batch
                )
            for delivery in claimed:
                self._deliver(delivery, result)
            self._resend(result)
            return result

    def _deliver(self, delivery: outbox.Delivery, result: DispatchResult) -> None:
        receiver = self._alerts().receivers.get(delivery.receiver)
        now = self.clock()
        error: DeliveryError | None = None
        if receiver is None:
            error = DeliveryError("the receiver is no longer configured", retryable=False)
        elif now - delivery.created_at > self.config.give_up_after:
            error = DeliveryError(
                f"gave up after {delivery.attempts} attempt(s) over "
                f"{self.config.give_up_after:.0f} s",
                retryable=False,
            )
        else:
            try:
                notifiers.send(
                    self._client,
                    receiver,
                    delivery.document,
                    delivery.idempotency_key,
                    now,
                    self._environ,
                )
            except DeliveryError as failure:
                error = failure
        done = self.clock()
        with self.store.begin() as connection:
            if error is None:
                outbox.mark_delivered(connection, delivery, done)
                result.delivered.append(delivery.idempotency_key)
            elif error.retryable:
                delay = self._backoff(delivery.attempts, error.retry_after)
                outbox.schedule_retry(connection, delivery, done + delay, str(error))
                result.retried.append(delivery.idempotency_key)
            else:
                outbox.mark_failed(connection, delivery, str(error))
                result.failed.append(delivery.idempotency_key)
        if error is not None:
            # A receiver down for an hour should not flood the log: the first failure and every
            # tenth retry are warnings (the outbox age on /metrics tells the rest).
            loud = not error.retryable or delivery.attempts % 10 == 0
            level = logging.ERROR if not error.retryable else logging.WARNING
            log.log(
                level if loud else logging.DEBUG,
                "notification %s (attempt %d) to %s: %s",
                delivery.id,
                delivery.attempts + 1,
                delivery.receiver,
                error,
            )

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        delay = full_jitter(retry, self.config.backoff_base, self.config.backoff_cap, self._rng)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.retry_after_cap))
        return delay

    def _resend(self, result: DispatchResult) -> None:
        alerts = self._alerts()
        now = self.clock()
        due = {
            name: receiver
            for name, receiver in alerts.receivers.items()
            if receiver.type == "alertmanager"
            and now - self._last_resend.get(name, float("-inf")) >= receiver.resend_interval
        }
        if not due:
            return
        with self.store.read() as connection:
            documents = states.current_documents(connection, now - self.config.resolved_resend)
        for name, receiver in due.items():
            self._last_resend[name] = now
            mine = [
                document
                for document in documents
                if document.get("labels")  # Alertmanager refuses a batch with a label-less alert
                and name in receivers_for(document["labels"], alerts.routes, alerts.receivers)
            ]
            try:
                notifiers.send_alertmanager(self._client, receiver, mine, now)
                result.resent += len(mine)
            except DeliveryError as error:
                log.warning("re-sending %d alert(s) to %s failed: %s", len(mine), name, error)

    # -- background thread ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="faultline-dispatcher", daemon=True)
        self._thread.start()

    def take_over(self) -> None:
        """This process became the leader (or the evaluator): claims left by the previous
        dispatcher are taken at once, then dispatch starts."""
        try:
            with self.store.begin() as connection:
                taken = outbox.reclaim_leases(connection)
            if taken:
                log.info("dispatcher: took over %d notification(s) in flight elsewhere", taken)
        except StoreError as error:  # their leases run out by themselves
            log.warning("dispatcher: could not take over claims in flight: %s", error)
        self.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the round in flight (each send is bounded by its receiver's timeout)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        self.stop()
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.config.poll_interval
            try:
                result = self.run_once()
                if result.attempted >= self.config.batch:
                    wait = 0.0  # a backlog: keep draining
            except StoreError:
                log.exception("dispatcher: the store is unavailable; retrying")
                wait = max(wait, 5.0)
            self._stop.wait(wait)
