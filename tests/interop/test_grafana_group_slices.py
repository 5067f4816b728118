"""The Grafana export of grouped SLOs budgeted in time slices (a threshold SLI per region and a
`timeslices` events SLI per region): the `$region` variable takes its values from the gauge's
selector for a threshold SLI, and each group's burn panel is its share of bad slices (the slice
condition `faultline rules` records, averaged over a subquery stepped by the slice) over the
budget. Against a real Prometheus over `replica_lag_by_region`, the panel shows each region at
the burn rate of its ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from app.interop.grafana_groups import burn_by_group
from app.testbed.grouped_scenarios import REPLICA_REGIONS
from app.testbed.truth import GroundTruth
from tests.conftest import RunningPrometheus
from tests.engine.conftest import definitions_with
from tests.engine.test_grouped_slices import LAG, YAML, group_key, lag_truth
from tests.interop.test_grafana_groups import export_service, query, slo_rows


def exported(tmp_path: Path) -> dict[str, Any]:
    return export_service(tmp_path, "orders", YAML)


def test_grouped_slice_slos_get_the_variable_and_burn_panels_of_bad_slices(
    tmp_path: Path,
) -> None:
    dashboard = exported(tmp_path)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert list(variables) == ["datasource", "region"]
    assert variables["region"]["definition"] == (
        'label_values(pg_replication_lag_seconds{job="postgres",region!=""}, region)'
    )
    rows = slo_rows(dashboard)
    for name in ("replica-lag-by-region", "storefront-slices-by-region"):
        burn, worst = rows[name][-2:]
        assert burn["title"] == "Burn rate over 1h by region", name
        expr = burn["targets"][0]["expr"]
        condition = "max by (region) ((max by" if "lag" in name else "((sum by (region)"
        assert expr.startswith(f"((avg_over_time(({condition}"), expr
        assert "[1h:1m])" in expr and 'region=~"$region"' in expr
        assert "[1d:1m])" in worst["targets"][0]["expr"]
        for choice in (".*", "us-east"):
            for target in (*burn["targets"], *worst["targets"]):
                promql_parser.parse(target["expr"].replace("$region", choice))


@pytest.mark.prometheus
def test_the_burn_panel_shows_each_region_at_its_true_share_of_bad_slices(
    prometheus_over: Callable[..., RunningPrometheus], tmp_path: Path
) -> None:
    running = prometheus_over("replica_lag_by_region")
    _, definitions = definitions_with(tmp_path, "orders.yaml", YAML)
    lag = next(d for d in definitions.slos if d.key == LAG)
    expr = burn_by_group(lag, 3600)
    assert expr is not None
    at = int(running.built.named.facts["partition"]) + 50 * 60  # us-east lagged 35 of 60 min
    truth = GroundTruth(running.dataset, [lag_truth(region) for region in REPLICA_REGIONS])
    every = query(running.url, expr.replace("$region", ".*"), at)
    assert sorted(every) == sorted(REPLICA_REGIONS)
    for region in REPLICA_REGIONS:
        expected = truth.slo(group_key(LAG, region)).window(at - 3600, at).burn_rate
        assert expected is not None
        assert every[region] == pytest.approx(expected, rel=0.02, abs=1e-9), region
    assert every["us-east"] > 14.4 and every["eu-west"] == every["ap-south"] == 0
    assert query(running.url, expr.replace("$region", "us-east"), at) == {
        "us-east": every["us-east"]
    }
