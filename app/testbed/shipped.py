"""What each SLO in `slo_definitions/` measures, restated by hand for the ground truth.

This is a second, independent reading of the shipped YAML: which generated series each query
counts and what each `when` condition tests. Tests check that the keys, objectives and mode
names here still match the YAML, so a definition change cannot silently drift from the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.testbed.promsemantics import Evaluator, holds, ratio
from app.testbed.series import Catalog


@dataclass(frozen=True)
class Match:
    """A series selector: metric name and, per label, the accepted values."""

    metric: str
    labels: tuple[tuple[str, frozenset[str]], ...] = ()

    def series(self, catalog: Catalog) -> list[int]:
        return [
            i
            for i, series in enumerate(catalog.series)
            if series.name == self.metric
            and all(series.label(name) in allowed for name, allowed in self.labels)
        ]


def match(metric: str, **labels: str | tuple[str, ...]) -> Match:
    return Match(
        metric,
        tuple(
            (name, frozenset((value,) if isinstance(value, str) else value))
            for name, value in sorted(labels.items())
        ),
    )


BoundCondition = Callable[[Evaluator, int], bool]


@dataclass(frozen=True)
class InstantCompare:
    """`agg(selector) op value` on gauges (`max`, `min` or `sum`)."""

    aggregate: str
    selector: Match
    op: str
    value: float

    def bind(self, catalog: Catalog) -> BoundCondition:
        series = self.selector.series(catalog)
        aggregate = {"max": Evaluator.max_instant, "min": Evaluator.min_instant}.get(
            self.aggregate, Evaluator.sum_instant
        )
        return lambda ev, t: holds(aggregate(ev, series, t), self.op, self.value)


@dataclass(frozen=True)
class RateCompare:
    """`sum(rate(numerator[w])) / (sum(rate(d1[w])) + …) op value`; no denominator: no division."""

    numerator: Match
    op: str
    value: float
    denominator: tuple[Match, ...] = ()
    seconds: int = 300

    def bind(self, catalog: Catalog) -> BoundCondition:
        numerator = self.numerator.series(catalog)
        parts = [part.series(catalog) for part in self.denominator]

        def condition(ev: Evaluator, t: int) -> bool:
            top = ev.sum_rate(numerator, t, self.seconds)
            if not parts:
                return holds(top, self.op, self.value)
            rates = [ev.sum_rate(part, t, self.seconds) for part in parts]
            bottom = (
                None if any(r is None for r in rates) else sum(r for r in rates if r is not None)
            )
            return holds(ratio(top, bottom), self.op, self.value)

        return condition


Condition = InstantCompare | RateCompare


@dataclass(frozen=True)
class ModeTruthSpec:
    name: str
    bad: Match | None = None
    when: Condition | None = None


@dataclass(frozen=True)
class SLOTruthSpec:
    """An events SLO has `total` and `bad`/`good` (or neither: bad from modes); a threshold SLO
    has `threshold`, the condition under which a slice is good."""

    key: str
    objective: float
    total: Match | None = None
    bad: Match | None = None
    good: Match | None = None
    threshold: InstantCompare | None = None
    modes: tuple[ModeTruthSpec, ...] = ()

    @property
    def timeslices(self) -> bool:
        return self.threshold is not None


CHECKOUT = match("http_requests_total", service="checkout")
CHECKOUT_5XX = match("http_requests_total", service="checkout", code=("500", "503", "504"))
PAYMENT = match("payment_client_requests_total", dependency="payment-provider")
PAYMENT_TIMEOUTS = match(
    "payment_client_requests_total", dependency="payment-provider", outcome="timeout"
)
QUEUE_AGE = match("aws_sqs_approximate_age_of_oldest_message_maximum", dimension_QueueName="orders")
US_EAST_PROBE = match("probe_success", job="blackbox", region="us-east")
REPLICA_LAG = match("pg_replication_lag_seconds", instance="orders-db-replica:9187")
MISSES = match("redis_keyspace_misses_total", instance="catalog-cache:9121")
HITS = match("redis_keyspace_hits_total", instance="catalog-cache:9121")
PROJECTION = match("projection_events_total", projector="order-history")

QUEUE_OLDER_THAN_5M = InstantCompare("max", QUEUE_AGE, ">", 300)
US_EAST_DOWN = InstantCompare("min", US_EAST_PROBE, "==", 0)

SHIPPED_SLOS: tuple[SLOTruthSpec, ...] = (
    SLOTruthSpec(
        "catalog/cache-freshness",
        99,
        threshold=InstantCompare(
            "max", match("cache_oldest_entry_age_seconds", cache="catalog"), "<=", 120
        ),
        modes=(
            ModeTruthSpec(
                "invalidation-lag",
                when=RateCompare(
                    match("cache_invalidations_failed_total", cache="catalog"), ">", 0
                ),
            ),
        ),
    ),
    SLOTruthSpec(
        "catalog/catalog-reads",
        99.9,
        total=match("http_requests_total", service="catalog"),
        bad=match("http_requests_total", service="catalog", code=("500", "503")),
        modes=(
            ModeTruthSpec("cache-stampede", when=RateCompare(MISSES, ">", 0.5, (HITS, MISSES))),
        ),
    ),
    SLOTruthSpec(
        "checkout/checkout-success",
        99.9,
        total=CHECKOUT,
        bad=CHECKOUT_5XX,
        modes=(
            ModeTruthSpec("payment-timeout", bad=PAYMENT_TIMEOUTS),
            ModeTruthSpec("orders-backlog", when=QUEUE_OLDER_THAN_5M),
            ModeTruthSpec("us-east-failover", when=US_EAST_DOWN),
        ),
    ),
    SLOTruthSpec(
        "checkout/checkout-latency",
        99,
        total=match("http_request_duration_seconds_count", service="checkout"),
        good=match("http_request_duration_seconds_bucket", service="checkout", le="0.5"),
        modes=(
            ModeTruthSpec(
                "payment-slow", when=RateCompare(PAYMENT_TIMEOUTS, ">", 0.01, (PAYMENT,))
            ),
        ),
    ),
    SLOTruthSpec(
        "order-history/projection-freshness",
        99,
        threshold=InstantCompare(
            "max",
            match("kafka_consumergroup_group_max_lag_seconds", group="order-history-projector"),
            "<=",
            60,
        ),
        modes=(
            ModeTruthSpec(
                "replay-backlog",
                when=RateCompare(
                    match(
                        "projection_events_total", projector="order-history", outcome="out_of_order"
                    ),
                    ">",
                    0,
                ),
            ),
        ),
    ),
    SLOTruthSpec(
        "order-history/projection-integrity",
        99.95,
        total=PROJECTION,
        modes=(
            ModeTruthSpec(
                "reordered-events",
                bad=match(
                    "projection_events_total", projector="order-history", outcome="out_of_order"
                ),
            ),
            ModeTruthSpec(
                "missing-events",
                bad=match("projection_events_total", projector="order-history", outcome="gap"),
            ),
        ),
    ),
    SLOTruthSpec(
        "orders/queue-freshness",
        99,
        threshold=InstantCompare("max", QUEUE_AGE, "<=", 300),
        modes=(
            ModeTruthSpec(
                "worker-outage",
                when=InstantCompare("sum", match("up", job="fulfilment-worker"), "==", 0),
            ),
        ),
    ),
    SLOTruthSpec(
        "orders/replica-lag", 99.5, threshold=InstantCompare("max", REPLICA_LAG, "<=", 30)
    ),
    SLOTruthSpec(
        "orders/order-status-reads",
        99.5,
        total=match("http_requests_total", service="order-status"),
        bad=match("http_requests_total", service="order-status", code=("500", "409")),
        modes=(
            ModeTruthSpec(
                "stale-replica-read",
                bad=match("http_requests_total", service="order-status", code="409"),
                when=InstantCompare("max", REPLICA_LAG, ">", 30),
            ),
            ModeTruthSpec("status-backlog", when=QUEUE_OLDER_THAN_5M),
        ),
    ),
    SLOTruthSpec(
        "payments-gateway/provider-timeouts",
        99.5,
        total=PAYMENT,
        bad=PAYMENT_TIMEOUTS,
        modes=(ModeTruthSpec("provider-brownout", bad=PAYMENT_TIMEOUTS),),
    ),
    SLOTruthSpec(
        "storefront/availability",
        99.9,
        total=match("http_requests_total", service="storefront"),
        bad=match("http_requests_total", service="storefront", code=("500", "503")),
        modes=(
            ModeTruthSpec("us-east-outage", when=US_EAST_DOWN),
            ModeTruthSpec(
                "replication-conflicts", bad=match("storefront_replication_conflicts_total")
            ),
        ),
    ),
)

SHIPPED_BY_KEY = {spec.key: spec for spec in SHIPPED_SLOS}
