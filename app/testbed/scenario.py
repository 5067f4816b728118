"""A scenario: when, how densely, which seed, how much traffic, and what goes wrong when.

Time conventions (all epoch seconds):
- samples are taken at `start + phase + i * interval` for every such time up to `end`, each
  moved by up to ±`jitter` seconds (seeded), as Prometheus scrapes a target at some second of
  its interval and not quite on time; the events of an interval count in the slice of the
  sample that ends it (where in the interval they happened no sample can tell);
- an injection with `start` and `minutes` is active for the sample at `t` and for the interval
  `(t - interval, t]` ending there whenever `start < t <= start + minutes * 60`, so a 20-minute
  injection from 10:00 touches exactly the 20 one-minute slices ending 10:01 … 10:20;
- a counter reset at `at` happens right after the last sample at or before `at` (that sample
  still shows the old value; the next one counts from zero);
- a scrape gap from `start` to `end` drops every sample strictly between the two; the slices
  without a sample of their own have no data, and the events of the gap are seen by the first
  sample after it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from app.testbed.series import REGIONS, TARGETS

SERVICES = ("checkout", "order-status", "catalog", "storefront", "order-history")
ErrorService = Literal["checkout", "order-status", "catalog", "storefront"]


class ScenarioError(ValueError):
    """A scenario that cannot be generated as asked."""


@dataclass(frozen=True)
class Window:
    """Base of every time-bound injection."""

    start: int
    minutes: int

    @property
    def end(self) -> int:
        return self.start + self.minutes * 60

    def active(self, t: int) -> bool:
        return self.start < t <= self.end

    def progress(self, t: int) -> float:
        """How far into the injection the sample at `t` is, in (0, 1]."""
        return (t - self.start) / (self.minutes * 60)


@dataclass(frozen=True)
class PaymentTimeouts(Window):
    """The payment provider does not answer in 2 s; `ratio` of calls time out (checkout 504).

    `retry_ratio` of timed-out first attempts are retried once; a retry that succeeds makes a
    slow 200, so the timeout counter then counts more than the checkout's bad requests.
    """

    ratio: float = 0.03
    retry_ratio: float = 0.0


@dataclass(frozen=True)
class ErrorBurst(Window):
    """500s that no failure mode names (a bad deploy): `ratio` of a service's requests."""

    service: ErrorService = "checkout"
    ratio: float = 0.01


@dataclass(frozen=True)
class SlowCheckouts(Window):
    """`ratio` of checkout requests take 0.5–2.5 s for a reason no failure mode names."""

    ratio: float = 0.05


@dataclass(frozen=True)
class QueueBacklog(Window):
    """Fulfilment consumers fall behind: the oldest message ages `growth` s per s, then drains."""

    growth: float = 0.5
    drain: float = 3.0


@dataclass(frozen=True)
class WorkerOutage(Window):
    """Every fulfilment worker is down (`up == 0`); nothing drains the orders queue."""

    drain: float = 3.0


@dataclass(frozen=True)
class ReplicaLag(Window):
    """The order-status replica lags up to `peak` s; above 30 s, `stale_ratio` of reads are 409.
    With a `region`, that region's replica lags instead (the scenario lists it in `replicas`)."""

    peak: float = 120.0
    stale_ratio: float = 0.05
    region: str | None = None


@dataclass(frozen=True)
class CacheStampede(Window):
    """A mass expiry: `miss_ratio` of catalog reads miss Redis; `error_ratio` of misses fail 503."""

    miss_ratio: float = 0.8
    error_ratio: float = 0.05


@dataclass(frozen=True)
class CacheStaleness(Window):
    """Catalog entries stop being refreshed and age 1 s per s.

    With `failed_invalidations_per_minute` > 0 it is the named invalidation-lag mode; with 0 the
    staleness has a cause nobody named (a stuck refresh job).
    """

    failed_invalidations_per_minute: float = 4.0


@dataclass(frozen=True)
class ProjectionDisorder(Window):
    """Order events arrive out of order or with sequence gaps."""

    out_of_order_ratio: float = 0.01
    gap_ratio: float = 0.002


@dataclass(frozen=True)
class ProjectionLag(Window):
    """The order-history projector falls up to `peak` s behind the event stream."""

    peak: float = 300.0


@dataclass(frozen=True)
class RegionOutage(Window):
    """A region fails its probes; `failure_ratio` of requests served there fail with 503."""

    region: str = "us-east"
    failure_ratio: float = 0.6


@dataclass(frozen=True)
class RouteTimeouts(Window):
    """An upstream of one checkout-api route times out: `ratio` of its requests are 504s, each
    counted once by `upstream_timeouts_total` of that route (the scenario must list the route)."""

    route: str = "/checkout"
    ratio: float = 0.05


@dataclass(frozen=True)
class ReplicationConflicts(Window):
    """Concurrent cart writes conflict; each conflict rejects one storefront request (500)."""

    per_minute: float = 20.0


@dataclass(frozen=True)
class FailedCheckouts:
    """`count` extra checkout requests in the interval ending at `at`, all failing.

    `payment-timeout` ones are 504s counted by the payment client; `internal-error` ones are
    500s that no failure mode names.
    """

    at: int
    count: int = 1
    cause: Literal["payment-timeout", "internal-error"] = "payment-timeout"


