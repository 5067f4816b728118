"""Queries from other tools: which ones Faultline can count per slice, and how they are rewritten."""

from __future__ import annotations

import pytest

from app.interop.promql_adapt import counter_query, gauge_query, normalize_window


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sum(rate(x[{{.window}}]))", "sum(rate(x[{{window}}]))"),
        ("sum(rate(x[{{ .window }}]))", "sum(rate(x[{{window}}]))"),
        ("sum(rate(x[{{ window }}]))", "sum(rate(x[{{window}}]))"),
    ],
)
def test_window_placeholders_become_faultlines(given: str, expected: str) -> None:
    assert normalize_window(given) == (expected, None)


def test_other_template_variables_are_refused() -> None:
    adapted = counter_query('sum(rate(x{job="{{.Service}}"}[{{.window}}]))', counter=True)
    assert adapted.query is None
    assert adapted.reason == "template variable {{.Service}} has no Faultline equivalent"


def test_a_query_with_the_placeholder_is_used_as_it_is() -> None:
    adapted = counter_query("sum(increase(x_total[{{window}}]))", counter=None)
    assert (adapted.query, adapted.note, adapted.reason) == (
        "sum(increase(x_total[{{window}}]))",
        None,
        None,
    )


def test_fixed_ranges_of_rate_and_increase_become_the_slice_window() -> None:
    adapted = counter_query(
        'sum(rate(x_total{a="b"}[5m])) + sum(increase(y_total[1h]))', counter=None
    )
    assert (
        adapted.query
        == 'sum(rate(x_total{a="b"}[{{window}}])) + sum(increase(y_total[{{window}}]))'
    )
    assert adapted.note is not None and "([1h], [5m])" in adapted.note


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("sum(avg_over_time(x[5m]))", "read by avg_over_time(), not rate() or increase()"),
        ("sum(rate(x[5m:1m]))", "a subquery cannot be counted per slice"),
        ("sum(x) / sum(y)", "not a plain counter Faultline could wrap in rate()"),
        ("sum(rate(x[5m]", "invalid PromQL"),
    ],
)
def test_queries_that_do_not_count_events_are_refused(query: str, reason: str) -> None:
    adapted = counter_query(query, counter=True)
    assert adapted.query is None
    assert adapted.reason is not None and reason in adapted.reason


def test_a_bare_counter_is_wrapped_in_rate_over_the_window() -> None:
    adapted = counter_query('http_requests_total{code="500"}', counter=True)
    assert adapted.query == 'sum(rate(http_requests_total{code="500"}[{{window}}]))'
    assert adapted.note is not None and "ratioMetric.counter is true" in adapted.note


def test_a_summed_counter_keeps_its_grouping() -> None:
    adapted = counter_query("sum by (region) (requests_total)", counter=True)
    assert adapted.query == "sum by (region) (rate(requests_total[{{window}}]))"


def test_a_counter_is_recognised_by_its_name_when_the_document_does_not_say() -> None:
    assert counter_query("sum(requests_total)", counter=None).query == (
        "sum(rate(requests_total[{{window}}]))"
    )
    refused = counter_query("sum(requests_in_flight)", counter=None)
    assert refused.query is None
    assert refused.reason is not None and "not known to be a counter" in refused.reason


def test_a_gauge_is_never_wrapped() -> None:
    refused = counter_query("sum(requests_total)", counter=False)
    assert refused.query is None
    assert refused.reason is not None and "ratioMetric.counter is false" in refused.reason


def test_threshold_queries_are_used_as_they_are() -> None:
    assert gauge_query("max(queue_age_seconds)").query == "max(queue_age_seconds)"
    assert gauge_query("max(queue_age_seconds").reason is not None
