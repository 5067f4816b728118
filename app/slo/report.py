"""The SLO report: every figure the service shows, built from ledger totals in one place.

`faultline report --json`, the API and the dashboards all show this shape, so a number means the
same everywhere. Field meanings are a public contract (README, "Report format").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from app.slo.alert_spec import BudgetPolicy
from app.slo.budget import (
    budget_consumed,
    budget_remaining,
    burn_rate,
    consumed_by,
    share_of_bad,
    sli_value,
    time_to_exhaustion,
)
from app.slo.conventions import PolicyState, Status
from app.slo.definitions import SLODefinition
from app.slo.incidents import Incident
from app.slo.ledger import WindowTotals
from app.slo.no_data import NoDataRun, describe
from app.slo.policy_state import policy_state
from app.slo.windows import STANDARD_WINDOWS, Window, period_remaining_seconds, period_seconds


def rfc3339(epoch: int | float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class ReportModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class WindowOut(ReportModel):
    start: str
    end: str


class EventsOut(ReportModel):
    total: float
    bad: float


class BudgetOut(ReportModel):
    consumed: float
    remaining: float
    time_to_exhaustion_seconds: float | None = None


class AttributionOut(ReportModel):
    failure_mode: str
    design_choice: str
    dependency: str | None
    consumed: float
    share: float
    bad: float


class UnattributedOut(ReportModel):
    consumed: float
    share: float
    bad: float


class IncidentOut(ReportModel):
    start: str
    end: str
    consumed: float
    top_failure_mode: str | None
    attribution: list[AttributionOut] = []
    unattributed: UnattributedOut | None = None


class SamplingOut(ReportModel):
    """The slice the SLO is evaluated on and why: its series' sample interval and its origin
    (`yaml`, `source`, `data` or `unknown`). `slice_seconds` exceeds the configured slice when
    the series are sampled less often than the configured slice."""

    slice_seconds: int
    configured_slice_seconds: int
    sample_interval_seconds: int | None
    interval_origin: str


class NoDataOut(ReportModel):
    """Why the SLO has (or lately had) no data: the latest stretch of no-data slices with one
    reason (`no-series`, `too-sparse`, `out-of-range`, `stale-gauge`, `not-finite`,
    `overflow`; `unknown` for slices stored before reasons were kept)."""

    reason: str
    signal: str | None
    message: str
    since: str  # the first slice end of the stretch
    last: str  # its last slice end


class SLOReport(ReportModel):
    service: str
    slo: str
    key: str
    objective: float
    period: str
    budgeting: str
    labels: dict[str, str]
    window: WindowOut
    status: Status
    error: str | None
    evaluated_through: str | None
    sli: float | None
    events: EventsOut
    no_data_slices: int
    excluded_slices: int = 0  # with data, inside budget corrections: kept, spend nothing
    budget: BudgetOut
    burn_rates: dict[str, float | None]
    attribution: list[AttributionOut]
    unattributed: UnattributedOut
    policy: PolicyState
    incidents: list[IncidentOut]
    sampling: SamplingOut | None = None
    no_data: NoDataOut | None = (
        None  # when the SLO is no-data, or had no-data slices in the last hour
    )


class Report(ReportModel):
    generated_at: str
    slos: list[SLOReport]


@dataclass(frozen=True)
class ReportInput:
    """Everything one SLO's report is computed from; all figures come from these totals."""

    definition: SLODefinition
    at: int
    period_window: Window
    period_totals: WindowTotals
    burn_windows: Mapping[str, WindowTotals]
    incidents: list[Incident] = field(default_factory=list)
    status: Status = Status.OK
    error: str | None = None
    evaluated_through: int | None = None
    no_data: NoDataRun | None = None