Injection = (
    PaymentTimeouts
    | ErrorBurst
    | SlowCheckouts
    | QueueBacklog
    | WorkerOutage
    | ReplicaLag
    | CacheStampede
    | CacheStaleness
    | ProjectionDisorder
    | ProjectionLag
    | RegionOutage
    | ReplicationConflicts
    | RouteTimeouts
    | FailedCheckouts
)


@dataclass(frozen=True)
class CounterReset:
    """A process restart of `target` right after the sample at `at`: its counters restart at 0."""

    at: int
    target: str


@dataclass(frozen=True)
class ScrapeGap:
    """No samples strictly between `start` and `end` for `targets` (all targets when None)."""

    start: int
    end: int
    targets: frozenset[str] | None = None

    def covers(self, target: str, t: float) -> bool:
        return self.start < t < self.end and (self.targets is None or target in self.targets)


@dataclass(frozen=True)
class Scenario:
    name: str
    start: int
    minutes: int
    interval: int = 60
    seed: int = 1
    phase: int = 0  # seconds after `start` of the first sample
    jitter: float = 0.0  # each sample moves by up to this many seconds, either way
    traffic: dict[str, float] = field(default_factory=dict)
    baseline_errors: float = 1.0
    injections: tuple[Injection, ...] = ()
    resets: tuple[CounterReset, ...] = ()
    gaps: tuple[ScrapeGap, ...] = ()
    # The checkout-api's routes: only scenarios that list some export their per-route series.
    routes: tuple[str, ...] = ()
    # Regions with a read replica of their own: only scenarios that list some export their lag.
    replicas: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate(self)

    def __hash__(self) -> int:
        return hash(
            (self.name, self.start, self.minutes, self.interval, self.seed, self.phase, self.jitter)
        )

    @property
    def end(self) -> int:
        return self.start + self.minutes * 60

    @property
    def first_sample(self) -> int:
        """When the model starts: the first sample's time before jitter."""
        return self.start + self.phase

    @property
    def samples(self) -> int:
        return (self.minutes * 60 - self.phase) // self.interval + 1

    def sample_times(self) -> list[float]:
        """Every sample's time (to the millisecond, as Prometheus stores it), jitter included."""
        rng = random.Random(self.seed * 7919 + 1)  # noqa: S311 - not a secret; apart from the model
        times = []
        for i in range(self.samples):
            moved = rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0
            times.append(round(self.first_sample + i * self.interval + moved, 3))
        return times

    @property
    def slice_ends(self) -> range:
        """The end of every one-minute slice the scenario covers."""
        return range(self.start + 60, self.end + 1, 60)

    def scale(self, service: str) -> float:
        return self.traffic.get(service, 1.0)

    def present(self, target: str, t: float) -> bool:
        """Whether `target` has a sample at `t` (that is, `t` is in no scrape gap of it)."""
        return not any(gap.covers(target, t) for gap in self.gaps)


def validate(scenario: Scenario) -> None:
    problems: list[str] = []
    if scenario.start % 60:
        problems.append("start must be minute-aligned")
    if scenario.minutes < 1:
        problems.append("minutes must be at least 1")
    if scenario.interval < 1 or (60 % scenario.interval and scenario.interval % 60):
        problems.append("interval must divide 60 seconds or be whole minutes")
    if not 0 <= scenario.phase < max(60, scenario.interval):
        problems.append("phase must be within the first minute (or interval)")
    if not 0 <= scenario.jitter < scenario.interval / 2:
        problems.append("jitter must be below half the interval")
    problems += [f"unknown service {name!r}" for name in scenario.traffic if name not in SERVICES]
    for injection in scenario.injections:
        at = injection.at if isinstance(injection, FailedCheckouts) else injection.start
        if at % 60:
            problems.append(f"{injection} must start on a minute")
        if isinstance(injection, RegionOutage) and injection.region not in REGIONS:
            problems.append(f"unknown region {injection.region!r}")
        if isinstance(injection, RouteTimeouts) and injection.route not in scenario.routes:
            problems.append(f"unknown route {injection.route!r}")
        if isinstance(injection, ReplicaLag) and injection.region not in (None, *scenario.replicas):
            problems.append(f"unknown replica region {injection.region!r}")
    problems += _gap_problems(scenario) + _reset_problems(scenario)
    if problems:
        raise ScenarioError(f"scenario {scenario.name!r}: " + "; ".join(problems))


def _gap_problems(scenario: Scenario) -> list[str]:
    problems: list[str] = []
    for gap in scenario.gaps:
        if gap.start % 60 or gap.end % 60 or gap.end - gap.start < 120:
            problems.append(f"{gap} must be minute-aligned and at least 2 minutes long")
        unknown = (gap.targets or frozenset()) - set(TARGETS)
        problems += [f"unknown target {name!r}" for name in sorted(unknown)]
    return problems


def _reset_problems(scenario: Scenario) -> list[str]:
    problems: list[str] = []
    for reset in scenario.resets:
        if reset.target not in TARGETS:
            problems.append(f"unknown target {reset.target!r}")
        if reset.at % 60 or not scenario.first_sample <= reset.at < scenario.end:
            problems.append(f"{reset} must be on a minute inside the scenario")
        # Prometheus only sees a reset between two samples it has; inside a gap it would miss it.
        near_gap = any(
            gap.start <= reset.at <= gap.end
            and (gap.targets is None or reset.target in gap.targets)
            for gap in scenario.gaps
        )
        if near_gap:
            problems.append(f"{reset} must not fall inside or at the edge of a scrape gap")
    return problems
