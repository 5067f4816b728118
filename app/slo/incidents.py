"""Budget incidents: contiguous burn episodes that spent a large share of the budget.

Slices are summed into buckets (default 5 minutes) so one good minute does not split an episode;
a bucket burns when its burn rate exceeds the rule's threshold; burning buckets separated by at
most `merge_gap` form one episode; an episode is an incident when it spent at least
`min_consumed` of the period's budget. Each incident carries its own attribution: the evidence a
postmortem needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from app.slo.alert_spec import IncidentRule
from app.slo.budget import consumed_by
from app.slo.ledger import SliceRecord, WindowTotals
from app.slo.windows import Window, align_up

# (bucket end, totals of the bucket's slices); the bucket covers (end - bucket, end].
Bucket = tuple[int, WindowTotals]


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
        """The mode that spent most in the incident, unless nobody-named causes spent more."""
        best = max(self.credited.items(), key=lambda item: item[1], default=None)
        if best is None or best[1] <= 0 or best[1] < self.unattributed:
            return None
        return best[0]


def buckets_of(records: Iterable[SliceRecord], bucket: int) -> list[Bucket]:
    """Group slices into buckets; only buckets with at least one slice appear, oldest first."""
    grouped: dict[int, list[SliceRecord]] = {}
    for record in records:
        grouped.setdefault(align_up(record.t, bucket), []).append(record)
    return [(end, WindowTotals.of(grouped[end])) for end in sorted(grouped)]


def burning(totals: WindowTotals, budget: float, rule: IncidentRule) -> bool:
    return totals.total > 0 and (totals.bad / totals.total) / budget > rule.burn_rate_above


def burning_spans(buckets: Sequence[Bucket], *, budget: float, rule: IncidentRule) -> list[Window]:
    """Spans of burning buckets, merged over lulls of at most `merge_gap`.

    `buckets` may hold every bucket or only the burning ones: quieter buckets only matter by
    their absence, and a span covers everything between its first and last burning bucket.
    """
    spans: list[tuple[int, int]] = []  # (first, last) bucket ends
    for end, totals in buckets:
        if not burning(totals, budget, rule):
            continue
        if spans and end - rule.bucket - spans[-1][1] <= rule.merge_gap:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((end, end))
    return [Window(first - rule.bucket, last) for first, last in spans]


HOUR = 3600


def incident_reach(
    bad_hours: Sequence[tuple[int, float]],
    window: Window,
    *,
    rule: IncidentRule,
    can_spend: Callable[[float], bool],
) -> list[Window]:
    """The parts of `window` where an incident could lie, from the hourly bad totals alone.

    `bad_hours`: (hour end, bad) of every hour around `window` whose bad is above zero, oldest
    first. A burning bucket spends, so it lies in such an hour (bad is never negative); when
    buckets divide the hour, the burning buckets of one span are at most `merge_gap` apart, so
    a span lies within a run of such hours whose gaps of quiet hours are `merge_gap` or less,
    and it spends at most the run's bad. Runs that could not spend enough (`can_spend` of their
    bad is false) are left out: the spans found in the rest are exactly those a scan of the
    whole window finds, less the ones too small to be incidents.
    """
    if HOUR % rule.bucket:
        return [window]
    runs: list[tuple[int, int, float]] = []  # (first hour end, last hour end, bad)
    for end, bad in bad_hours:
        if runs and end - HOUR - runs[-1][1] <= rule.merge_gap:
            first, _, spent = runs[-1]
            runs[-1] = (first, end, spent + bad)
        else:
            runs.append((end, end, bad))
    return [
        Window(max(window.start, first - HOUR), min(window.end, last))
        for first, last, bad in runs
        if can_spend(bad) and first - HOUR < window.end and last > window.start
    ]


def find_episodes(
    buckets: Sequence[Bucket], *, period_totals: WindowTotals, budget: float, rule: IncidentRule
) -> list[tuple[Window, WindowTotals]]:
    """Spans of burning buckets (merged over short lulls) that spent at least `min_consumed`.

    Everything inside a span counts, including the quieter buckets it merged over.
    """
    episodes = []
    for span in burning_spans(buckets, budget=budget, rule=rule):
        totals = WindowTotals()
        for end, bucket_totals in buckets:
            if span.contains(end):
                totals = totals + bucket_totals
        if consumed_by(totals.bad, period_totals, budget) >= rule.min_consumed:
            episodes.append((span, totals))
    return episodes


def make_incident(
    span: Window, totals: WindowTotals, *, period_totals: WindowTotals, budget: float
) -> Incident:
    """An incident over `span` whose `totals` include the per-mode credit."""
    return Incident(
        start=span.start,
        end=span.end,
        consumed=consumed_by(totals.bad, period_totals, budget),
        bad=totals.bad,
        credited=dict(totals.credited),
        unattributed=totals.unattributed,
    )


def detect_incidents(
    records: Sequence[SliceRecord],
    *,
    period_totals: WindowTotals,
    budget: float,
    rule: IncidentRule,
) -> list[Incident]:
    """Incidents among in-memory `records` (oldest first), consumed against `period_totals`."""
    episodes = find_episodes(
        buckets_of(records, rule.bucket), period_totals=period_totals, budget=budget, rule=rule
    )
    return [
        make_incident(span, totals, period_totals=period_totals, budget=budget)
        for span, totals in episodes
    ]
