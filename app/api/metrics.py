"""Faultline watching itself: evaluation, Prometheus queries, store errors, and every SLO's figures.

Per-SLO gauges are read from the status snapshots at scrape time (a custom collector), so a
scrape never sums the ledger and always shows what the API shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.engine import group_views, views
from app.engine.service import Engine
from app.engine.ticks import QUERY_ERROR_KINDS, TickResult
from app.slo import conventions
from app.slo.ledger import NoDataReason
from app.slo.spec import split_slo_key
from app.store.errors import StoreError

log = logging.getLogger(__name__)

QUERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TICK_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600)


class EngineMetrics:
    """Counters and histograms fed by the engine, registered on one registry (never global)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.query_duration = Histogram(
            conventions.QUERY_DURATION,
            "Latency of PromQL range queries sent to Prometheus.",
            buckets=QUERY_BUCKETS,
            registry=registry,
        )
        self.query_errors = Counter(
            conventions.QUERY_ERRORS,
            "PromQL queries that failed, by kind (query_error: the query is at fault; "
            "malformed: an unusable answer; unavailable: no useful answer (5xx, 429, refused); "
            "timeout: no full answer within the deadline; not_prometheus: something else "
            "answered; auth: credentials refused).",
            [conventions.QUERY_ERROR_KIND_LABEL],
            registry=registry,
        )
        self.no_data_slices = Counter(
            conventions.NO_DATA_SLICES,
            "Slices evaluated as no-data by the ticks, by reason (no-series, too-sparse, "
            "stale-gauge, out-of-range, not-finite: NaN or Inf, overflow).",
            [conventions.NO_DATA_REASON_LABEL],
            registry=registry,
        )
        self.deferred_slos = Counter(
            conventions.DEFERRED_SLOS,
            "SLOs a tick left for the next one because its deadline passed.",
            registry=registry,
        )
        self.tick_duration = Histogram(
            conventions.TICK_DURATION,
            "Wall time of one evaluation tick (all SLOs).",
            buckets=TICK_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            conventions.STORE_ERRORS,
            "Ledger reads or writes that failed.",
            registry=registry,
        )
        self.slo_errors = Counter(
            conventions.SLO_EVALUATION_ERRORS,
            "SLO evaluations that failed because of their own queries.",
            registry=registry,
        )
        for kind in QUERY_ERROR_KINDS:
            self.query_errors.labels(kind=kind)
        for reason in NoDataReason:
            self.no_data_slices.labels(reason=reason.value)

    def observe_query(self, seconds: float, outcome: str) -> None:
        self.query_duration.observe(seconds)
        if outcome != "ok":
            self.query_errors.labels(kind=outcome).inc()

    def observe_tick(self, result: TickResult) -> None:
        self.tick_duration.observe(result.seconds)
        self.slo_errors.inc(len(result.errors))
        self.deferred_slos.inc(len(result.deferred))
        for reason, slices in result.no_data.items():
            self.no_data_slices.labels(reason=reason).inc(slices)


