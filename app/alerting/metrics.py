"""Alerting on `/metrics`: the outbox's oldest undelivered notification, backlog, firing alerts.

`faultline_alert_outbox_oldest_age_seconds` is the one to alert on: it grows while any
notification waits (a receiver down, a dispatcher stuck) and is 0 when the outbox is empty.
Read at scrape time from the store, like the SLO gauges.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.alerting import outbox, views
from app.slo import conventions
from app.store.errors import StoreError
from app.store.store import Store

log = logging.getLogger(__name__)


class AlertingCollector(Collector):
    def __init__(
        self,
        store_of: Callable[[], Store],
        clock: Callable[[], float],
        on_store_error: Callable[[], None] = lambda: None,
    ) -> None:
        self._store_of = store_of
        self._clock = clock
        self._on_store_error = on_store_error

    def collect(self) -> Iterator[Metric]:
        try:
            with self._store_of().read() as connection:
                stats = outbox.outbox_stats(connection)
                firing = views.firing_alerts(connection)
        except StoreError:
            self._on_store_error()
            log.exception("metrics: cannot read the alert outbox")
            return
        age = GaugeMetricFamily(
            conventions.ALERT_OUTBOX_OLDEST_AGE,
            "Age of the oldest notification not yet delivered (0 when every one is delivered).",
        )
        oldest = stats.oldest_pending_created_at
        age.add_metric([], 0.0 if oldest is None else max(0.0, self._clock() - oldest))
        pending = GaugeMetricFamily(
            conventions.ALERT_NOTIFICATIONS_PENDING,
            "Notifications waiting for delivery (first try or a retry), by receiver.",
            labels=[conventions.RECEIVER_LABEL],
        )
        for receiver, count in sorted(stats.pending.items()):
            pending.add_metric([receiver], count)
        failed = GaugeMetricFamily(
            conventions.ALERT_NOTIFICATIONS_FAILED,
            "Notifications given up on (refused by the receiver, or too old), by receiver.",
            labels=[conventions.RECEIVER_LABEL],
        )
        for receiver, count in sorted(stats.failed.items()):
            failed.add_metric([receiver], count)
        alerts = GaugeMetricFamily(
            conventions.ALERTS_FIRING,
            "Alerts firing now, by severity.",
            labels=[conventions.SEVERITY_LABEL],
        )
        for severity, count in sorted(Counter(alert.severity for alert in firing).items()):
            alerts.add_metric([severity], count)
        yield from (age, pending, failed, alerts)
