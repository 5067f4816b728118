"""The metric series the simulated shop exports, with the names and labels the shipped YAML reads.

Every series also carries `job` and `instance`, as any series scraped by Prometheus does; the
YAML queries select on the other labels and sum, so these two never change a query's result.
They also let the live exporter be scraped with `honor_labels: true` and continue exactly the
series that the backfilled history holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class FamilyType(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class Series:
    """One time series: its sample name, sorted labels, metric family and scrape target."""

    name: str
    labels: tuple[tuple[str, str], ...]
    family: str
    family_type: FamilyType
    target: str

    @property
    def is_counter(self) -> bool:
        """Counters and every histogram sample (`_bucket`, `_count`, `_sum`) only go up."""
        return self.family_type is not FamilyType.GAUGE

    def label(self, name: str) -> str | None:
        return next((value for key, value in self.labels if key == name), None)

    def selector(self) -> str:
        """The series in exposition syntax: `name{a="1",b="2"}`."""
        if not self.labels:
            return self.name
        inner = ",".join(f'{key}="{escape_label_value(value)}"' for key, value in self.labels)
        return f"{self.name}{{{inner}}}"


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# Histogram bounds of http_request_duration_seconds, spelled the way prometheus_client does.
LATENCY_BOUNDS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CHECKOUT_CODES = ("200", "500", "503", "504")
ORDER_STATUS_CODES = ("200", "409", "500")
CATALOG_CODES = ("200", "500", "503")
STOREFRONT_CODES = ("200", "500", "503")
PAYMENT_OUTCOMES = ("success", "timeout", "error")
PROJECTION_OUTCOMES = ("applied", "out_of_order", "gap")
REGIONS = ("eu-west", "us-east")
ROUTE_CODES = ("200", "500", "504")
FULFILMENT_WORKERS = (
    "fulfilment-worker-1:9100",
    "fulfilment-worker-2:9100",
    "fulfilment-worker-3:9100",
)

# Scrape targets: a gap or a restart applies to every series of a target.
TARGETS = (
    "checkout",
    "order-status",
    "catalog",
    "redis",
    "postgres",
    "yace",
    "fulfilment-worker",
    "kafka-lag-exporter",
    "order-history-projector",
    "blackbox",
    "storefront",
)


def format_le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


@dataclass(frozen=True)
class Catalog:
    """All series in a fixed order, and their positions by a short key (`checkout.code.200`)."""

    series: tuple[Series, ...]
    index: dict[str, int]

    def __len__(self) -> int:
        return len(self.series)

    def at(self, key: str) -> int:
        return self.index[key]

    def of_target(self, target: str) -> list[int]:
        return [i for i, series in enumerate(self.series) if series.target == target]

    def counters(self) -> list[int]:
        return [i for i, series in enumerate(self.series) if series.is_counter]


class _Builder:
    def __init__(self) -> None:
        self.series: list[Series] = []
        self.index: dict[str, int] = {}

    def add(
        self,
        key: str,
        name: str,
        family: str,
        family_type: FamilyType,
        target: str,
        labels: Iterable[tuple[str, str]],
    ) -> None:
        self.index[key] = len(self.series)
        self.series.append(Series(name, tuple(sorted(labels)), family, family_type, target))

    def counter(self, key: str, name: str, target: str, **labels: str) -> None:
        self.add(key, name, name.removesuffix("_total"), FamilyType.COUNTER, target, labels.items())

    def gauge(self, key: str, name: str, target: str, **labels: str) -> None:
        self.add(key, name, name, FamilyType.GAUGE, target, labels.items())


def build_catalog(routes: tuple[str, ...] = (), replicas: tuple[str, ...] = ()) -> Catalog:
    """Every series of the simulated shop, in the order the exposition writes them; with
    `routes`, the checkout-api's per-route series come last (other scenarios do not have them),
    and after them with `replicas` the lag of a read replica per region."""
    b = _Builder()
    # Positions are part of the data format (datasets index series by position): keep the order.
    _checkout(b)
    _order_status_and_catalog(b)
    _infrastructure(b)
    _storefront(b)
    _routes(b, routes)
    _replicas(b, replicas)
    return Catalog(tuple(b.series), b.index)


def _checkout(b: _Builder) -> None:
    """Checkout's requests by code, its latency histogram, and payment calls."""
    checkout = {"job": "checkout", "instance": "checkout:8080", "service": "checkout"}
    for code in CHECKOUT_CODES:
        b.counter(f"checkout.code.{code}", "http_requests_total", "checkout", **checkout, code=code)
    histogram = "http_request_duration_seconds"
    for bound in (*LATENCY_BOUNDS, float("inf")):
        labels = {**checkout, "le": format_le(bound)}.items()
        key = f"checkout.bucket.{format_le(bound)}"
        b.add(key, f"{histogram}_bucket", histogram, FamilyType.HISTOGRAM, "checkout", labels)
    for suffix in ("count", "sum"):
        name = f"{histogram}_{suffix}"
        b.add(
            f"checkout.{suffix}",
            name,
            histogram,
            FamilyType.HISTOGRAM,
            "checkout",
            checkout.items(),
        )
    payment = {"job": "checkout", "instance": "checkout:8080", "dependency": "payment-provider"}
    for outcome in PAYMENT_OUTCOMES:
        b.counter(
            f"payment.{outcome}",
            "payment_client_requests_total",
            "checkout",
            **payment,
            outcome=outcome,
        )


