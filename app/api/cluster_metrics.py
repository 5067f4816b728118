"""Lease and leader gauges of this process, from its own view of its leases (no ledger read at
scrape time: a scrape during a store outage still says the leases are ageing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.engine.scheduler import EngineScheduler
from app.slo import conventions


class ClusterCollector(Collector):
    def __init__(
        self, scheduler_of: Callable[[], EngineScheduler | None], clock: Callable[[], float]
    ) -> None:
        self._scheduler_of = scheduler_of
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        scheduler = self._scheduler_of()
        if scheduler is None:  # not evaluating at all (scheduler disabled)
            return
        role, sharing = scheduler.role, scheduler.sharing
        leader = GaugeMetricFamily(
            conventions.LEADER,
            "1 while this process holds the leader lease (PostgreSQL: alerts, deliveries, "
            "backfills) or the evaluator lease (SQLite).",
        )
        leader.add_metric([], 1.0 if role.held else 0.0)
        held = GaugeMetricFamily(
            conventions.SLO_LEASES_HELD,
            "SLOs this process evaluates now (PostgreSQL: the SLO leases it holds).",
        )
        count = len(scheduler.engine.definitions.slos) if role.held else 0
        held.add_metric([], float(count if sharing is None else len(sharing.held())))
        members = GaugeMetricFamily(
            conventions.CLUSTER_MEMBERS,
            "Live evaluating processes on this ledger, as seen at this process's last renewal.",
        )
        members.add_metric([], float(1 if sharing is None else sharing.members))
        age = GaugeMetricFamily(
            conventions.LEASE_RENEWAL_AGE,
            "Seconds since this process last renewed its leases; past the lease period, "
            "others take its work over.",
        )
        times = [role.renewed_at, None if sharing is None else sharing.renewed_at]
        renewed = [t for t in times if t is not None]
        if renewed:
            age.add_metric([], max(0.0, self._clock() - min(renewed)))
        yield from (leader, held, members, age)
