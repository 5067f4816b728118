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
    RouteTimeouts,
    Scenario,
)
from app.testbed.story import NamedScenario, clock, require

ROUTES = ("/cart", "/checkout", "/products", "/search")
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
