"""`faultline rules` for grouped SLOs budgeted in time slices (a threshold SLI per region and a
`timeslices` events SLI per region): each group's slice is recorded as bad or good on its own
(`max by (region)` of the condition, or the region's own error ratio against `slice_target`),
so each group's window ratio is its share of bad slices and the burn alerts fire per group.

`promtool test rules` (Prometheus' rule engine on exact series): us-east's replica lags 60 s and
it serves 10 % errors; eu-west is healthy. Every us-east slice is bad, no eu-west slice is; the
alerts of both SLOs fire for us-east only, with its `region`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.alerting.promrules import rule_files
from app.testbed.prometheus import find_binary
from tests.conftest import require_prometheus
from tests.engine.conftest import definitions_with
from tests.engine.test_grouped_slices import YAML

LAG = 'faultline_service="orders", faultline_slo="replica-lag-by-region"'
SLICED = 'faultline_service="orders", faultline_slo="storefront-slices-by-region"'


def generated(tmp_path: Path) -> str:
    _, definitions = definitions_with(tmp_path, "orders.yaml", YAML)
    [rules] = rule_files(definitions, "http://faultline")
    return rules.text


def test_each_group_records_its_own_bad_slices(tmp_path: Path) -> None:
    text = generated(tmp_path)
    lag = 'max by (region) (pg_replication_lag_seconds{job="postgres", region!=""})'
    assert f"expr: max by (region) (({lag}) > bool 30)\n" in text
    total = 'sum by (region) (rate(http_requests_total{service="storefront"}[1m]))'
    assert f"/ {total}) > bool 0.01\n" in text and "vector(0)" not in text
    assert text.count("interval: 1m") == 2  # each group of rules runs once per slice
    assert "avg_over_time(faultline:slo_bad_slice:bool{" in text
    assert 'orders/replica-lag-by-region{region="{{ $labels.region }}"} burns' in text


PROMTOOL_SUITE = """\
rule_files: [orders.rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'pg_replication_lag_seconds{job="postgres", region="us-east"}'
        values: '60x180'
      - series: 'pg_replication_lag_seconds{job="postgres", region="eu-west"}'
        values: '2x180'
      - series: 'pg_replication_lag_seconds{job="postgres"}'
        values: '500x180'
      - series: 'http_requests_total{service="storefront", region="us-east", code="200"}'
        values: '0+900x180'
      - series: 'http_requests_total{service="storefront", region="us-east", code="503"}'
        values: '0+100x180'
      - series: 'http_requests_total{service="storefront", region="eu-west", code="200"}'
        values: '0+1000x180'
    promql_expr_test:
      - expr: faultline:slo_error_ratio:1h{@LAG@}
        eval_time: 2h
        exp_samples:
          - labels: 'faultline:slo_error_ratio:1h{region="us-east", @LAG@}'
            value: 1
          - labels: 'faultline:slo_error_ratio:1h{region="eu-west", @LAG@}'
            value: 0
      - expr: faultline:slo_error_ratio:1h{@SLICED@}
        eval_time: 2h
        exp_samples:
          - labels: 'faultline:slo_error_ratio:1h{region="us-east", @SLICED@}'
            value: 1
          - labels: 'faultline:slo_error_ratio:1h{region="eu-west", @SLICED@}'
            value: 0
      - expr: count by (region, slo, long_window) (ALERTS{alertstate="firing", long_window=~"1h|6h"})
        eval_time: 2h
        exp_samples:
          - labels: '{region="us-east", slo="replica-lag-by-region", long_window="1h"}'
            value: 1
          - labels: '{region="us-east", slo="replica-lag-by-region", long_window="6h"}'
            value: 1
          - labels: '{region="us-east", slo="storefront-slices-by-region", long_window="1h"}'
            value: 1
          - labels: '{region="us-east", slo="storefront-slices-by-region", long_window="6h"}'
            value: 1
"""


@pytest.mark.prometheus
def test_promtool_fires_for_the_lagging_region_only(tmp_path: Path) -> None:
    require_prometheus()
    (tmp_path / "orders.rules.yaml").write_text(generated(tmp_path))
    suite = tmp_path / "grouped-slices.test.yaml"
    suite.write_text(PROMTOOL_SUITE.replace("@LAG@", LAG).replace("@SLICED@", SLICED))
    rules = str(tmp_path / "orders.rules.yaml")
    for command in (["check", "rules", rules], ["test", "rules", str(suite)]):
        run = subprocess.run(
            [find_binary("promtool"), *command],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
