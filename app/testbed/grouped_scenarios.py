"""Named scenarios for grouped SLOs: a budget per region, a budget per route.

Each group's truth is its own series' (see `tests/engine/test_grouped.py` and
`tests/engine/test_grouped_routes.py`); `facts` holds the incidents' times (epoch seconds).
Like every scenario they are sampled in the field by replacing the scenario's `interval`, `phase`
and `jitter` (as the tests' testbed does; `tests/engine/test_grouped_field.py`); the injections
start on minutes, so the facts hold at any sampling.
"""

from __future__ import annotations

from app.testbed.scenario import (
    ErrorBurst,
    Injection,
    QueueBacklog,
    RegionOutage,
    ReplicaLag,
    RouteTimeouts,
    Scenario,
)
from app.testbed.story import NamedScenario, clock, require

ROUTES = ("/cart", "/checkout", "/products", "/search")
# Regions with a read replica of their own in `replica_lag_by_region` (ap-south has no probe).
REPLICA_REGIONS = ("ap-south", "eu-west", "us-east")
BURNING_ROUTE = "/checkout"


def region_outage(
    start: int, minutes: int = 240, *, interval: int = 60, seed: int = 8
) -> NamedScenario:
    """For grouped SLOs: one region burns on its own failure mode, the other stays healthy."""
    require("region_outage", minutes, 180)
    outage = start + (minutes - 90) * 60
    backlog = start + (minutes - 170) * 60
    injections: tuple[Injection, ...] = (
        QueueBacklog(backlog, 40, growth=0.5, drain=3.0),
        RegionOutage(outage, 30, region="us-east", failure_ratio=0.2),
        ErrorBurst(outage + 45 * 60, 15, service="storefront", ratio=0.003),
    )
    scenario = Scenario("region_outage", start, minutes, interval, seed, injections=injections)
    story = (
        f"From {clock(backlog)} the orders queue backs up for 40 minutes (a condition of no "
        f"region). From {clock(outage)} us-east fails its probes for 30 minutes and serves 20 % "
        "of its storefront requests as 503, while eu-west stays healthy. 45 minutes after the "
        "outage began, 0.3 % of storefront requests in both regions fail with 500 for 15 "
        "minutes, for a cause no mode names."
    )
    return NamedScenario(scenario, story, {"outage": outage, "backlog": backlog})


def route_burn(
    start: int, minutes: int = 240, *, interval: int = 60, seed: int = 9
) -> NamedScenario:
    """For grouped SLOs by route: one route burns on a named failure mode, counted by a `bad`
    query that keeps the route label; the other routes spend only the unnamed baseline."""
    require("route_burn", minutes, 120)
    incident = start + (minutes - 90) * 60
    timeouts = RouteTimeouts(incident, 45, route=BURNING_ROUTE, ratio=0.05)
    scenario = Scenario(
        "route_burn", start, minutes, interval, seed, injections=(timeouts,), routes=ROUTES
    )
    story = (
        f"The checkout-api serves {', '.join(ROUTES)} at about 10 requests per second each. From "
        f"{clock(incident)} the payment provider times out on 5 % of {BURNING_ROUTE} requests for "
        "45 minutes: each is a 504 counted once by upstream_timeouts_total of that route. Every "
        "route also fails about 0.02 % of its requests with 500s no failure mode names."
    )
    facts = {"incident_start": incident, "incident_end": timeouts.end, "timeout_ratio": 0.05}
    return NamedScenario(scenario, story, facts)


def replica_lag_by_region(
    start: int, minutes: int = 240, *, interval: int = 60, seed: int = 10
) -> NamedScenario:
    """For grouped threshold SLOs (replica lag per region): one region lags because of a named
    per-region failure mode, one briefly for no named cause, one during a global condition."""
    require("replica_lag_by_region", minutes, 240)
    partition = start + 60 * 60
    blip = start + 150 * 60
    burst = start + 190 * 60
    injections: tuple[Injection, ...] = (
        RegionOutage(partition, 40, region="us-east", failure_ratio=0.2),
        ReplicaLag(partition, 40, peak=120.0, region="us-east"),
        ReplicaLag(blip, 8, peak=50.0, region="eu-west"),
        ReplicaLag(burst, 20, peak=90.0),
        ReplicaLag(burst, 20, peak=90.0, region="ap-south"),
    )
    scenario = Scenario(
        "replica_lag_by_region",
        start,
        minutes,
        interval,
        seed,
        injections=injections,
        replicas=REPLICA_REGIONS,
    )
    story = (
        f"The orders database has a read replica in each of {', '.join(REPLICA_REGIONS)}. From "
        f"{clock(partition)} us-east is cut off for 40 minutes (its probes fail, 20 % of its "
        "storefront requests are 503) and its replica falls up to 120 s behind. From "
        f"{clock(blip)} the eu-west replica lags up to 50 s for 8 minutes, for a cause no mode "
        f"names. From {clock(burst)} a write burst on the primary makes the order-status replica "
        "(no region) and the ap-south replica lag up to 90 s for 20 minutes."
    )
    facts = {"partition": partition, "blip": blip, "burst": burst}
    return NamedScenario(scenario, story, facts)
