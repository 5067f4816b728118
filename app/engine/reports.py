"""Reports from the ledger: window sums from the store, figures from the pure core.

Used by `faultline report`, the API and the status snapshots, so every surface shows the same
numbers for the same instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from app.slo.budget import consumed_by
from app.slo.conventions import Status
from app.slo.definitions import DefinitionSet, SLODefinition
from app.slo.incidents import Incident, burning_spans, incident_reach, make_incident
from app.slo.ledger import WindowTotals
from app.slo.no_data import describe
from app.slo.report import ReportInput, SLOReport, build_report, rfc3339
from app.slo.windows import STANDARD_WINDOWS, Window, align_down, period_window, trailing
from app.store import bucket_reads, ledger, rollup_reads
from app.store import no_data as no_data_reads
from app.store.registry import StoredSLO


@dataclass(frozen=True)
class Freshness:
    """How current the ledger must be at `at` for an SLO not to count as stale."""

    stale_after: int = 300
    evaluation_delay: int = 60


def behind(stored: StoredSLO, at: int, freshness: Freshness) -> bool:
    """Whether the SLO's ledger is too far behind at `at` to count as current (stale)."""
    due = align_down(at - freshness.evaluation_delay, stored.slice_seconds)
    return stored.checkpoint is None or due - stored.checkpoint > freshness.stale_after


def slo_status(
    stored: StoredSLO, at: int, freshness: Freshness, recent: WindowTotals
) -> tuple[Status, str | None]:
    """ok / no-data / stale / error, with the message to show."""
    failing_since_success = stored.last_error is not None and (
        stored.last_success_at is None
        or (stored.last_error_at is not None and stored.last_error_at >= stored.last_success_at)
    )
    if failing_since_success and stored.last_error_kind == "query":
        return Status.ERROR, stored.last_error
    if behind(stored, at, freshness):
        through = "never evaluated" if stored.checkpoint is None else "evaluation is behind"
        return Status.STALE, stored.last_error if failing_since_success else through
    if not recent.has_data:
        return Status.NO_DATA, "the SLI returned no series in the last 5 minutes"
    return Status.OK, None


def _incidents(
    connection: Connection,
    stored: StoredSLO,
    definition: SLODefinition,
    window: Window,
    period_totals: WindowTotals,
    definitions: DefinitionSet,
) -> list[Incident]:
    rule = definitions.alerts.incidents
    budget = definition.spec.budget
    # Only burning buckets come back from the database (a 30-day period has thousands of
    # buckets and a handful of incidents), and only from the runs of hours that could spend
    # enough (`incident_reach`); each span is then summed exactly, modes included.
    least = rule.min_consumed * (1 - 1e-9)
    reach = incident_reach(
        rollup_reads.bad_hours(connection, stored.id, window),
        window,
        rule=rule,
        can_spend=lambda bad: consumed_by(bad, period_totals, budget) >= least,
    )
    buckets = [
        (end, WindowTotals(total=total, bad=bad, slices=count))
        for part in reach
        for end, total, bad, count in bucket_reads.bucket_totals(
            connection, stored.id, part, rule.bucket, burning_above=budget * rule.burn_rate_above
        )
    ]
    spans = burning_spans(buckets, budget=budget, rule=rule)
    if rule.bucket % ledger.FIVE == 0:
        # Spans are then whole five-minute buckets, whose rollups hold their exact bad: a span
        # that spent too little (most) is dropped before its exact sums are read. The margin
        # covers summing in another order; the exact sums decide.
        bads = bucket_reads.five_minute_bad(connection, stored.id, spans)
        spans = [
            span
            for span, bad in zip(spans, bads, strict=True)
            if consumed_by(bad, period_totals, budget) >= least
        ]
    exact = ledger.window_totals(connection, stored.id, spans)
    return [
        make_incident(span, totals, period_totals=period_totals, budget=budget)
        for span, totals in zip(spans, exact, strict=True)
        if consumed_by(totals.bad, period_totals, budget) >= rule.min_consumed
    ]


def report_windows(definition: SLODefinition, definitions: DefinitionSet, at: int) -> list[Window]:
    """The windows a report sums, in this order: the period, each standard burn window, and
    the period widened by one incident bucket each side (see `build_slo_report`)."""
    end = align_down(at, definition.spec.slice_seconds)
    window = period_window(definition.spec.period, end)
    bucket = definitions.alerts.incidents.bucket
    reach = Window(window.start - bucket, window.end + bucket)
    return [window, *(trailing(end, seconds) for _, seconds in STANDARD_WINDOWS), reach]


def build_slo_report(
    connection: Connection,
    stored: StoredSLO,
    definition: SLODefinition,
    definitions: DefinitionSet,
    at: int,
    *,
    freshness: Freshness,
    with_incidents: bool = True,
    totals: Sequence[WindowTotals] | None = None,
) -> SLOReport:
    """The report of one SLO with its window ending at `at` (aligned down to a slice end).

    `totals`: the sums of `report_windows`, when the caller read them (for many SLOs at once).
    """
    windows = report_windows(definition, definitions, at)
    if totals is None:
        totals = ledger.window_totals(connection, stored.id, windows)
    window, period_totals = windows[0], totals[0]
    burn_windows = {label: totals[i + 1] for i, (label, _) in enumerate(STANDARD_WINDOWS)}
    status, error = slo_status(stored, at, freshness, burn_windows["5m"])
    no_data = None
    if status is Status.NO_DATA or burn_windows["1h"].no_data_slices:
        # Bounded: the period when the SLO has no data now, else the last hour.
        floor = window.start if status is Status.NO_DATA else window.end - 3600
        no_data = no_data_reads.latest_run(connection, stored.id, floor, window.end)
    if status is Status.NO_DATA and no_data is not None:
        reason = describe(no_data.no_data, definition.spec.slice_seconds, definition.sampling)
        error = f"no data since {rfc3339(no_data.since)}: {reason}"
    # Every incident span lies within a bucket of the period (its buckets end on multiples of
    # the bucket, and it starts one bucket before its first end), and bad counts are never
    # negative: when all the bad in that reach spent less than an incident must, no span can
    # qualify, and none is looked for (most SLOs, most of the time).
    rule = definitions.alerts.incidents
    possible = consumed_by(totals[-1].bad, period_totals, definition.spec.budget) >= (
        rule.min_consumed
    )
    incidents = (
        _incidents(connection, stored, definition, window, period_totals, definitions)
        if with_incidents and possible
        else []
    )
    source = ReportInput(
        definition=definition,
        at=window.end,
        period_window=window,
        period_totals=period_totals,
        burn_windows=burn_windows,
        incidents=incidents,
        status=status,
        error=error,
        evaluated_through=stored.checkpoint,
        no_data=no_data,
    )
    return build_report(source, definitions.alerts.budget_policy)
