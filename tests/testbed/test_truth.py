"""Ground truth: it restates the shipped YAML faithfully, and its slices add up."""

from __future__ import annotations

import math

import pytest

from app.slo.spec import ThresholdOp
from app.testbed.scenarios import NAMED_SCENARIOS
from app.testbed.series import build_catalog
from app.testbed.shipped import SHIPPED_BY_KEY, SHIPPED_SLOS, InstantCompare, RateCompare
from app.testbed.truth import SLOTruth
from app.testbed.window import WindowTruth, attribute, attribute_slice
from tests.conftest import TestbedCache
from tests.testbed.promquery import shipped_definitions

MINUTE = 60


def test_the_truth_restates_every_shipped_slo_and_mode() -> None:
    definitions = {d.key: d for d in shipped_definitions()}
    assert set(definitions) == set(SHIPPED_BY_KEY)
    for key, definition in definitions.items():
        spec, truth = definition.spec, SHIPPED_BY_KEY[key]
        assert truth.objective == spec.objective, key
        assert truth.timeslices == (spec.sli is not None and spec.sli.kind == "threshold"), key
        if spec.sli is not None and spec.sli.threshold is not None:
            assert truth.threshold is not None
            assert ThresholdOp(truth.threshold.op) is spec.sli.threshold.op
            assert truth.threshold.value == spec.sli.threshold.value
        if spec.sli is not None and spec.sli.events is not None:
            assert (truth.bad is not None) == (spec.sli.events.bad is not None), key
        shipped_modes = [
            (m.name, m.bad is not None, m.when is not None) for m in spec.failure_modes
        ]
        truth_modes = [(m.name, m.bad is not None, m.when is not None) for m in truth.modes]
        assert truth_modes == shipped_modes, key


def test_every_selector_of_the_truth_finds_generated_series() -> None:
    catalog = build_catalog()
    for spec in SHIPPED_SLOS:
        matches = [spec.total, spec.bad, spec.good]
        matches += [spec.threshold.selector] if spec.threshold else []
        for mode in spec.modes:
            matches.append(mode.bad)
            if isinstance(mode.when, InstantCompare):
                matches.append(mode.when.selector)
            elif isinstance(mode.when, RateCompare):
                matches += [mode.when.numerator, *mode.when.denominator]
        for match in matches:
            assert match is None or match.series(catalog), (spec.key, match)


def _check_invariants(truth: SLOTruth) -> None:
    for slice_ in truth.slices():
        assert 0 <= slice_.bad <= slice_.total, (truth.key, slice_)
        parts = math.fsum(slice_.attributed.values()) + slice_.unattributed
        assert parts == pytest.approx(slice_.bad, abs=1e-9), (truth.key, slice_)
        assert all(part >= 0 for part in slice_.attributed.values())
        if slice_.no_data:
            assert slice_.total == slice_.bad == 0 and slice_.threshold_value is None
        if truth.timeslices:
            assert slice_.total in (0, 1) and slice_.bad in (0, 1)
            assert slice_.no_data or slice_.threshold_value is not None


@pytest.mark.parametrize("name", list(NAMED_SCENARIOS))
def test_slices_add_up_in_every_named_scenario(testbed: TestbedCache, name: str) -> None:
    truth = testbed.get(name).truth
    for key in truth.keys:
        _check_invariants(truth.slo(key))


def test_steady_spends_only_the_unnamed_baseline(testbed: TestbedCache) -> None:
    truth = testbed.get("steady").truth
    for key in truth.keys:
        whole = truth.slo(key).whole()
        assert whole.unattributed == whole.bad
        assert not any(any(column) for column in truth.slo(key).mode_when.values())
        assert whole.consumed is not None and whole.consumed < 0.5, key
        if truth.slo(key).timeslices:
            assert whole.bad == 0
    assert truth.slo("checkout/checkout-success").whole().bad > 0


def test_fast_burn_burns_over_14_4_for_an_hour_from_payment_timeouts(testbed: TestbedCache) -> None:
    built = testbed.get("fast_burn")
    start, end = int(built.named.facts["incident_start"]), int(built.named.facts["incident_end"])
    checkout = built.truth.slo("checkout/checkout-success")
    incident = checkout.window(start, end)
    assert incident.slices == 60
    assert incident.burn_rate is not None and incident.burn_rate >= 14.4
    assert incident.share("payment-timeout") == pytest.approx(1.0, abs=0.02)
    for quiet in (
        checkout.window(checkout.ends.start - 60, start),
        checkout.window(end, end + 3600),
    ):
        assert quiet.attributed["payment-timeout"] == 0
        assert quiet.burn_rate is not None and quiet.burn_rate < 1


def test_queue_age_is_bad_for_the_known_minutes(testbed: TestbedCache) -> None:
    built = testbed.get("queue_age")
    facts = built.named.facts
    freshness = built.truth.slo("orders/queue-freshness")
    bad_ends = [s.end for s in freshness.slices() if s.bad]
    assert len(bad_ends) == facts["queue_bad_slices"]
    assert (bad_ends[0], bad_ends[-1]) == (facts["first_bad_slice"], facts["last_bad_slice"])
    whole = freshness.whole()
    assert whole.attributed["worker-outage"] == facts["worker_outage_slices"]
    assert whole.unattributed == facts["queue_bad_slices"] - facts["worker_outage_slices"]
    backlog = built.truth.slo("checkout/checkout-success").whole()
    assert backlog.attributed["orders-backlog"] > 0


