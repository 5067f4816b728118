"""Counter counts as differences of samples: which calls are rewritten, and what stays as written."""

from __future__ import annotations

import promql_parser
import pytest

from app.slo.counts import Rewritten, rewrite, sample_increase, windowed_selectors
from app.slo.promql import latency_queries
from app.slo.queries import SignalRole, counter_signal


def test_a_windowed_rate_becomes_the_sample_difference_per_second() -> None:
    result = rewrite('sum(rate(req_total{code=~"5.."}[{{window}}]))', 60)
    counted = sample_increase('req_total{code=~"5.."}', 60)
    assert result.calls == 1
    assert result.query == f"sum(({counted} / 60))"
    assert 'last_over_time(req_total{code=~"5.."}[1h] offset 1m)' in counted
    assert "[59999ms]" in counted  # the slice (t - 60, t] where ranges are closed
    promql_parser.parse(result.query)


def test_where_ranges_are_open_at_the_start_the_slice_is_the_whole_window() -> None:
    # VictoriaMetrics (and Prometheus 3): `S[60s]` at t is (t - 60 s, t] already.
    counted = rewrite("sum(rate(x[{{window}}]))", 60, closed_ranges=False).query
    assert "[60000ms]" in counted
    assert "59999ms" not in counted
    assert "[1h] offset 1m" in counted


def test_increase_and_counts_wanted_give_the_difference_itself() -> None:
    assert rewrite("sum(increase(x[ {{window}} ]))", 120).query == (
        f"sum({sample_increase('x', 120)})"
    )
    per_count = rewrite("sum(rate(x[{{window}}]))", 120, per_second=False)
    assert per_count.query == f"sum({sample_increase('x', 120)})"


@pytest.mark.parametrize(
    "query",
    [
        "sum(irate(x[{{window}}]))",
        "sum(rate(x[{{window}}] offset 5m))",
        "sum(rate(x[5m]))",
        "sum(rate(x[{{window}}:15s]))",
        "count_over_time(x[{{window}}])",
    ],
)
def test_what_is_not_a_plain_windowed_rate_stays_as_written(query: str) -> None:
    result = rewrite(query, 60)
    assert result.calls == 0
    assert result.query == query.replace("{{window}}", "1m")


def test_label_values_with_braces_and_brackets_do_not_confuse_the_rewrite() -> None:
    query = 'sum(rate(a{x="}"}[{{window}}])) - sum(rate(b{y="[{{window}}]"}[{{window}}]))'
    result = rewrite(query, 60)
    assert result.calls == 2
    assert 'last_over_time(a{x="}"}[59999ms])' in result.query
    assert windowed_selectors(query) == ['a{x="}"}', 'b{y="[1m]"}']


def test_histogram_bucket_matchers_keep_their_escapes() -> None:
    _, good = latency_queries("http_request_duration_seconds", '{service="checkout"}', 0.5)
    result = rewrite(good, 60)
    assert result.calls == 1
    assert 'le=~"0\\\\.5"' in result.query
    promql_parser.parse(result.query)


def test_a_per_second_sli_is_answered_in_counts_unless_a_rate_remains() -> None:
    counted = counter_signal("total", SignalRole.TOTAL, "sum(rate(x[{{window}}]))", "rate")
    assert counted.unit == "count"
    assert "/ 60" not in counted.render(60)
    mixed = "sum(rate(x[{{window}}])) + sum(rate(y[5m]))"
    kept = counter_signal("total", SignalRole.TOTAL, mixed, "rate")
    assert kept.unit == "rate"
    assert "/ 60)" in kept.render(60) and "rate(y[5m])" in kept.render(60)
    declared = counter_signal("bad", SignalRole.BAD, "sum(rate(x[{{window}}])) * 60", "count")
    assert declared.unit == "count" and "/ 60)) * 60" in declared.render(60)


def test_a_query_only_metricsql_parses_is_asked_as_written() -> None:
    # Accepted from a VictoriaMetrics source (`faultline validate`): nothing to rewrite safely.
    query = "with (s = x_total) sum(rate(s[{{window}}]))"
    assert rewrite(query, 60) == Rewritten("with (s = x_total) sum(rate(s[1m]))", 0)
