"""Acceptance: real Prometheus, queried with the shipped YAML's own queries, agrees with the
generated ground truth slice by slice (counts, per-mode bad, `when`, threshold values)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import RunningPrometheus, TestbedCache
from tests.testbed.promquery import compare_slo, query_range, shipped_definitions

pytestmark = pytest.mark.prometheus

StartPrometheus = Callable[[str], RunningPrometheus]


@pytest.mark.parametrize(
    "name", ["fast_burn", "queue_age", "slow_burn", "overlapping", "demo_history"]
)
def test_every_shipped_slo_matches_the_ground_truth_per_slice(
    prometheus_over: StartPrometheus, name: str
) -> None:
    running = prometheus_over(name)
    failures: list[str] = []
    for definition in shipped_definitions():
        mismatches = compare_slo(running.url, definition, running.truth.slo(definition.key))
        failures += [f"{definition.key}: {m}" for m in mismatches[:5]]
    assert not failures, "\n".join(failures)


def test_the_comparison_notices_a_wrong_truth(
    prometheus_over: StartPrometheus, testbed: TestbedCache
) -> None:
    running = prometheus_over("fast_burn")
    checkout = next(d for d in shipped_definitions() if d.key == "checkout/checkout-success")
    other = testbed.get("queue_age").truth.slo(checkout.key)
    signals = {m.signal for m in compare_slo(running.url, checkout, other)}
    assert {"total", "bad", "mode:payment-timeout:bad", "mode:orders-backlog:when"} <= signals


def test_fast_burn_is_visible_as_the_story_says(prometheus_over: StartPrometheus) -> None:
    running = prometheus_over("fast_burn")
    facts = running.built.named.facts
    incident_start, incident_end = int(facts["incident_start"]), int(facts["incident_end"])
    checkout = running.truth.slo("checkout/checkout-success")
    window = checkout.window(incident_start, incident_end)
    assert window.burn_rate is not None and window.burn_rate >= 14.4
    assert window.share("payment-timeout") == pytest.approx(1.0, abs=0.02)
    # The same hour straight from Prometheus, as a 1h ratio at the incident's end.
    bad = query_range(
        running.url,
        'sum(increase(http_requests_total{service="checkout", code=~"5.."}[1h]))'
        ' / sum(increase(http_requests_total{service="checkout"}[1h]))',
        incident_end,
        incident_end,
    )
    assert bad[incident_end] / 0.001 == pytest.approx(window.burn_rate, rel=1e-9)


def test_a_stopped_prometheus_comes_back_on_the_same_url_with_the_same_data(
    prometheus_over: StartPrometheus,
) -> None:
    running = prometheus_over("queue_age")
    query = 'max(aws_sqs_approximate_age_of_oldest_message_maximum{dimension_QueueName="orders"})'
    ends = running.scenario.slice_ends
    before = query_range(running.url, query, ends.start, ends.stop - 1)
    running.server.stop()
    assert not running.server.running
    with pytest.raises(Exception, match=r"Connection refused|Max retries"):
        query_range(running.url, query, ends.start, ends.stop - 1)
    running.server.start()
    assert query_range(running.url, query, ends.start, ends.stop - 1) == before
