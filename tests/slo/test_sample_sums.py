"""Summed counts from raw samples: the array path against a sample-by-sample reading of PromQL.

The reference below reads the rewritten query (`counts.sample_increase`) as PromQL evaluates it,
one slice end and one series at a time: the samples each range selector holds, `last_over_time`,
`min_over_time`/`max_over_time` (NaN skipped unless every sample is NaN), `resets()` (a sample
below the one before it), then the binary operations and the `sum [by]`. The array path must give
the same series, slice ends and values on random series: restarts, resets inside slices, scrape
gaps shorter and longer than the hour looked back, samples on slice boundaries, series that
appear and disappear, NaN samples, and both range bounds (closed at the start: Prometheus 2;
open: Prometheus 3). Whether the server agrees is tests/sources/test_sample_counts.py's part.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.slo.counts import LOOKBACK_SECONDS, SummedCount, rewrite, summed_count
from app.slo.sample_sums import AmbiguousSeriesError, RawSeries, summed_counts

STEP = 60
FIRST = 1_800_003_600  # slice ends FIRST, FIRST + 60, …; samples from an hour before
SLICES = 90


EVENTS = ("up", "same", "restart", "gap", "long gap", "nan")


@st.composite
def raw_series(draw: st.DrawFn, index: int) -> RawSeries:
    """A counter's samples (ms) over the slices and the hour before, with restarts, resets,
    gaps shorter and longer than the hour looked back, and NaN; it may start late and stop
    early. The events come from a seeded generator (a series has hundreds of samples)."""
    interval = draw(st.sampled_from([1000, 15_000, 30_000, 60_000, 59_999, 60_001]))
    phase = draw(st.sampled_from([0, 1, 7_000, 59_999, 41_000]))
    # Mostly rising; gaps rarer (each one costs many slices their data).
    most = (30, 8, 4, 2, 1, 2)
    weights = np.array([draw(st.integers(0, top)) for top in most], dtype=float)
    weights[0] += 10
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    stop = FIRST * 1000 + draw(st.one_of(st.just(SLICES), st.integers(0, SLICES))) * 60_000
    late = draw(st.sampled_from([0, 0, 30, 61, 62, 80]))  # minutes after the earliest start
    t = (FIRST - LOOKBACK_SECONDS - 120) * 1000 + late * 60_000 + phase
    times, values, value = [], [], float(rng.integers(0, 100))
    while t <= stop:
        event = EVENTS[rng.choice(len(EVENTS), p=weights / weights.sum())]
        if event == "restart":
            value = float(rng.choice([0.0, 1.0, value // 2]))
        elif event == "gap":
            t += int(rng.integers(1, 40)) * 60_000
        elif event == "long gap":
            t += int(rng.choice([3600_000, 3600_000 - 1, 3600_001, 3660_000, 7200_000]))
        elif event == "up":
            value += float(rng.integers(1, 50))
        times.append(t)
        values.append(math.nan if event == "nan" else value)
        t += interval
    labels = {"__name__": "x_total", "code": str(200 + index % 3), "pod": f"p{index}"}
    if draw(st.booleans()):
        del labels["code"]  # a series without a grouped label: its group has no such label
    return RawSeries(labels, np.array(times, dtype=np.int64), np.array(values))


def reference(
    series: list[RawSeries], counted: SummedCount, first: int, step: int, slices: int
) -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
    window, lookback = counted.window * 1000, LOOKBACK_SECONDS * 1000
    found: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
    for raw in sorted(series, key=lambda s: sorted(s.labels.items())):
        labels = {k: v for k, v in raw.labels.items() if k != "__name__"}
        by = counted.by
        key = () if by is None else tuple(sorted((n, labels[n]) for n in by if labels.get(n)))
        samples = list(zip(raw.times.tolist(), raw.values.tolist(), strict=True))
        for index in range(slices):
            end = (first + index * step) * 1000
            inside = [v for t, v in samples if end - window < t <= end]
            if counted.closed_ranges:
                before = [v for t, v in samples if end - window - lookback <= t <= end - window]
            else:
                before = [v for t, v in samples if end - window - lookback < t <= end - window]
            if not inside or not before:
                continue
            fresh, previous = inside[-1], before[-1]
            lowest = highest = inside[0]
            resets = 0
            for position, v in enumerate(inside):
                if v < lowest or math.isnan(lowest):
                    lowest = v
                if v > highest or math.isnan(highest):
                    highest = v
                if position and v < inside[position - 1]:
                    resets += 1
            if previous <= lowest and resets == 0:
                count = fresh - previous
            else:
                rise = highest - previous
                count = fresh + (rise if math.isnan(rise) else max(rise, 0.0)) * float(resets > 0)
            if counted.per_second:
                count /= counted.window
            group = found.setdefault(key, {})
            t = first + index * step
            group[t] = group[t] + count if t in group else count
    return {key: group for key, group in found.items() if group}


def as_dict(answer: list) -> dict[tuple[tuple[str, str], ...], dict[int, float]]:
    return {
        tuple(sorted(s.labels.items())): dict(zip(s.times.tolist(), s.values.tolist(), strict=True))
        for s in answer
    }


def same(left: dict, right: dict) -> bool:
    if left.keys() != right.keys():
        return False
    for key, group in left.items():
        if group.keys() != right[key].keys():
            return False
        for t, value in group.items():
            other = right[key][t]
            if not (value == other or (math.isnan(value) and math.isnan(other))):
                return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    count=st.integers(0, 4),
    closed=st.booleans(),
    by=st.sampled_from([None, ("code",), ("code", "pod"), ("absent",)]),
    per_second=st.booleans(),
)
def test_array_counts_equal_promql_read_sample_by_sample(
    data: st.DataObject, count: int, closed: bool, by: tuple[str, ...] | None, per_second: bool
) -> None:
    series = [data.draw(raw_series(index)) for index in range(count)]
    counted = SummedCount("x_total", STEP, closed, by, per_second)
    answer = summed_counts(series, counted, FIRST, STEP, SLICES)
    assert [s.labels for s in answer] == sorted(
        (s.labels for s in answer), key=lambda d: sorted(d.items())
    )
    assert same(as_dict(answer), reference(series, counted, FIRST, STEP, SLICES))


def test_series_apart_only_by_their_name_are_left_to_the_server() -> None:
    one = RawSeries({"__name__": "a_total", "x": "1"}, np.array([0]), np.array([1.0]))
    other = RawSeries({"__name__": "b_total", "x": "1"}, np.array([0]), np.array([1.0]))
    with pytest.raises(AmbiguousSeriesError):
        summed_counts([one, other], SummedCount("{x='1'}", 60, True, None, False), 60, 60, 2)


@pytest.mark.parametrize(
    ("template", "by", "per_second"),
    [
        ("sum(increase(x_total[{{window}}]))", None, False),
        ('sum(rate(x_total{a="[1]", b=~"x|y"}[{{window}}]))', None, True),
        ("sum by (code, pod) (rate(x_total[{{window}}]))", ("code", "pod"), True),
        ("sum(increase(x_total[ {{window}} ])) by (code)", ("code",), False),
        ("  sum by(code)(increase(x_total[{{window}}]))\n", ("code",), False),
    ],
)
@pytest.mark.parametrize("closed", [True, False])
def test_a_sum_of_one_count_is_recognised_in_the_rendered_query(
    template: str, by: tuple[str, ...] | None, per_second: bool, closed: bool
) -> None:
    query = rewrite(template, 60, closed_ranges=closed).query
    found = summed_count(query)
    assert found is not None
    assert (found.window, found.closed_ranges, found.by, found.per_second) == (
        60,
        closed,
        by,
        per_second,
    )
    assert found.selector.startswith("x_total")


@pytest.mark.parametrize(
    "template",
    [
        "sum(rate(a_total[{{window}}])) / sum(rate(b_total[{{window}}]))",
        "sum(rate(a_total[{{window}}])) + sum(rate(b_total[{{window}}]))",
        "sum without (pod) (rate(a_total[{{window}}]))",
        "max(rate(a_total[{{window}}]))",
        "rate(a_total[{{window}}])",
        "sum(rate(a_total[{{window}}]) * 2)",
        "sum(rate(a_total[5m]))",
        "sum(rate(a_total[{{window}}] offset 1m))",
        "sum(rate(a_total[{{window}}])) by (code) > 0",
        'sum by ("a.b") (rate(a_total[{{window}}]))',
        "sum(rate(a_total[{{window}}])) # note",
    ],
)
def test_anything_else_is_asked_as_the_formula(template: str) -> None:
    assert summed_count(rewrite(template, 60).query) is None
