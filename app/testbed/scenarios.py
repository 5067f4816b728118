"""Named scenarios with a known ground-truth story, for tests and for `faultline demo`.

Each function takes the start (epoch seconds, minute-aligned) and the span in minutes, and places
its incidents relative to the span, so tests can use hours and the demo 30 days. `facts` holds
the numbers a test can assert without recomputing the story (times are epoch seconds).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import fields

from app.testbed.grouped_scenarios import region_outage, replica_lag_by_region, route_burn
from app.testbed.scenario import (
    CacheStaleness,
    CacheStampede,
    CounterReset,
    ErrorBurst,
    FailedCheckouts,
    Injection,
    PaymentTimeouts,
    ProjectionDisorder,
    ProjectionLag,
    QueueBacklog,
    RegionOutage,
    ReplicaLag,
    ReplicationConflicts,
    Scenario,
    ScenarioError,
    ScrapeGap,
    SlowCheckouts,
    WorkerOutage,
)
from app.testbed.story import NamedScenario, clock, require

__all__ = ["NAMED_SCENARIOS", "NamedScenario", "clock", "named", "start_ending_before"]

DAY_MINUTES = 1440
# The demo's unnamed error baseline, a tenth of the test scenarios': most of its budget is spent by
# failure modes someone named.
DEMO_BASELINE_ERRORS = 0.1


def start_ending_before(now: float, minutes: int, margin_minutes: int = 2) -> int:
    """A minute-aligned start so that `minutes` end `margin_minutes` before `now`."""
    return (int(now) // 60 - margin_minutes - minutes) * 60


def steady(start: int, minutes: int = 360, *, interval: int = 60, seed: int = 1) -> NamedScenario:
    scenario = Scenario("steady", start, minutes, interval, seed)
    story = (
        f"{minutes} minutes of clean traffic from {clock(start)}. The only bad events are the "
        "unnamed baseline: checkout 500s at about 0.02 % (internal errors and payment-provider "
        "errors, which no failure mode counts), 0.01-0.02 % 500s on order-status, catalog and "
        "storefront, and 0.3 % of checkouts slower than 0.5 s. Threshold SLOs stay good, no "
        "failure mode holds, and every bad event is unattributed."
    )
    return NamedScenario(scenario, story)


def fast_burn(
    start: int, minutes: int = 360, *, interval: int = 60, seed: int = 2
) -> NamedScenario:
    require("fast_burn", minutes, 180)
    incident = start + (minutes - 150) * 60
    timeouts = PaymentTimeouts(incident, 60, ratio=0.03)
    scenario = Scenario("fast_burn", start, minutes, interval, seed, injections=(timeouts,))
    story = (
        f"The payment provider times out on 3 % of calls from {clock(incident)} for 60 minutes; "
        "each timeout is a checkout 504 counted once by payment_client_requests_total{outcome="
        '"timeout"}, so checkout-success burns about 30x (plus the 0.2x unnamed baseline) and '
        "payment-timeout gets nearly all of it. payment-slow (timeout ratio > 1 % over 5m) holds "
        "for checkout-latency from 2 minutes in until 3 minutes after the end (62 slices). "
        "provider-timeouts burns about 6x. Clean traffic before and after."
    )
    facts = {"incident_start": incident, "incident_end": timeouts.end, "timeout_ratio": 0.03}
    return NamedScenario(scenario, story, facts)


def slow_burn(
    start: int, minutes: int = DAY_MINUTES, *, interval: int = 60, seed: int = 3
) -> NamedScenario:
    require("slow_burn", minutes, 360)
    burn_start, burn_end = start + 120 * 60, start + (minutes - 60) * 60
    timeouts = PaymentTimeouts(burn_start, (burn_end - burn_start) // 60, ratio=0.0018)
    resets = (
        CounterReset(start + minutes // 3 * 60, "checkout"),
        CounterReset(start + 2 * minutes // 3 * 60, "checkout"),
        CounterReset(start + minutes // 2 * 60, "catalog"),
    )
    gap_start = start + (minutes * 55 // 100) * 60
    gap = ScrapeGap(gap_start, gap_start + 15 * 60)
    scenario = Scenario(
        "slow_burn",
        start,
        minutes,
        interval,
        seed,
        injections=(timeouts,),
        resets=resets,
        gaps=(gap,),
    )
    story = (
        f"Payment timeouts on 0.18 % of calls from {clock(burn_start)} to {clock(burn_end)}: "
        "with the 0.02 % unnamed baseline, checkout-success burns about 2x for hours, below every "
        "page threshold but enough for the 3d/6h ticket. The checkout process restarts at "
        f"{', '.join(clock(r.at) for r in resets[:2])} and catalog at {clock(resets[2].at)} "
        "(counters drop to 0 right after a scrape). Prometheus misses every scrape from "
        f"{clock(gap.start)} to {clock(gap.end)}: 14 slices of every SLO have no data, and the "
        "first slice after the gap counts its events."
    )
    facts = {
        "burn_start": burn_start,
        "burn_end": burn_end,
        "gap_start": gap.start,
        "gap_end": gap.end,
        "no_data_slices": 14,
    }
    return NamedScenario(scenario, story, facts)


def queue_age(
    start: int, minutes: int = 360, *, interval: int = 60, seed: int = 4
) -> NamedScenario:
    require("queue_age", minutes, 300)
    backlog_start = start + (minutes - 240) * 60
    backlog = QueueBacklog(backlog_start, 60, growth=0.5, drain=3.0)
    outage = WorkerOutage(backlog_start + 20 * 60, 20)
    scenario = Scenario("queue_age", start, minutes, interval, seed, injections=(backlog, outage))
    story = (
        f"From {clock(backlog_start)} fulfilment consumers fall behind: the orders queue's oldest "
        "message ages 0.5 s per second for 60 minutes, and all three workers are down (up == 0) "
        f"from {clock(outage.start)} for 20 minutes, when it ages 1 s per second. It peaks at "
        "2400 s and drains at 3 s per second. Age is above 300 s for 61 one-minute slices (from "
        "11 to 71 minutes after the start), 20 of them while worker-outage held; the other 41 "
        "are unattributed in queue-freshness. Meanwhile checkout refuses 2 % of handoffs (503, "
        "orders-backlog) and 1 % of order-status reads time out (500, status-backlog)."
    )
    facts = {
        "backlog_start": backlog_start,
        "queue_bad_slices": 61,
        "first_bad_slice": backlog_start + 11 * 60,
        "last_bad_slice": backlog_start + 71 * 60,
        "worker_outage_slices": 20,
    }
    return NamedScenario(scenario, story, facts)


def overlapping(
    start: int, minutes: int = 360, *, interval: int = 60, seed: int = 5
) -> NamedScenario:
    require("overlapping", minutes, 300)
    t0 = start + (minutes - 240) * 60
    injections: tuple[Injection, ...] = (
        QueueBacklog(t0, 60, growth=0.5, drain=3.0),
        PaymentTimeouts(t0 + 20 * 60, 40, ratio=0.05, retry_ratio=0.5),
        ErrorBurst(t0 + 30 * 60, 20, service="checkout", ratio=0.004),
        ReplicaLag(t0 + 40 * 60, 30, peak=90.0, stale_ratio=0.05),
    )
    scenario = Scenario("overlapping", start, minutes, interval, seed, injections=injections)
    story = (
        f"From {clock(t0)} the orders queue backs up (age above 300 s for 58 slices, 11 to 68 "
        "minutes in), so checkout refuses 2 % of handoffs with 503 while orders-backlog holds. "
        "From 20 to 60 minutes in, 5 % of payment calls time out and half of those are retried: "
        "a retry that times out again is one 504 counted twice by the timeout counter, and a "
        "retry that succeeds is a slow 200 counted once, so payment-timeout's bad count exceeds "
        "the slice's bad total and is scaled down to fit (orders-backlog then gets nothing in "
        "those slices). From 30 to 50 minutes in, 0.4 % of checkouts fail with 500 for a cause no "
        "mode names. From 40 to 70 minutes in the order-status replica lags up to 90 s: 409s "
        "(stale-replica-read, bad and when) overlap with status-backlog timeouts."
    )
    facts = {"start": t0, "queue_bad_slices": 58}
    return NamedScenario(scenario, story, facts)


def low_traffic(
    start: int, minutes: int = 180, *, interval: int = 60, seed: int = 6
) -> NamedScenario:
    require("low_traffic", minutes, 120)
    failure_at = start + (minutes - 60) * 60
    scenario = Scenario(
        "low_traffic",
        start,
        minutes,
        interval,
        seed,
        traffic={"checkout": 1 / 1200},
        baseline_errors=0.0,
        injections=(FailedCheckouts(failure_at, 1, "payment-timeout"),),
    )
    story = (
        f"Checkout serves about one request a minute. Exactly one request fails: a payment "
        f"timeout (504) in the slice ending {clock(failure_at)}. In the hour around it "
        "checkout-success's bad fraction is about 1/60, a 1h burn rate near 17 that a "
        "minimum-events guard must keep from paging. No other errors anywhere."
    )
    return NamedScenario(scenario, story, {"failure_at": failure_at, "bad_events": 1})


def demo_history(
    start: int, minutes: int = 30 * DAY_MINUTES, *, interval: int = 60, seed: int = 7
) -> NamedScenario:
    require("demo_history", minutes, DAY_MINUTES)

    def at(fraction: float) -> int:
        return start + int(minutes * fraction) * 60

    # A well-instrumented shop: named failure modes explain most of the budget spent. What
    # no mode names is kept on purpose and small: a low error baseline, a stuck refresh job,
    # one burst of 500s, and two SLOs whose causes nobody has named yet (checkout-latency's
    # slow checkouts, replica-lag), the "next failure mode to write".
    injections: tuple[Injection, ...] = (
        PaymentTimeouts(at(0.07), 45, ratio=0.04),
        RegionOutage(at(0.13), 25, region="us-east", failure_ratio=0.6),
        CacheStampede(at(0.20), 40, error_ratio=0.1),
        WorkerOutage(at(0.27), 40),
        ReplicaLag(at(0.33), 90, peak=150.0),
        ProjectionDisorder(at(0.40), 180, out_of_order_ratio=0.004, gap_ratio=0.001),
        ProjectionLag(at(0.40), 45, peak=240.0),
        CacheStaleness(at(0.47), 40, failed_invalidations_per_minute=4.0),
        ReplicationConflicts(at(0.53), 120, per_minute=15.0),
        CacheStaleness(at(0.60), 10, failed_invalidations_per_minute=0.0),
        PaymentTimeouts(at(0.67), 600, ratio=0.003),
        SlowCheckouts(at(0.72), 90, ratio=0.3),
        ErrorBurst(at(0.80), 30, service="checkout", ratio=0.01),
        WorkerOutage(at(0.87), 30),
        PaymentTimeouts(at(0.87) + 10 * 60, 30, ratio=0.03, retry_ratio=0.3),
        RegionOutage(at(0.93), 15, region="us-east", failure_ratio=0.5),
        ReplicationConflicts(at(0.93), 30, per_minute=20.0),
    )
    resets = (
        *(CounterReset(at(share), "checkout") for share in (0.25, 0.5, 0.75)),
        CounterReset(at(0.45), "catalog"),
        CounterReset(at(0.62), "storefront"),
        CounterReset(at(0.35), "order-history-projector"),
    )
    gaps = (
        ScrapeGap(at(0.36), at(0.36) + 20 * 60),
        ScrapeGap(at(0.56), at(0.56) + 30 * 60, frozenset({"blackbox"})),
    )
    scenario = Scenario(
        "demo_history",
        start,
        minutes,
        interval,
        seed,
        baseline_errors=DEMO_BASELINE_ERRORS,
        injections=injections,
        resets=resets,
        gaps=gaps,
    )
    days = minutes // DAY_MINUTES
    lines = [
        f"{days} day{'' if days == 1 else 's'} from {clock(start)}, with these injected failures:"
    ]
    for injection in injections:
        when = injection.at if isinstance(injection, FailedCheckouts) else injection.start
        lines.append(f"- {clock(when)}: {described(injection)}")
    lines.append("Restarts: " + ", ".join(f"{r.target} at {clock(r.at)}" for r in resets))
    lines.append(
        f"Scrape gaps: all targets {clock(gaps[0].start)} for 20 min (a Prometheus outage); "
        f"blackbox only {clock(gaps[1].start)} for 30 min."
    )
    return NamedScenario(scenario, "\n".join(lines), {"incidents": len(injections)})


def described(injection: Injection) -> str:
    """`PaymentTimeouts for 45 min (ratio 0.04, retry ratio 0.0)`: the kind, how long and how
    strong, without the epoch start the listing already shows as a time."""
    values = {f.name: getattr(injection, f.name) for f in fields(injection)}
    minutes = values.pop("minutes", None)
    rest = [
        f"{name.replace('_', ' ')} {value}"
        for name, value in values.items()
        if name not in ("start", "at")
    ]
    text = type(injection).__name__ + (f" for {minutes} min" if minutes is not None else "")
    return text + (f" ({', '.join(rest)})" if rest else "")


def backtest_week(
    start: int, minutes: int = 9 * DAY_MINUTES, *, interval: int = 60, seed: int = 8
) -> NamedScenario:
    require("backtest_week", minutes, 9 * DAY_MINUTES)
    fast = PaymentTimeouts(start + (DAY_MINUTES + 720) * 60, 60, ratio=0.03)
    slow = PaymentTimeouts(start + (2 * DAY_MINUTES + 360) * 60, 480, ratio=0.004)
    blip = ErrorBurst(start + (5 * DAY_MINUTES + 600) * 60, 10, service="checkout", ratio=0.01)
    scenario = Scenario(
        "backtest_week", start, minutes, interval, seed, injections=(fast, slow, blip)
    )
    story = (
        f"A fast burn: 3 % of payment calls time out from {clock(fast.start)} for an hour "
        f"(checkout-success burns about 30x). A slow burn: 0.4 % from {clock(slow.start)} for 8 "
        "hours (about 4x). Then a clean week, but for a 10-minute burst of unnamed 500s on 1 % "
        f"of checkouts at {clock(blip.start)} (about 10x, too small to be a budget incident)."
    )
    facts = {
        "fast_start": fast.start,
        "fast_end": fast.end,
        "slow_start": slow.start,
        "slow_end": slow.end,
        "blip_start": blip.start,
        "blip_end": blip.end,
    }
    return NamedScenario(scenario, story, facts)


NAMED_SCENARIOS: dict[str, Callable[..., NamedScenario]] = {
    "steady": steady,
    "fast_burn": fast_burn,
    "slow_burn": slow_burn,
    "queue_age": queue_age,
    "overlapping": overlapping,
    "low_traffic": low_traffic,
    "demo_history": demo_history,
    "backtest_week": backtest_week,
    "region_outage": region_outage,
    "route_burn": route_burn,
    "replica_lag_by_region": replica_lag_by_region,
}


def named(
    name: str, start: int | None = None, minutes: int | None = None, **options: int
) -> NamedScenario:
    """A named scenario; `start` defaults to one ending two minutes before now."""
    factory = NAMED_SCENARIOS[name]
    kwargs: dict[str, int] = dict(options)
    if minutes is not None:
        kwargs["minutes"] = minutes
    if start is None:
        span = minutes if minutes is not None else _default_minutes(factory)
        start = start_ending_before(time.time(), span)
    return factory(start, **kwargs)


def _default_minutes(factory: Callable[..., NamedScenario]) -> int:
    default = inspect.signature(factory).parameters["minutes"].default
    if not isinstance(default, int):
        raise ScenarioError(f"{factory.__name__} has no default span")
    return default
