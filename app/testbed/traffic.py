"""Request events of one sample interval, service by service.

Each function draws the interval's requests and outcomes and adds them to `increments` (one slot
per catalog series). They read the gauges at the interval's end (queue age, replica lag) from the
context, so an effect and the gauge that explains it land in the same slice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.testbed.draws import binomial, poisson, split
from app.testbed.scenario import (
    CacheStaleness,
    CacheStampede,
    ErrorBurst,
    FailedCheckouts,
    Injection,
    PaymentTimeouts,
    ProjectionDisorder,
    RegionOutage,
    ReplicaLag,
    ReplicationConflicts,
    RouteTimeouts,
    SlowCheckouts,
)
from app.testbed.series import LATENCY_BOUNDS, REGIONS, format_le

# Requests per second at a traffic factor of 1 and a scale of 1.
BASE_RATE = {
    "checkout": 20.0,
    "order-status": 15.0,
    "catalog": 80.0,
    "storefront": 120.0,
    "order-history": 12.0,
    "checkout-api": 40.0,
}
REGION_SHARE = {"eu-west": 0.55, "us-east": 0.45}
# Baseline error ratios (scaled by the scenario's `baseline_errors`). Checkout's internal 500s
# and payment errors are the unnamed cause: no failure mode of checkout-success counts them.
CHECKOUT_INTERNAL_ERROR = 0.0001
PAYMENT_ERROR = 0.0001
ORDER_STATUS_ERROR = 0.0002
CATALOG_ERROR = 0.0001
STOREFRONT_ERROR = 0.0002
ROUTE_ERROR = 0.0002
# Effects of gauge states on requests.
BACKLOG_REFUSAL = 0.02  # checkout handoff refused (503) while the queue is older than 300 s
STATUS_TIMEOUT = 0.01  # order-status reads time out (500) while the queue is older than 300 s
STALE_READ = 0.05  # order-status 409s while replica lag is above 30 s, without an injection
# Latency of healthy checkouts per histogram interval (<=0.05, <=0.1, … <=5, >5): 0.3 % are
# slower than 0.5 s, a baseline no failure mode names.
HEALTHY_LATENCY = (0.18, 0.37, 0.352, 0.095, 0.0025, 0.0005, 0.0, 0.0)
LATENCY_MIDPOINTS = (0.03, 0.075, 0.17, 0.35, 0.7, 2.1, 4.1, 6.0)
FAST, QUICK, BRIEF, _, SLOW, TIMEOUT, DOUBLE_TIMEOUT, _OVER = range(8)


def healthy_latency(baseline: float) -> tuple[float, ...]:
    """Healthy checkouts' latency with its slow tail (over 0.5 s) scaled like the error
    baseline: the tail is an unnamed cause too. The scale moves the tail's mass to 0.2–0.5 s."""
    if baseline == 1.0:
        return HEALTHY_LATENCY
    shares = list(HEALTHY_LATENCY)
    tail = shares[SLOW] + shares[TIMEOUT]
    shares[SLOW] *= baseline
    shares[TIMEOUT] *= baseline
    shares[BRIEF + 1] += tail - shares[SLOW] - shares[TIMEOUT]
    return tuple(shares)


@dataclass
class StepContext:
    rng: random.Random
    t: int
    interval: int
    load: float
    active: list[Injection]
    scale: dict[str, float]
    baseline: float
    queue_age: float
    replica_lag: float
    increments: list[float]
    index: dict[str, int]
    routes: tuple[str, ...] = ()

    def mean(self, service: str, share: float = 1.0) -> float:
        return BASE_RATE[service] * share * self.load * self.scale.get(service, 1.0) * self.interval

    def add(self, key: str, amount: float) -> None:
        self.increments[self.index[key]] += amount

    def burst(self, service: str) -> float:
        return sum(
            i.ratio for i in self.active if isinstance(i, ErrorBurst) and i.service == service
        )