def _attribution(
    definition: SLODefinition, totals: WindowTotals, denominator: WindowTotals, budget: float
) -> list[AttributionOut]:
    rows = [
        AttributionOut(
            failure_mode=mode.name,
            design_choice=mode.design_choice,
            dependency=mode.dependency,
            consumed=consumed_by(totals.credited.get(mode.name, 0.0), denominator, budget),
            share=share_of_bad(totals.credited.get(mode.name, 0.0), totals),
            bad=totals.credited.get(mode.name, 0.0),
        )
        for mode in definition.spec.failure_modes
    ]
    return sorted(rows, key=lambda row: (-row.bad, row.failure_mode))


def _unattributed(
    totals: WindowTotals, denominator: WindowTotals, budget: float
) -> UnattributedOut:
    return UnattributedOut(
        consumed=consumed_by(totals.unattributed, denominator, budget),
        share=share_of_bad(totals.unattributed, totals),
        bad=totals.unattributed,
    )


def build_report(source: ReportInput, budget_policy: BudgetPolicy) -> SLOReport:
    definition = source.definition
    spec = definition.spec
    budget = spec.budget
    totals = source.period_totals
    consumed = budget_consumed(totals, budget)
    remaining = budget_remaining(consumed)
    rates = {label: burn_rate(source.burn_windows[label], budget) for label, _ in STANDARD_WINDOWS}
    by_seconds = {seconds: rates[label] for label, seconds in STANDARD_WINDOWS}
    length = period_seconds(spec.period, source.at)
    exhaustion = time_to_exhaustion(remaining, rates["1h"], length)
    reset = period_remaining_seconds(spec.period, source.at)
    if exhaustion is not None and reset is not None and exhaustion > reset:
        exhaustion = None  # a calendar budget resets before it runs out
    incidents = [
        IncidentOut(
            start=rfc3339(incident.start),
            end=rfc3339(incident.end),
            consumed=incident.consumed,
            top_failure_mode=incident.top_failure_mode,
            attribution=_attribution(definition, _incident_totals(incident), totals, budget),
            unattributed=_unattributed(_incident_totals(incident), totals, budget),
        )
        for incident in source.incidents
    ]
    return SLOReport(
        service=definition.service,
        slo=spec.name,
        key=definition.key,
        objective=spec.objective,
        period=spec.period.describe(),
        budgeting=spec.effective_budgeting.value,
        labels=definition.labels,
        window=WindowOut(
            start=rfc3339(source.period_window.start), end=rfc3339(source.period_window.end)
        ),
        status=source.status,
        error=source.error,
        evaluated_through=(
            rfc3339(source.evaluated_through) if source.evaluated_through is not None else None
        ),
        sli=sli_value(totals),
        events=EventsOut(total=totals.total, bad=totals.bad),
        no_data_slices=totals.no_data_slices,
        excluded_slices=totals.excluded_slices,
        budget=BudgetOut(
            consumed=consumed, remaining=remaining, time_to_exhaustion_seconds=exhaustion
        ),
        burn_rates=rates,
        attribution=_attribution(definition, totals, totals, budget),
        unattributed=_unattributed(totals, totals, budget),
        policy=policy_state(remaining, by_seconds, budget_policy),
        incidents=incidents,
        sampling=_sampling(definition),
        no_data=_no_data(source.no_data, definition),
    )


def _no_data(run: NoDataRun | None, definition: SLODefinition) -> NoDataOut | None:
    if run is None:
        return None
    known = run.no_data
    return NoDataOut(
        reason="unknown" if known is None else known.reason.value,
        signal=None if known is None else known.signal,
        message=describe(known, definition.spec.slice_seconds, definition.sampling),
        since=rfc3339(run.since),
        last=rfc3339(run.last),
    )


def _sampling(definition: SLODefinition) -> SamplingOut | None:
    sampling = definition.sampling
    if sampling is None:
        return None
    return SamplingOut(
        slice_seconds=sampling.effective_slice,
        configured_slice_seconds=sampling.configured_slice,
        sample_interval_seconds=sampling.interval,
        interval_origin=sampling.origin.value,
    )


def _incident_totals(incident: Incident) -> WindowTotals:
    return WindowTotals(
        total=0.0,
        bad=incident.bad,
        unattributed=incident.unattributed,
        credited=incident.credited,
        slices=1,
    )
