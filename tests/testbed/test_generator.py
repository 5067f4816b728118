"""The generator: deterministic, realistic enough, and exactly where the scenario says."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from app.testbed.dataset import generate, hidden_reset_losses
from app.testbed.draws import binomial, poisson, split, traffic_factor
from app.testbed.scenario import (
    CounterReset,
    FailedCheckouts,
    PaymentTimeouts,
    RegionOutage,
    Scenario,
    ScenarioError,
    ScrapeGap,
)
from app.testbed.scenarios import NAMED_SCENARIOS, named, start_ending_before
from app.testbed.series import CHECKOUT_CODES, LATENCY_BOUNDS, TARGETS, format_le
from app.testbed.simulation import Simulation
from tests.conftest import TEST_START, TestbedCache

HOUR = 3600


def small(**changes: object) -> Scenario:
    fields: dict[str, object] = {"name": "small", "start": TEST_START, "minutes": 120}
    fields.update(changes)
    return Scenario(**fields)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_samples_and_another_seed_does_not() -> None:
    first, again = generate(small(seed=11)), generate(small(seed=11))
    other = generate(small(seed=12))
    assert first.values == again.values
    assert first.minute_events == again.minute_events
    assert first.values != other.values


def test_sampling_every_15_seconds_keeps_minute_boundaries_and_counts_consistent() -> None:
    dataset = generate(small(interval=15))
    assert dataset.samples == 120 * 4 + 1
    checkout = dataset.catalog.at("checkout.code.200")
    for k in range(1, 120):
        end = TEST_START + 60 * (k + 1)
        increase = dataset.value_at(checkout, end) - dataset.value_at(checkout, end - 60)
        assert increase == dataset.events(checkout, end)


def test_counters_only_grow_without_a_reset_and_histograms_stay_cumulative() -> None:
    dataset = generate(small())
    catalog = dataset.catalog
    for position in catalog.counters():
        values = dataset.values[position]
        assert all(b >= a for a, b in pairwise(values))
    buckets = [catalog.at(f"checkout.bucket.{format_le(b)}") for b in LATENCY_BOUNDS]
    inf, count = catalog.at("checkout.bucket.+Inf"), catalog.at("checkout.count")
    codes = [catalog.at(f"checkout.code.{c}") for c in CHECKOUT_CODES]
    for i in range(dataset.samples):
        cumulative = [dataset.values[b][i] for b in buckets]
        assert cumulative == sorted(cumulative)
        assert cumulative[-1] <= dataset.values[inf][i] == dataset.values[count][i]
    for k in range(120):
        end = TEST_START + 60 * (k + 1)
        assert dataset.events(count, end) == sum(dataset.events(c, end) for c in codes)


def test_traffic_follows_the_day_and_seeded_draws_are_sane() -> None:
    evening, night = TEST_START + 19 * HOUR, TEST_START + 7 * HOUR
    assert traffic_factor(evening) > 1.4 > 0.6 > traffic_factor(night)
    saturday = TEST_START + 5 * 24 * HOUR + 19 * HOUR
    assert traffic_factor(saturday) == pytest.approx(0.85 * traffic_factor(evening))
    rng = random.Random(1)
    draws = [poisson(rng, 4.0) for _ in range(4000)]
    assert sum(draws) / len(draws) == pytest.approx(4.0, rel=0.05)
    assert all(0 <= binomial(rng, 50, 0.3) <= 50 for _ in range(200))
    assert sum(split(rng, 1000, (0.2, 0.3, 0.5))) == 1000
    assert binomial(rng, 10, 0.0) == 0 and binomial(rng, 10, 1.0) == 10


def test_injections_land_in_the_requested_slices_only() -> None:
    incident = TEST_START + 30 * 60
    dataset = generate(small(injections=(PaymentTimeouts(incident, 20, ratio=0.05),)))
    timeouts = dataset.catalog.at("payment.timeout")
    affected = [end for end in dataset.scenario.slice_ends if dataset.events(timeouts, end) > 0]
    assert affected == list(range(incident + 60, incident + 20 * 60 + 1, 60))


def test_region_outage_zeroes_the_probe_exactly_while_active() -> None:
    outage = RegionOutage(TEST_START + 10 * 60, 5)
    dataset = generate(small(injections=(outage,)))
    probe = dataset.catalog.at("probe.us-east")
    down = [end for end in dataset.scenario.slice_ends if dataset.value_at(probe, end) == 0]
    assert down == list(range(outage.start + 60, outage.end + 1, 60))


def test_a_counter_reset_drops_every_counter_of_the_target_right_after_a_sample() -> None:
    reset = TEST_START + 40 * 60
    dataset = generate(small(resets=(CounterReset(reset, "checkout"),)))
    i = dataset.sample_index(reset)
    for position in dataset.catalog.of_target("checkout"):
        series = dataset.catalog.series[position]
        before, after = dataset.values[position][i], dataset.values[position][i + 1]
        events = dataset.events(position, reset + 60)
        if series.is_counter:
            assert after == pytest.approx(events, abs=1e-6)
            assert after < before
    assert hidden_reset_losses(dataset) == []


def test_a_scrape_gap_removes_the_samples_strictly_inside_it() -> None:
    gap = ScrapeGap(TEST_START + 20 * 60, TEST_START + 35 * 60, frozenset({"yace"}))
    dataset = generate(small(gaps=(gap,)))
    missing = [dataset.sample_time(i) for i, kept in enumerate(dataset.present["yace"]) if not kept]
    assert missing == list(range(gap.start + 60, gap.end, 60))
    assert all(dataset.present["checkout"])


def test_hidden_resets_are_reported() -> None:
    # Two restarts a minute apart: 2 timeouts before the second, 3 right after it. Prometheus
    # sees 2 -> 3 and counts 1, missing the 2 counted before the restart.
    dataset = generate(
        small(
            minutes=10,
            traffic={"checkout": 0.0},
            baseline_errors=0.0,
            injections=(
                FailedCheckouts(TEST_START + 120, 2),
                FailedCheckouts(TEST_START + 180, 3),
            ),
            resets=(
                CounterReset(TEST_START + 60, "checkout"),
                CounterReset(TEST_START + 120, "checkout"),
            ),
        )
    )
    hidden = {h.series: h for h in hidden_reset_losses(dataset)}
    for key in ("checkout.code.504", "payment.timeout", "checkout.count"):
        found = hidden[dataset.catalog.series[dataset.catalog.at(key)]]
        assert (found.at, found.before, found.after, found.lost_events) == (
            TEST_START + 120,
            2,
            3,
            2,
        )
    assert all(h.at == TEST_START + 120 for h in hidden.values())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": TEST_START + 1}, "minute-aligned"),
        ({"interval": 7}, "divide 60"),
        ({"traffic": {"nope": 1.0}}, "unknown service"),
        ({"gaps": (ScrapeGap(TEST_START, TEST_START + 60),)}, "at least 2 minutes"),
        ({"resets": (CounterReset(TEST_START + 30, "checkout"),)}, "on a minute"),
        ({"resets": (CounterReset(TEST_START + 600, "nope"),)}, "unknown target"),
        (
            {
                "gaps": (ScrapeGap(TEST_START + 300, TEST_START + 900),),
                "resets": (CounterReset(TEST_START + 600, "checkout"),),
            },
            "scrape gap",
        ),
        ({"injections": (PaymentTimeouts(TEST_START + 30, 5),)}, "start on a minute"),
    ],
)
def test_impossible_scenarios_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        small(**changes)


def test_the_simulation_keeps_stepping_after_the_scenario_in_real_time() -> None:
    scenario = small(minutes=10)
    simulation = Simulation(scenario)
    generate(scenario, simulation)
    assert simulation.time == scenario.end
    assert simulation.advance_to(scenario.end + 59) == 0
    assert simulation.advance_to(scenario.end + 180) == 3
    assert simulation.time == scenario.end + 180
    with pytest.raises(ValueError, match="first sample"):
        generate(scenario, simulation)


def test_every_named_scenario_generates_without_hidden_resets(testbed: TestbedCache) -> None:
    for name in NAMED_SCENARIOS:
        built = testbed.get(name)
        assert built.named.story
        assert hidden_reset_losses(built.dataset) == [], name
        assert set(built.dataset.present) == set(TARGETS)


def test_named_scenarios_default_to_ending_just_before_now() -> None:
    start = start_ending_before(1_800_000_030, 60)
    assert start == 1_800_000_000 - 62 * 60
    scenario = named("steady", minutes=60).scenario
    assert scenario.minutes == 60 and scenario.start % 60 == 0
    with pytest.raises(ScenarioError, match="at least"):
        named("fast_burn", TEST_START, minutes=60)
