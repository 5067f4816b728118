"""Sample intervals and the slice that holds one sample."""

from __future__ import annotations

import pytest

from app.slo.definitions import SLODefinition
from app.slo.sampled import interval_selector, sampling_for, with_sampling
from app.slo.sampling import (
    IntervalOrigin,
    effective_slice,
    interval_from_counts,
    interval_query,
)
from app.slo.spec import SLOSpec


def definition(**changes: object) -> SLODefinition:
    spec = {
        "name": "success",
        "objective": 99.9,
        "sli": {
            "events": {
                "total": 'sum(rate(req_total{job="api"}[{{window}}]))',
                "bad": 'sum(rate(req_total{job="api", code="500"}[{{window}}]))',
            }
        },
    }
    return SLODefinition("api", SLOSpec.model_validate({**spec, **changes}))


@pytest.mark.parametrize(
    ("configured", "interval", "expected"),
    [
        (60, None, 60),
        (60, 15, 60),
        (60, 60, 60),
        (60, 120, 120),
        (60, 90, 120),
        (30, 60, 60),
        (15, 40, 60),  # 45 s would not divide a minute
        (15, 20, 30),
        (300, 60, 300),
    ],
)
def test_the_effective_slice_holds_one_interval_and_is_a_valid_slice(
    configured: int, interval: int | None, expected: int
) -> None:
    assert effective_slice(configured, interval) == expected


def test_the_interval_comes_from_the_densest_half_hour_snapped_to_a_common_one() -> None:
    assert interval_from_counts([30.0, 31.0, 12.0]) == 60  # a sample on both edges: 58 s
    assert interval_from_counts([121.0]) == 15
    assert interval_from_counts([16.0, float("nan")]) == 120
    assert interval_from_counts([24.0]) == 75  # no common interval near it
    assert (
        interval_query("up")
        == "max(count_over_time(up[30m]) and count_over_time(up[30m] offset 30m))"
    )
    assert interval_from_counts([1.0]) is None
    assert interval_from_counts([]) is None


def test_yaml_then_source_then_data_say_how_often_series_are_sampled() -> None:
    own = sampling_for(definition(scrape_interval="2m"), 15, 30)
    assert (own.interval, own.origin, own.effective_slice) == (120, IntervalOrigin.YAML, 120)
    source = sampling_for(definition(), 15, 30)
    assert (source.interval, source.origin) == (30, IntervalOrigin.SOURCE)
    learned = sampling_for(definition(slice="30s"), 60, None)
    assert (learned.origin, learned.effective_slice, learned.coarsened) == (
        IntervalOrigin.DATA,
        60,
        True,
    )
    assert sampling_for(definition(), None, None).origin is IntervalOrigin.UNKNOWN


def test_the_definition_runs_on_the_effective_slice_and_keeps_the_configured_one() -> None:
    slow = with_sampling(definition(), sampling_for(definition(), 120, None))
    assert slow.spec.slice_seconds == 120
    assert slow.sampling is not None and slow.sampling.configured_slice == 60
    again = with_sampling(slow, sampling_for(slow, 60, None))
    assert again.spec.slice_seconds == 60  # learned again from the configured slice
    assert slow.history_hash != definition().history_hash


def test_the_interval_is_learned_from_a_counter_or_the_threshold_gauge() -> None:
    assert interval_selector(definition()) == 'req_total{job="api"}'
    gauge = definition(
        budgeting="timeslices",
        sli={"threshold": {"query": 'max(queue_age{queue="orders"})', "op": "<=", "value": 300}},
    )
    assert interval_selector(gauge) == 'queue_age{queue="orders"}'


def test_the_declared_hash_leaves_out_what_was_learned() -> None:
    """Processes that learned different intervals agree on the declared definition (definitions
    by generation compare it); any edit of the files changes it."""
    declared = definition()
    slow = with_sampling(declared, sampling_for(declared, 120, None))
    fast = with_sampling(declared, sampling_for(declared, 15, None))
    assert slow.content_hash != fast.content_hash != declared.content_hash
    assert slow.declared_hash == fast.declared_hash == declared.declared_hash
    assert definition(objective=99.5).declared_hash != declared.declared_hash
    assert definition(slice="2m").declared_hash != slow.declared_hash