def checkout(ctx: StepContext) -> None:
    rng, active = ctx.rng, ctx.active
    requests = poisson(rng, ctx.mean("checkout"))
    outage = next(
        (i for i in active if isinstance(i, RegionOutage) and i.region == "us-east"), None
    )
    region_503 = (
        binomial(rng, requests, REGION_SHARE["us-east"] * outage.failure_ratio) if outage else 0
    )
    calling = requests - region_503
    timeouts = [i for i in active if isinstance(i, PaymentTimeouts)]
    timeout_ratio = min(0.95, sum(i.ratio for i in timeouts))
    retry_ratio = max((i.retry_ratio for i in timeouts), default=0.0)
    first_timeouts = binomial(rng, calling, timeout_ratio)
    retried = binomial(rng, first_timeouts, retry_ratio)
    retry_timeouts = binomial(rng, retried, timeout_ratio)
    answered = calling - first_timeouts
    payment_errors = binomial(rng, answered, PAYMENT_ERROR * ctx.baseline)
    retry_successes = retried - retry_timeouts
    paid = answered - payment_errors + retry_successes
    internal = binomial(rng, paid, CHECKOUT_INTERNAL_ERROR * ctx.baseline + ctx.burst("checkout"))
    refused = binomial(rng, paid - internal, BACKLOG_REFUSAL) if ctx.queue_age > 300 else 0
    ok = paid - internal - refused

    exact = [i for i in active if isinstance(i, FailedCheckouts)]
    extra_timeouts = sum(i.count for i in exact if i.cause == "payment-timeout")
    extra_internal = sum(i.count for i in exact if i.cause == "internal-error")
    single_timeouts = first_timeouts - retried + extra_timeouts
    codes = {
        "200": ok,
        "500": payment_errors + internal + extra_internal,
        "503": region_503 + refused,
        "504": single_timeouts + retry_timeouts,
    }
    for code, count in codes.items():
        ctx.add(f"checkout.code.{code}", count)
    ctx.add("payment.success", answered - payment_errors + retry_successes)
    ctx.add("payment.timeout", first_timeouts + retry_timeouts + extra_timeouts)
    ctx.add("payment.error", payment_errors)

    # Latency: a retried success waited out one 2 s timeout; a 504 one or two of them.
    slow_retried = min(ok, retry_successes)
    healthy = ok - slow_retried
    slow_ratio = sum(i.ratio for i in active if isinstance(i, SlowCheckouts))
    slowed = binomial(rng, healthy, min(1.0, slow_ratio))
    intervals = split(rng, healthy - slowed, healthy_latency(ctx.baseline))
    slow_split = split(rng, slowed, (1.0, 1.0))
    intervals[SLOW] += slow_split[0]
    intervals[TIMEOUT] += slow_split[1]
    intervals[FAST] += region_503
    intervals[QUICK] += codes["500"]
    intervals[BRIEF] += refused
    intervals[TIMEOUT] += single_timeouts
    intervals[DOUBLE_TIMEOUT] += retry_timeouts + slow_retried
    cumulative = 0
    for position, bound in enumerate(LATENCY_BOUNDS):
        cumulative += intervals[position]
        ctx.add(f"checkout.bucket.{format_le(bound)}", cumulative)
    total = sum(codes.values())
    ctx.add("checkout.bucket.+Inf", total)
    ctx.add("checkout.count", total)
    spent = sum(count * mid for count, mid in zip(intervals, LATENCY_MIDPOINTS, strict=True))
    ctx.add("checkout.sum", round(spent, 3))


def order_status(ctx: StepContext) -> None:
    rng = ctx.rng
    reads = poisson(rng, ctx.mean("order-status"))
    stale_ratio = 0.0
    if ctx.replica_lag > 30:
        # (A region's replica, `region`, serves no order-status reads.)
        lagging = [
            i.stale_ratio for i in ctx.active if isinstance(i, ReplicaLag) and i.region is None
        ]
        stale_ratio = max(lagging, default=STALE_READ)
    stale = binomial(rng, reads, stale_ratio)
    timed_out = binomial(rng, reads - stale, STATUS_TIMEOUT) if ctx.queue_age > 300 else 0
    ratio = ORDER_STATUS_ERROR * ctx.baseline + ctx.burst("order-status")
    errors = timed_out + binomial(rng, reads - stale - timed_out, ratio)
    ctx.add("order-status.code.200", reads - stale - errors)
    ctx.add("order-status.code.409", stale)
    ctx.add("order-status.code.500", errors)