def test_slow_burn_has_restarts_a_gap_and_a_burn_near_2(testbed: TestbedCache) -> None:
    built = testbed.get("slow_burn")
    facts = built.named.facts
    gap_start, gap_end = int(facts["gap_start"]), int(facts["gap_end"])
    for key in built.truth.keys:
        truth = built.truth.slo(key)
        no_data = [s.end for s in truth.slices() if s.no_data]
        # The sample at the gap's end is the slice's own: counters and gauges have data there.
        assert no_data == list(range(gap_start + MINUTE, gap_end, MINUTE))
    # The events of the gap are counted in the first slice after it, as its sample shows them.
    checkout = built.truth.slo("checkout/checkout-success")
    after_gap, before_gap = checkout.at(gap_end), checkout.at(gap_start)
    assert after_gap.total > 10 * before_gap.total
    burn = built.truth.slo("checkout/checkout-success").window(
        int(facts["burn_start"]), int(facts["burn_end"])
    )
    assert burn.burn_rate is not None and 1.6 < burn.burn_rate < 2.5
    assert burn.no_data_slices == facts["no_data_slices"]


def test_low_traffic_has_exactly_one_failure(testbed: TestbedCache) -> None:
    built = testbed.get("low_traffic")
    checkout = built.truth.slo("checkout/checkout-success")
    bad = [s for s in checkout.slices() if s.bad]
    assert [(s.end, s.bad, s.attributed["payment-timeout"]) for s in bad] == [
        (built.named.facts["failure_at"], 1, 1)
    ]
    whole = checkout.whole()
    assert 0.5 * whole.slices < whole.total < 2 * whole.slices


def test_overlapping_causes_scale_bad_counts_and_split_the_rest(testbed: TestbedCache) -> None:
    checkout = testbed.get("overlapping").truth.slo("checkout/checkout-success")
    slices = list(checkout.slices())
    scaled = [s for s in slices if (s.mode_bad["payment-timeout"] or 0) > s.bad > 0]
    assert scaled, "retries make the timeout counter exceed the bad total"
    for s in scaled:
        assert s.attributed["payment-timeout"] == pytest.approx(s.bad)
        assert s.attributed["orders-backlog"] == 0 and s.unattributed == 0
    shared = [
        s for s in slices if s.mode_when["orders-backlog"] and s.attributed["orders-backlog"] > 0
    ]
    assert any(s.attributed["payment-timeout"] > 0 for s in shared)
    reads = testbed.get("overlapping").truth.slo("orders/order-status-reads").whole()
    assert reads.attributed["stale-replica-read"] > 0 and reads.attributed["status-backlog"] > 0


def test_attribution_follows_design_section_1() -> None:
    modes = ("a", "b", "c")
    # Bad counts credited directly; the rest split among `when` modes.
    assert attribute(10, modes, {"a": 4, "b": None}, {"b": True, "c": True}) == (
        {"a": 4, "b": 3, "c": 3},
        0,
    )
    # Bad counts above the bad total are scaled down to fit; nothing is left to split.
    attributed, rest = attribute(6, modes, {"a": 6, "b": 3}, {"c": True})
    assert attributed == pytest.approx({"a": 4, "b": 2, "c": 0}) and rest == 0
    # Nothing holds: unattributed.
    assert attribute(5, modes, {"a": 2}, {}) == ({"a": 2, "b": 0, "c": 0}, 3)
    # A bad slice of a timeslice SLO.
    assert attribute_slice(1, modes, {"a": True, "c": True}) == ({"a": 0.5, "b": 0, "c": 0.5}, 0)
    assert attribute_slice(1, modes, {}) == ({"a": 0, "b": 0, "c": 0}, 1)
    assert attribute_slice(0, modes, {"a": True}) == ({"a": 0, "b": 0, "c": 0}, 0)


def test_window_helpers() -> None:
    window = WindowTruth(
        key="x/y",
        start=0,
        end=3600,
        objective=99.9,
        slices=60,
        no_data_slices=0,
        total=10_000,
        bad=50,
        attributed={"a": 40},
        unattributed=10,
    )
    assert window.bad_fraction == pytest.approx(0.005)
    assert window.consumed == pytest.approx(5.0)
    assert window.burn_rate == pytest.approx(5.0)
    assert window.share("a") == pytest.approx(0.8)
    assert window.unattributed_share == pytest.approx(0.2)
    empty = WindowTruth("x/y", 0, 60, 99.0, 1, 1, 0, 0, {"a": 0}, 0)
    assert empty.consumed is None and empty.share("a") is None


def test_a_window_sums_exactly_the_slices_it_covers(testbed: TestbedCache) -> None:
    checkout = testbed.get("fast_burn").truth.slo("checkout/checkout-success")
    start = checkout.ends.start + 600
    window = checkout.window(start, start + 3600)
    slices = [checkout.at(t) for t in range(start + 60, start + 3601, 60)]
    assert window.slices == 60
    assert window.total == sum(s.total for s in slices)
    assert window.bad == sum(s.bad for s in slices)
    unaligned = checkout.window(start + 30, start + 3600 + 59)
    assert (unaligned.slices, unaligned.total, unaligned.bad) == (60, window.total, window.bad)
    with pytest.raises(KeyError):
        checkout.at(start + 30)
