"""One side of a replay (what happened, or what would have): its figures and their JSON form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.alerting.replay import ReplayedTransition, TotalsReader
from app.alerting.transitions import AlertState
from app.slo.alert_spec import IncidentRule
from app.slo.backtest import Firing, TierScore, incident_of
from app.slo.budget import consumed_by
from app.slo.conventions import PolicyState
from app.slo.definitions import SLODefinition
from app.slo.incidents import Incident, burning, burning_spans, make_incident
from app.slo.ledger import WindowTotals
from app.slo.replay_models import (
    AlertOut,
    BudgetOut,
    DetectionOut,
    DifferenceOut,
    IncidentOut,
    OutcomeOut,
    ScoreOut,
)
from app.slo.report import rfc3339
from app.slo.series import SliceSeries
from app.slo.windows import Window, period_window


@dataclass(frozen=True)
class Outcome:
    definition: SLODefinition
    consumed: float  # of the period's budget, at the end of the range
    policy: PolicyState
    incidents: list[Incident]
    transitions: list[ReplayedTransition]
    firings: list[Firing]
    scores: list[TierScore]

    @property
    def overall(self) -> TierScore:
        return self.scores[-1]  # "any"


def find_incidents(
    definition: SLODefinition,
    rule: IncidentRule,
    series: SliceSeries,
    window: Window,
    reader: TotalsReader,
) -> list[Incident]:
    """Budget incidents with buckets ending in the range, as the report finds them: burning
    buckets from the series, each span summed exactly by `reader`, kept when it spent at least
    `min_consumed` of the period's budget at the end of the range."""
    budget = definition.spec.budget
    inside = (series.t > window.start) & (series.t <= window.end)
    if not inside.any():
        return []
    bucket_ends = -(-series.t[inside] // rule.bucket) * rule.bucket
    ends, first = np.unique(bucket_ends, return_index=True)
    totals = np.add.reduceat(series.total[inside], first)
    bads = np.add.reduceat(series.bad[inside], first)
    counted = np.add.reduceat(series.counted[inside].astype(np.int64), first)
    with np.errstate(divide="ignore", invalid="ignore"):
        hot = (totals > 0) & ((bads / totals) / budget > rule.burn_rate_above)
    buckets = []
    for index in np.flatnonzero(hot):  # `burning` decides; the vector only skips cold buckets
        found = WindowTotals(
            total=float(totals[index]), bad=float(bads[index]), slices=int(counted[index])
        )
        if burning(found, budget, rule):
            buckets.append((int(ends[index]), found))
    spans = burning_spans(buckets, budget=budget, rule=rule)
    if not spans:
        return []
    period, *exact = reader([period_window(definition.spec.period, window.end), *spans])
    return [
        make_incident(span, totals, period_totals=period, budget=budget)
        for span, totals in zip(spans, exact, strict=True)
        if consumed_by(totals.bad, period, budget) >= rule.min_consumed
    ]


def _alerts(outcome: Outcome) -> list[AlertOut]:
    alerts = []
    for moved in outcome.transitions:
        verdict = moved.facts.verdict
        owner = None
        if moved.state is AlertState.FIRING and verdict.factor is not None:
            firing = Firing(moved.tier, moved.severity, verdict.rule.short_window, moved.t, None)
            owner = incident_of(firing, outcome.incidents)
        alerts.append(
            AlertOut(
                t=moved.t,
                at=rfc3339(moved.t),
                tier=moved.tier,
                severity=moved.severity,
                state=moved.state.value,
                summary=moved.summary,
                incident=owner,
                long_burn=verdict.long_burn,
                short_burn=verdict.short_burn,
                factor=verdict.factor,
            )
        )
    return alerts


def _score(score: TierScore) -> ScoreOut:
    return ScoreOut(
        tier=score.tier,
        firings=score.firings,
        false_positives=score.false_positives,
        incidents=score.incidents,
        detected=score.detected,
        missed=score.missed,
        precision=score.precision,
        recall=score.recall,
        median_detection_seconds=score.median_detection_seconds,
        median_reset_seconds=score.median_reset_seconds,
    )


def outcome_out(outcome: Outcome) -> OutcomeOut:
    spec = outcome.definition.spec
    incidents = []
    for index, incident in enumerate(outcome.incidents):
        detections = [
            DetectionOut(
                tier=score.tier,
                detection_seconds=d.detection_seconds,
                reset_seconds=d.reset_seconds,
            )
            for score in outcome.scores[:-1]
            for d in score.detections
            if d.incident == index
        ]
        incidents.append(
            IncidentOut(
                start=rfc3339(incident.start),
                end=rfc3339(incident.end),
                start_t=incident.start,
                end_t=incident.end,
                consumed=incident.consumed,
                top_failure_mode=incident.top_failure_mode,
                detected=bool(detections),
                detections=detections,
            )
        )
    return OutcomeOut(
        objective=spec.objective,
        period=spec.period.describe(),
        budget=BudgetOut(consumed=outcome.consumed, remaining=1.0 - outcome.consumed),
        policy=outcome.policy.value,
        incidents=incidents,
        alerts=_alerts(outcome),
        scores=[_score(score) for score in outcome.scores],
    )


def _pages(firings: Sequence[Firing]) -> int:
    return sum(f.severity == "page" for f in firings)


def difference(actual: Outcome, changed: Outcome) -> DifferenceOut:
    return DifferenceOut(
        budget_consumed=changed.consumed - actual.consumed,
        incidents=len(changed.incidents) - len(actual.incidents),
        firings=len(changed.firings) - len(actual.firings),
        pages=_pages(changed.firings) - _pages(actual.firings),
        false_positives=changed.overall.false_positives - actual.overall.false_positives,
        missed=changed.overall.missed - actual.overall.missed,
    )