class LedgerCollector(Collector):
    """Gauges computed at scrape time from the engine and the status snapshots."""

    def __init__(self, engine_of: Callable[[], Engine], on_store_error: Callable[[], None]) -> None:
        self._engine_of = engine_of
        self._on_store_error = on_store_error

    def collect(self) -> Iterator[Metric]:
        engine = self._engine_of()
        lag = GaugeMetricFamily(
            conventions.EVALUATION_LAG,
            "Age of the oldest slice that is due but not evaluated yet (0 when caught up).",
        )
        try:
            lag.add_metric([], engine.evaluation_lag())
            snapshots = views.status_reports(engine)
            counts = group_views.group_counts(engine)
            total = group_views.groups_total(engine) if counts else None
        except StoreError:
            self._on_store_error()
            log.exception("metrics: the ledger store is unavailable")
            yield lag
            return
        yield lag
        yield from self._slo_gauges(snapshots)
        yield from _group_gauges(counts)
        yield from _total_gauges(total)

    @staticmethod
    def _slo_gauges(snapshots: dict[str, str]) -> Iterator[Metric]:
        base = list(conventions.SLO_LABELS)
        remaining = GaugeMetricFamily(
            conventions.SLO_BUDGET_REMAINING,
            "Share of the error budget left in the SLO's period (1 untouched, 0 exhausted, "
            "negative overspent).",
            labels=base,
        )
        consumed = GaugeMetricFamily(
            conventions.SLO_BUDGET_CONSUMED,
            "Share of the error budget spent in the SLO's period.",
            labels=base,
        )
        sli = GaugeMetricFamily(
            conventions.SLO_SLI, "Good fraction over the SLO's period.", labels=base
        )
        objective = GaugeMetricFamily(
            conventions.SLO_OBJECTIVE, "The SLO's objective as a fraction.", labels=base
        )
        burn = GaugeMetricFamily(
            conventions.SLO_BURN_RATE,
            "Error budget burn rate over a trailing window (1 spends the budget exactly over "
            "the period).",
            labels=[*base, conventions.WINDOW_LABEL],
        )
        mode = GaugeMetricFamily(
            conventions.SLO_MODE_CONSUMED,
            "Share of the SLO's error budget spent by one failure mode in the period.",
            labels=[*base, *conventions.MODE_LABELS],
        )
        unattributed = GaugeMetricFamily(
            conventions.SLO_UNATTRIBUTED_CONSUMED,
            "Share of the SLO's error budget spent by causes no failure mode names.",
            labels=base,
        )
        state = GaugeMetricFamily(
            conventions.SLO_STATUS,
            "1 for the SLO's current status (ok, no-data, stale, error).",
            labels=[*base, conventions.STATUS_LABEL],
        )
        policy = GaugeMetricFamily(
            conventions.SLO_POLICY_STATE,
            "1 for the SLO's budget policy state (healthy, watch, at-risk, exhausted).",
            labels=[*base, conventions.POLICY_LABEL],
        )
        for text in snapshots.values():
            report = json.loads(text)
            labels = [report["service"], report["slo"]]
            remaining.add_metric(labels, report["budget"]["remaining"])
            consumed.add_metric(labels, report["budget"]["consumed"])
            objective.add_metric(labels, report["objective"] / 100)
            if report["sli"] is not None:
                sli.add_metric(labels, report["sli"])
            for window, value in report["burn_rates"].items():
                if value is not None:
                    burn.add_metric([*labels, window], value)
            for row in report["attribution"]:
                mode.add_metric(
                    [*labels, row["failure_mode"], row["design_choice"], row["dependency"] or ""],
                    row["consumed"],
                )
            unattributed.add_metric(labels, report["unattributed"]["consumed"])
            for status in conventions.Status:
                state.add_metric([*labels, status.value], float(report["status"] == status))
            for policy_state in conventions.PolicyState:
                current = report["policy"] == policy_state
                policy.add_metric([*labels, policy_state.value], float(current))
        yield from (remaining, consumed, sli, objective, burn, mode, unattributed, state, policy)


def _group_gauges(counts: dict[str, tuple[int, int]]) -> Iterator[Metric]:
    """Grouped SLOs' groups and overflow; nothing at all without a grouped SLO."""
    if not counts:
        return
    base = list(conventions.SLO_LABELS)
    ledgers = GaugeMetricFamily(
        conventions.SLO_GROUPS,
        "Groups of a grouped SLO with a ledger of their own (not aged out).",
        labels=base,
    )
    overflow = GaugeMetricFamily(
        conventions.SLO_GROUPS_OVERFLOW,
        "Groups of a grouped SLO beyond its max_groups (or the global cap), counted in its "
        "other group.",
        labels=base,
    )
    for key, (groups, beyond) in sorted(counts.items()):
        labels = list(split_slo_key(key))
        ledgers.add_metric(labels, groups)
        overflow.add_metric(labels, beyond)
    yield from (ledgers, overflow)


def _total_gauges(total: tuple[int, int | None] | None) -> Iterator[Metric]:
    """Groups over every grouped SLO, and the global cap on them; nothing without groups."""
    if total is None:
        return
    count, cap = total
    yield GaugeMetricFamily(
        conventions.GROUPS_TOTAL,
        "Groups with a ledger over every grouped SLO (other groups not counted).",
        value=count,
    )
    if cap is not None:
        yield GaugeMetricFamily(
            conventions.GROUPS_MAX_TOTAL,
            "The global cap on groups (FAULTLINE_MAX_GROUPS_TOTAL): new groups beyond it are "
            "counted in their SLO's other group.",
            value=cap,
        )
