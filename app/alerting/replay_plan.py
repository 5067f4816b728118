"""Where replay needs slices, and where five-minute rollups say enough.

Most of a month is quiet: no alert rule can hold anywhere in a five-minute bucket when even the
most generous reading of its windows stays under the factor. For a slice end `t` in the bucket
ending `e`, the window `(t - L, t]` holds at most the buckets ending in `(e - L - 300, e]` and
at least those ending in `(e - L, e - 300]`, so its burn is at most `bad(outer) / total(inner)`.
Only buckets where that bound crosses a factor (and the buckets after them, up to one where
every slice counted, where a firing alert resolves) are judged slice by slice; their windows'
far edges are read slice by slice too, so every window sum there stays exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.alerting.conditions import AlertRule, RuleKind
from app.slo.burn_alerts import burn_rate_factor
from app.slo.definitions import SLODefinition
from app.slo.series import Flags, Floats, Ints, SliceSeries
from app.slo.windows import Window, align_up, period_seconds

BUCKET = 300
SLACK = 1e-9  # the bound and the exact sum are added in different orders


def plannable(slice_seconds: int, lengths: Sequence[int], incident_bucket: int) -> bool:
    """Whether rollup buckets line up with the slices, the rule windows and incident buckets."""
    return (
        BUCKET % slice_seconds == 0
        and all(length % BUCKET == 0 for length in lengths)
        and incident_bucket % BUCKET == 0
    )


def windows_read(rule: AlertRule) -> tuple[int, ...]:
    """The windows the rule's condition sums ("no data" reads only its span)."""
    if rule.kind is RuleKind.NO_DATA:
        return (rule.long_window,)
    return (rule.long_window, rule.short_window)


def bucket_ends(window: Window) -> Ints:
    return np.arange(align_up(window.start + 1, BUCKET), align_up(window.end, BUCKET) + 1, BUCKET)


def _upper_burn(buckets: SliceSeries, ends: Ints, seconds: int, budget: float) -> Floats:
    _, outer_bad = buckets.amounts(ends, seconds + BUCKET)
    inner_total, _ = buckets.amounts(ends - BUCKET, seconds - BUCKET)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(
            inner_total > 0, outer_bad / inner_total, np.where(outer_bad > 0, np.inf, 0.0)
        )
    return np.asarray(bound / budget, dtype=np.float64)


def may_hold(definition: SLODefinition, rule: AlertRule, buckets: SliceSeries, ends: Ints) -> Flags:
    """Per bucket end: whether the rule may hold at some slice end inside the bucket."""
    spec = definition.spec
    if rule.kind is RuleKind.NO_DATA:
        expected = max(1, rule.long_window // spec.slice_seconds)
        inner = buckets.sums(ends - BUCKET, rule.long_window - BUCKET)
        outer = buckets.sums(ends, rule.long_window + BUCKET)
        return np.asarray((inner.slices == 0) & (outer.no_data >= expected), dtype=np.bool_)
    factor = burn_rate_factor(rule.budget_fraction, period_seconds(spec.period), rule.long_window)
    threshold = factor * (1 - SLACK)
    long = _upper_burn(buckets, ends, rule.long_window, spec.budget)
    short = _upper_burn(buckets, ends, rule.short_window, spec.budget)
    return np.asarray((long > threshold) & (short > threshold), dtype=np.bool_)


def detailed_buckets(
    window: Window,
    sides: Sequence[tuple[SLODefinition, Sequence[AlertRule], SliceSeries]],
) -> tuple[Ints, Ints]:
    """(buckets to judge slice by slice, buckets to read slice by slice) for `window`."""
    ends = bucket_ends(window)
    if len(ends) == 0:
        return ends, ends
    maybe = np.zeros(len(ends), dtype=np.bool_)
    lengths: set[int] = set()
    full = np.zeros(len(ends), dtype=np.bool_)
    for definition, rules, buckets in sides:
        for rule in rules:
            maybe |= may_hold(definition, rule, buckets, ends)
            lengths.update(windows_read(rule))
        per_bucket = BUCKET // definition.spec.slice_seconds
        full |= buckets.sums(ends, BUCKET).slices == per_bucket
    # A partly covered first or last bucket is always read: its rollup holds slices outside.
    maybe[0] = maybe[-1] = True
    judged = _with_resolutions(maybe, full)
    chosen = ends[judged]
    reads = {int(end) for end in chosen}
    for length in lengths:
        reads.update(int(end) for end in chosen - length)
    return chosen, np.asarray(sorted(reads), dtype=np.int64)


def _with_resolutions(maybe: Flags, full: Flags) -> Flags:
    """`maybe`, each run extended by the buckets after it up to the first fully counted one:
    an alert still firing at the end of a run resolves at that bucket's first slice end."""
    judged = maybe.copy()
    index, count = 0, len(maybe)
    while index < count:
        if not maybe[index]:
            index += 1
            continue
        while index < count and maybe[index]:
            index += 1
        while index < count and not maybe[index]:
            judged[index] = True
            if full[index]:
                break
            index += 1
    return judged


def spans_of(reads: Ints) -> list[tuple[int, int]]:
    """Buckets (by end) as merged `(lo, hi]` spans of slice ends."""
    spans: list[tuple[int, int]] = []
    for end in reads.tolist():
        if spans and spans[-1][1] == end - BUCKET:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((end - BUCKET, end))
    return spans