def catalog(ctx: StepContext) -> None:
    rng = ctx.rng
    reads = poisson(rng, ctx.mean("catalog"))
    stampede = next((i for i in ctx.active if isinstance(i, CacheStampede)), None)
    miss_ratio = stampede.miss_ratio if stampede else rng.uniform(0.03, 0.06)
    misses = binomial(rng, reads, miss_ratio)
    overloaded = binomial(rng, misses, stampede.error_ratio) if stampede else 0
    ratio = CATALOG_ERROR * ctx.baseline + ctx.burst("catalog")
    errors = binomial(rng, reads - overloaded, ratio)
    ctx.add("catalog.code.200", reads - overloaded - errors)
    ctx.add("catalog.code.500", errors)
    ctx.add("catalog.code.503", overloaded)
    ctx.add("redis.hits", reads - misses)
    ctx.add("redis.misses", misses)
    for injection in ctx.active:
        if isinstance(injection, CacheStaleness):
            per_step = injection.failed_invalidations_per_minute * ctx.interval / 60
            ctx.add("cache.failed", poisson(rng, per_step))


def storefront(ctx: StepContext) -> None:
    rng = ctx.rng
    conflicting = sum(
        poisson(rng, i.per_minute * ctx.interval / 60)
        for i in ctx.active
        if isinstance(i, ReplicationConflicts)
    )
    eu_conflicts = binomial(rng, conflicting, REGION_SHARE["eu-west"])
    conflicts_by_region = {"eu-west": eu_conflicts, "us-east": conflicting - eu_conflicts}
    rejected_total = 0
    for region in REGIONS:
        requests = poisson(rng, ctx.mean("storefront", REGION_SHARE[region]))
        outage = next(
            (i for i in ctx.active if isinstance(i, RegionOutage) and i.region == region), None
        )
        unavailable = binomial(rng, requests, outage.failure_ratio) if outage else 0
        # A conflict rejects one request; the counter counts rejected requests only.
        rejected = min(requests - unavailable, conflicts_by_region[region])
        ratio = STOREFRONT_ERROR * ctx.baseline + ctx.burst("storefront")
        errors = rejected + binomial(rng, requests - unavailable - rejected, ratio)
        ctx.add(f"storefront.{region}.200", requests - unavailable - errors)
        ctx.add(f"storefront.{region}.500", errors)
        ctx.add(f"storefront.{region}.503", unavailable)
        rejected_total += rejected
    ctx.add("storefront.conflicts", rejected_total)


def projection(ctx: StepContext) -> None:
    rng = ctx.rng
    events = poisson(rng, ctx.mean("order-history"))
    disorders = [i for i in ctx.active if isinstance(i, ProjectionDisorder)]
    reordered = binomial(rng, events, min(1.0, sum(i.out_of_order_ratio for i in disorders)))
    gaps = binomial(rng, events - reordered, min(1.0, sum(i.gap_ratio for i in disorders)))
    ctx.add("projection.applied", events - reordered - gaps)
    ctx.add("projection.out_of_order", reordered)
    ctx.add("projection.gap", gaps)


def routes(ctx: StepContext) -> None:
    """The checkout-api by route (only in scenarios with routes, so no other draws change): an
    even split of its traffic, unnamed 500s at the baseline, and each route's upstream timeouts
    as 504s counted once by that route's timeout counter."""
    rng = ctx.rng
    for route in ctx.routes:
        requests = poisson(rng, ctx.mean("checkout-api", 1 / len(ctx.routes)))
        ratio = sum(
            i.ratio for i in ctx.active if isinstance(i, RouteTimeouts) and i.route == route
        )
        timeouts = binomial(rng, requests, min(0.95, ratio))
        errors = binomial(rng, requests - timeouts, ROUTE_ERROR * ctx.baseline)
        ctx.add(f"route.{route}.200", requests - timeouts - errors)
        ctx.add(f"route.{route}.500", errors)
        ctx.add(f"route.{route}.504", timeouts)
        ctx.add(f"route.{route}.timeouts", timeouts)


ALL_SERVICES = (checkout, order_status, catalog, storefront, projection, routes)
