"""Budget incidents: contiguous burn episodes that spent a large share of the budget.

Slices are grouped into buckets (default 5 minutes) so one good minute does not split an episode;
a bucket burns when its burn rate exceeds the rule's threshold; burning buckets separated by at
most `merge_gap` form one episode; an episode is an incident when it spent at least
`min_consumed` of the period's budget. Each incident carries its own attribution: the evidence a
postmortem needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.slo.alert_spec import IncidentRule
from app.slo.budget import consumed_by
from app.slo.ledger import SliceRecord, WindowTotals
from app.slo.windows import align_up


@dataclass(frozen=True)
class Incident:
    start: int  # start of the first burning bucket
    end: int  # end of the last burning bucket
    consumed: float  # share of the period's budget spent inside the episode
    bad: float
    credited: dict[str, float] = field(default_factory=dict)
    unattributed: float = 0.0

    @property
    def top_failure_mode(self) -> str | None:
        best = max(self.credited.items(), key=lambda item: item[1], default=None)
        if best is None or best[1] <= 0 or best[1] < self.unattributed:
            return None
        return best[0]


def _buckets(records: Iterable[SliceRecord], bucket: int) -> list[tuple[int, WindowTotals]]:
    """(bucket end, totals) for every bucket with at least one slice, oldest first."""
    grouped: dict[int, list[SliceRecord]] = {}
    for record in records:
        grouped.setdefault(align_up(record.t, bucket), []).append(record)
    return [(end, WindowTotals.of(grouped[end])) for end in sorted(grouped)]


def detect_incidents(
    records: Sequence[SliceRecord],
    *,
    period_totals: WindowTotals,
    budget: float,
    rule: IncidentRule,
) -> list[Incident]:
    """Incidents among `records` (oldest first), consumed measured against `period_totals`."""
    buckets = _buckets(records, rule.bucket)
    spans: list[tuple[int, int]] = []  # (first, last) bucket ends of each burning episode
    for end, totals in buckets:
        if totals.total <= 0 or (totals.bad / totals.total) / budget <= rule.burn_rate_above:
            continue
        if spans and end - rule.bucket - spans[-1][1] <= rule.merge_gap:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((end, end))

    incidents = []
    for first, last in spans:
        # Everything inside the episode's span counts, including quieter buckets it merged over.
        totals = WindowTotals()
        for end, bucket_totals in buckets:
            if first <= end <= last:
                totals = totals + bucket_totals
        consumed = consumed_by(totals.bad, period_totals, budget)
        if consumed >= rule.min_consumed:
            incidents.append(
                Incident(
                    start=first - rule.bucket,
                    end=last,
                    consumed=consumed,
                    bad=totals.bad,
                    credited=dict(totals.credited),
                    unattributed=totals.unattributed,
                )
            )
    return incidents
