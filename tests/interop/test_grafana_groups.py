"""The Grafana export of a grouped SLO: a variable per group label, panels filtered by it.

- `faultline dashboards export` gives the service dashboard one query variable per group label
  (`label_values(<the SLI's selector>, region)`, multi-value, "All" = `.*`), and the grouped
  SLO's row two more panels (burn over 1h by group, worst groups over 1d), each filtered by the
  variables; an ungrouped SLO of the same file gets the panels it always had;
- every PromQL of the dashboard parses with the variables substituted (a value, or All);
- against a real Prometheus over `region_outage`, the burn panel's query returns one series per
  region the variable selects, and each region's burn rate equals the ground truth of that
  region's requests over the same hour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import requests
from typer.testing import CliRunner

from app.cli import cli
from app.interop.grafana import service_dashboard
from app.interop.grafana_groups import burn_by_group
from app.testbed.series import REGIONS
from app.testbed.truth import GroundTruth
from tests.conftest import RunningPrometheus
from tests.engine.conftest import definitions_with
from tests.engine.test_grouped import group_key, region_truth
from tests.interop.helpers import ROOT

GROUPED = """\
service: storefront
slos:
  - name: availability-by-region
    objective: 99.9
    group_by: [region]
    sli:
      events:
        total: sum by (region) (rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: sum by (region) (rate(http_requests_total{service="storefront", code=~"5.."}[{{window}}]))
  - name: fast-by-route-and-tenant
    objective: 99
    group_by: [route, tenant]
    sli: {latency: {histogram: http_request_duration_seconds, selector: '{service="storefront"}', le: 0.5}}
  - name: availability
    objective: 99.5
    sli:
      events:
        total: sum(rate(http_requests_total{service="storefront"}[{{window}}]))
        bad: sum(rate(http_requests_total{service="storefront", code=~"5.."}[{{window}}]))
"""
ALONE = (
    GROUPED[: GROUPED.index("  - name: availability-by-region")]
    + GROUPED[GROUPED.index("  - name: availability\n") :]
)


def exported(tmp_path: Path) -> dict[str, Any]:
    return export_service(tmp_path, "storefront", GROUPED)


def export_service(tmp_path: Path, service: str, text: str) -> dict[str, Any]:
    """`faultline dashboards export` of one service's definitions file: its dashboard."""
    directory, _ = definitions_with(tmp_path, f"{service}.yaml", text)
    out = tmp_path / "grafana"
    result = CliRunner().invoke(
        cli,
        ["dashboards", "export", "--out", str(out), "--definitions", str(directory)],
        env={"FAULTLINE_ALERTS": str(ROOT / "alerts")},
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads((out / f"faultline-service-{service}.json").read_text()))


def slo_rows(dashboard: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The panels under each SLO's row, by SLO name."""
    rows: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"].split(":")[0], [])
        else:
            current.append(panel)
    return rows


def test_a_grouped_slo_gets_a_variable_per_group_label_and_filtered_panels(
    tmp_path: Path,
) -> None:
    dashboard = exported(tmp_path)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert list(variables) == ["datasource", "region", "route", "tenant"]
    region = variables["region"]
    assert region["definition"] == 'label_values(http_requests_total{service="storefront"}, region)'
    assert (region["multi"], region["includeAll"], region["allValue"]) == (True, True, ".*")
    assert variables["route"]["definition"] == (
        'label_values(http_request_duration_seconds_count{service="storefront"}, route)'
    )
    rows = slo_rows(dashboard)
    titles = [panel["title"] for panel in rows["availability-by-region"]]
    assert titles[-2:] == ["Burn rate over 1h by region", "Worst region: burn rate over 1d"]
    burn, worst = rows["availability-by-region"][-2:]
    [hourly] = burn["targets"]
    assert 'region=~"$region"' in hourly["expr"] and "sum by (region)" in hourly["expr"]
    assert hourly["legendFormat"] == "{{region}}"
    assert worst["targets"][0]["expr"].startswith("sort_desc(")
    assert worst["targets"][0]["instant"] is True
    # Thresholds: the alert tiers' factors, as on the SLO-level burn panel.
    level = next(p for p in rows["availability-by-region"] if p["title"] == "Burn rate by window")
    assert (
        burn["fieldConfig"]["defaults"]["thresholds"]
        == level["fieldConfig"]["defaults"]["thresholds"]
    )
    two = rows["fast-by-route-and-tenant"][-2]["targets"][0]
    assert 'route=~"$route",tenant=~"$tenant"' in two["expr"]
    assert two["legendFormat"] == "{{route}}/{{tenant}}"


def test_an_ungrouped_slo_keeps_its_panels(tmp_path: Path) -> None:
    dashboard = exported(tmp_path)
    ungrouped = slo_rows(dashboard)["availability"]
    assert [p["title"] for p in ungrouped] == [
        "Budget remaining",
        "Burn rate by window",
        "Budget consumed by failure mode",
        "SLI vs. objective",
    ]
    assert not any("$region" in t["expr"] for p in ungrouped for t in p["targets"])
    (tmp_path / "alone").mkdir()
    _, definitions = definitions_with(tmp_path / "alone", "storefront.yaml", ALONE)
    before = service_dashboard(definitions, "storefront")
    assert [v["name"] for v in before["templating"]["list"]] == ["datasource"]
    assert placeless(slo_rows(before)["availability"]) == placeless(ungrouped)


def placeless(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Panels without their ids and grid positions (which depend on the panels before)."""
    return [{k: v for k, v in p.items() if k not in ("id", "gridPos")} for p in panels]


@pytest.mark.parametrize("choice", [".*", "us-east", "eu-west|us-east"])
def test_every_query_parses_with_the_variables_substituted(tmp_path: Path, choice: str) -> None:
    dashboard = exported(tmp_path)
    values = {"$region": choice, "$route": choice, "$tenant": choice}
    queries = [t["expr"] for p in dashboard["panels"] if p["type"] != "row" for t in p["targets"]]
    queries += [
        v["definition"].removeprefix("label_values(").rsplit(",", 1)[0]
        for v in dashboard["templating"]["list"]
        if v["type"] == "query"
    ]
    assert sum("$region" in q for q in queries) == 2
    for text in queries:
        substituted = text
        for variable, value in values.items():
            substituted = substituted.replace(variable, value)
        promql_parser.parse(substituted)  # raises on a syntax error


def query(url: str, expr: str, at: int) -> dict[str, float]:
    response = requests.get(
        f"{url}/api/v1/query", params={"query": expr, "time": str(at)}, timeout=30
    )
    response.raise_for_status()
    return {r["metric"]["region"]: float(r["value"][1]) for r in response.json()["data"]["result"]}


@pytest.mark.prometheus
def test_the_burn_panel_shows_each_chosen_region_at_its_true_burn_rate(
    prometheus_over: Callable[..., RunningPrometheus], tmp_path: Path
) -> None:
    running = prometheus_over("region_outage")
    _, definitions = definitions_with(tmp_path, "storefront.yaml", GROUPED)
    grouped = next(d for d in definitions.slos if d.name == "availability-by-region")
    expr = burn_by_group(grouped, 3600)
    assert expr is not None
    outage = int(running.built.named.facts["outage"])
    at = outage + 25 * 60  # 25 minutes into the us-east outage
    truth = GroundTruth(running.dataset, [region_truth(region) for region in REGIONS])
    every = query(running.url, expr.replace("$region", ".*"), at)
    assert sorted(every) == sorted(REGIONS)
    for region in REGIONS:
        expected = truth.slo(group_key(region)).window(at - 3600, at).burn_rate
        assert expected is not None
        assert every[region] == pytest.approx(expected, rel=0.02), region
    assert every["us-east"] > 14.4 > every["eu-west"]
    only = query(running.url, expr.replace("$region", "us-east"), at)
    assert only == {"us-east": every["us-east"]}
