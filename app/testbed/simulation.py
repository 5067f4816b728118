"""The steppable model of the shop: state at the latest sample, advanced one interval at a time.

`Simulation.step()` draws the events of the next interval and updates every series; nothing
depends on the scenario's end, so the live exporter can keep stepping the same model in real
time after the backfilled history.
"""

from __future__ import annotations

import random
from collections import defaultdict

from app.testbed import traffic
from app.testbed.draws import SECONDS_PER_DAY, traffic_factor
from app.testbed.scenario import (
    CacheStaleness,
    Injection,
    ProjectionLag,
    QueueBacklog,
    RegionOutage,
    ReplicaLag,
    Scenario,
    Window,
    WorkerOutage,
)
from app.testbed.series import FULFILMENT_WORKERS, REGIONS, TARGETS, Catalog, build_catalog

FRESH_CACHE_AGE = 60.0  # entries are refreshed every minute; a stalled cache starts from here


def _ramp(injection: Window, t: int, peak: float) -> float:
    """Rise over the first quarter of an injection, hold, fall over the last quarter."""
    progress = injection.progress(t)
    return peak * max(0.0, min(1.0, progress / 0.25, (1.0 - progress) / 0.25))


class Simulation:
    """State of every series at `time`; `values` and `increments` are indexed like the catalog."""

    def __init__(self, scenario: Scenario, catalog: Catalog | None = None) -> None:
        self.scenario = scenario
        self.catalog = catalog or build_catalog(scenario.routes, scenario.replicas)
        self.interval = scenario.interval
        self.time = scenario.first_sample
        self.rng = random.Random(scenario.seed)  # noqa: S311 - a seeded simulation, not secrets
        size = len(self.catalog)
        self.values: list[float] = [0.0] * size
        self.increments: list[float] = [0.0] * size
        self._index = self.catalog.index
        self._target_counters = {
            target: [i for i in self.catalog.of_target(target) if self.catalog.series[i].is_counter]
            for target in TARGETS
        }
        # A reset happens right after the last sample at or before its time.
        self._resets: dict[int, list[str]] = defaultdict(list)
        for reset in scenario.resets:
            first = scenario.first_sample
            at = first + (reset.at - first) // self.interval * self.interval
            self._resets[at].append(reset.target)
        self._queue_backlog = 0.0
        self._queue_drain = 3.0
        self._cache_stall = 0.0
        self._initial_counters()
        self._update_gauges(self.time, self._active(self.time))

    def step(self) -> None:
        """Advance by one interval: restarts right after the current sample, then new events."""
        for target in self._resets.get(self.time, ()):
            for i in self._target_counters[target]:
                self.values[i] = 0.0
        t = self.time + self.interval
        active = self._active(t)
        self._update_gauges(t, active)
        increments = [0.0] * len(self.values)
        context = traffic.StepContext(
            rng=self.rng,
            t=t,
            interval=self.interval,
            load=traffic_factor(t - self.interval / 2),
            active=active,
            scale=self.scenario.traffic,
            baseline=self.scenario.baseline_errors,
            queue_age=self.values[self._index["queue.age"]],
            replica_lag=self.values[self._index["replica.lag"]],
            increments=increments,
            index=self._index,
            routes=self.scenario.routes,
        )
        for service in traffic.ALL_SERVICES:
            service(context)
        for i, amount in enumerate(increments):
            if amount:
                self.values[i] += amount
        self.increments = increments
        self.time = t

    def advance_to(self, t: float) -> int:
        """Step while the next sample time is not after `t`; returns how many steps ran."""
        steps = 0
        while self.time + self.interval <= t:
            self.step()
            steps += 1
        return steps

    def _active(self, t: int) -> list[Injection]:
        return [
            injection
            for injection in self.scenario.injections
            if (
                injection.active(t)
                if isinstance(injection, Window)
                else t - self.interval < injection.at <= t
            )
        ]

    def _set(self, key: str, value: float) -> None:
        self.values[self._index[key]] = value

    def _update_gauges(self, t: int, active: list[Injection]) -> None:
        rng, step = self.rng, self.interval
        stalls = [i for i in active if isinstance(i, QueueBacklog | WorkerOutage)]
        if stalls:
            growth = max(1.0 if isinstance(i, WorkerOutage) else i.growth for i in stalls)
            self._queue_backlog += growth * step
            self._queue_drain = max(i.drain for i in stalls)
        else:
            self._queue_backlog = max(0.0, self._queue_backlog - self._queue_drain * step)
        self._set("queue.age", max(float(round(rng.uniform(3, 35))), self._queue_backlog))
        workers_up = 0.0 if any(isinstance(i, WorkerOutage) for i in active) else 1.0
        for worker in FULFILMENT_WORKERS:
            self._set(f"up.{worker}", workers_up)

        lags = [i for i in active if isinstance(i, ReplicaLag)]
        lag = max((_ramp(i, t, i.peak) for i in lags if i.region is None), default=0.0)
        self._set("replica.lag", max(round(rng.uniform(0.2, 2.0), 3), lag))
        for region in self.scenario.replicas:
            behind = max((_ramp(i, t, i.peak) for i in lags if i.region == region), default=0.0)
            self._set(f"replica.lag.{region}", max(round(rng.uniform(0.2, 2.0), 3), behind))

        stale = any(isinstance(i, CacheStaleness) for i in active)
        self._cache_stall = self._cache_stall + step if stale else 0.0
        fresh = float(round(rng.uniform(15, FRESH_CACHE_AGE)))
        self._set("cache.age", FRESH_CACHE_AGE + self._cache_stall if stale else fresh)

        behind = max(
            (_ramp(i, t, i.peak) for i in active if isinstance(i, ProjectionLag)), default=0.0
        )
        self._set("projection.lag", max(round(rng.uniform(0.5, 4.0), 3), behind))

        for region in REGIONS:
            down = any(isinstance(i, RegionOutage) and i.region == region for i in active)
            self._set(f"probe.{region}", 0.0 if down else 1.0)

    def _initial_counters(self) -> None:
        """Counters of processes that have been up for days, with some past errors on each."""
        rng = self.rng
        uptime = {target: rng.uniform(1, 6) * SECONDS_PER_DAY for target in TARGETS}

        def volume(service: str, target: str, share: float = 1.0) -> float:
            rate = traffic.BASE_RATE[service] * self.scenario.scale(service) * share
            return float(round(rate * uptime[target]))

        def rare() -> float:
            return float(rng.randint(5, 60))

        for key in (
            "checkout.code.500",
            "checkout.code.503",
            "checkout.code.504",
            "payment.timeout",
            "payment.error",
            "order-status.code.409",
            "order-status.code.500",
            "catalog.code.500",
            "catalog.code.503",
            "cache.failed",
            "projection.out_of_order",
            "projection.gap",
            "storefront.conflicts",
        ):
            self._set(key, rare())
        for region in REGIONS:
            share = traffic.REGION_SHARE[region]
            self._set(f"storefront.{region}.200", volume("storefront", "storefront", share))
            self._set(f"storefront.{region}.500", rare())
            self._set(f"storefront.{region}.503", rare())
        self._set("checkout.code.200", volume("checkout", "checkout"))
        self._set("payment.success", volume("checkout", "checkout"))
        self._set("order-status.code.200", volume("order-status", "order-status"))
        self._set("catalog.code.200", volume("catalog", "catalog"))
        catalog_reads = volume("catalog", "redis")
        self._set("redis.misses", float(round(catalog_reads * 0.045)))
        self._set("redis.hits", catalog_reads - self.values[self._index["redis.misses"]])
        self._set("projection.applied", volume("order-history", "order-history-projector"))
        # The histogram counted the same requests as http_requests_total, cumulatively per bound.
        requests = sum(
            self.values[self._index[f"checkout.code.{c}"]] for c in ("200", "500", "503", "504")
        )
        cumulative = 0.0
        for position, bound_key in enumerate(
            key for key in self._index if key.startswith("checkout.bucket.")
        ):
            if bound_key.endswith("+Inf"):
                cumulative = requests
            else:
                cumulative += float(round(requests * traffic.HEALTHY_LATENCY[position]))
            self._set(bound_key, min(cumulative, requests))
        self._set("checkout.count", requests)
        self._set("checkout.sum", round(requests * 0.12, 3))