def _order_status_and_catalog(b: _Builder) -> None:
    """Order status and catalog requests, the catalog cache and its Redis."""
    status = {"job": "order-status", "instance": "order-status:8080", "service": "order-status"}
    for code in ORDER_STATUS_CODES:
        b.counter(
            f"order-status.code.{code}", "http_requests_total", "order-status", **status, code=code
        )

    catalog = {"job": "catalog", "instance": "catalog:8080"}
    for code in CATALOG_CODES:
        b.counter(
            f"catalog.code.{code}",
            "http_requests_total",
            "catalog",
            **catalog,
            service="catalog",
            code=code,
        )
    b.gauge("cache.age", "cache_oldest_entry_age_seconds", "catalog", **catalog, cache="catalog")
    b.counter(
        "cache.failed", "cache_invalidations_failed_total", "catalog", **catalog, cache="catalog"
    )
    redis = {"job": "redis", "instance": "catalog-cache:9121"}
    b.counter("redis.hits", "redis_keyspace_hits_total", "redis", **redis)
    b.counter("redis.misses", "redis_keyspace_misses_total", "redis", **redis)


def _infrastructure(b: _Builder) -> None:
    """Replica lag, the orders queue, fulfilment workers and the history projection."""
    b.gauge(
        "replica.lag",
        "pg_replication_lag_seconds",
        "postgres",
        job="postgres",
        instance="orders-db-replica:9187",
    )
    b.gauge(
        "queue.age",
        "aws_sqs_approximate_age_of_oldest_message_maximum",
        "yace",
        job="yace",
        instance="yace:5000",
        dimension_QueueName="orders",
    )
    for worker in FULFILMENT_WORKERS:
        b.gauge(f"up.{worker}", "up", "fulfilment-worker", job="fulfilment-worker", instance=worker)

    b.gauge(
        "projection.lag",
        "kafka_consumergroup_group_max_lag_seconds",
        "kafka-lag-exporter",
        job="kafka-lag-exporter",
        instance="kafka-lag-exporter:8000",
        group="order-history-projector",
    )
    projector = {"job": "order-history-projector", "instance": "order-history-projector:8080"}
    for outcome in PROJECTION_OUTCOMES:
        b.counter(
            f"projection.{outcome}",
            "projection_events_total",
            "order-history-projector",
            **projector,
            projector="order-history",
            outcome=outcome,
        )


def _storefront(b: _Builder) -> None:
    """Regional probes, storefront requests per region, and replication conflicts."""
    for region in REGIONS:
        b.gauge(
            f"probe.{region}",
            "probe_success",
            "blackbox",
            job="blackbox",
            instance=f"https://{region}.shop.example/healthz",
            region=region,
        )
    for region in REGIONS:
        store = {
            "job": "storefront",
            "instance": f"storefront-{region}:8080",
            "service": "storefront",
        }
        for code in STOREFRONT_CODES:
            b.counter(
                f"storefront.{region}.{code}",
                "http_requests_total",
                "storefront",
                **store,
                region=region,
                code=code,
            )
    b.counter(
        "storefront.conflicts",
        "storefront_replication_conflicts_total",
        "storefront",
        job="storefront",
        instance="cart-replicator:8080",
    )


def _routes(b: _Builder, routes: tuple[str, ...]) -> None:
    """The checkout-api's requests by route and code, and its upstream timeouts by route."""
    api = {"job": "checkout", "instance": "checkout:8080", "service": "checkout-api"}
    for route in routes:
        for code in ROUTE_CODES:
            b.counter(
                f"route.{route}.{code}",
                "http_requests_total",
                "checkout",
                **api,
                route=route,
                code=code,
            )
    for route in routes:
        b.counter(
            f"route.{route}.timeouts",
            "upstream_timeouts_total",
            "checkout",
            **api,
            route=route,
            upstream="payment-provider",
        )


def _replicas(b: _Builder, replicas: tuple[str, ...]) -> None:
    """A read replica of the orders database per region, each exporting its own lag."""
    for region in replicas:
        b.gauge(
            f"replica.lag.{region}",
            "pg_replication_lag_seconds",
            "postgres",
            job="postgres",
            instance=f"orders-db-{region}:9187",
            region=region,
        )
